namespace Xks.KmsEmulator.Auth;

/// <summary>A long-term access key of an IAM user: from the options (the user's initial key) or made by CreateAccessKey.</summary>
internal sealed record IamUserKey(string AccessKeyId, string SecretAccessKey, string UserName, bool Active, DateTimeOffset CreateDate)
{
    public override string ToString() => $"IamUserKey({AccessKeyId}, user {UserName}, {(Active ? "Active" : "Inactive")}, created {CreateDate:O})";
}
