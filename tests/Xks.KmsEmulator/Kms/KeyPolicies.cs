using Xks.KmsEmulator.Policies;

namespace Xks.KmsEmulator.Kms;

/// <summary>The default key policy (the account's root may do everything) and the check that a policy is a well-formed key policy.</summary>
internal static class KeyPolicies
{
    public static string Default(string accountId) =>
        $$"""{"Version":"2012-10-17","Id":"key-default-1","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::{{accountId}}:root"},"Action":"kms:*","Resource":"*"}]}""";

    /// <summary>The policy as given, after <see cref="PolicyDocument.Parse"/> found it a well-formed key policy.</summary>
    public static string Validate(string? policy)
    {
        PolicyDocument.Parse(policy, PolicyKind.Key);
        return policy!;
    }
}
