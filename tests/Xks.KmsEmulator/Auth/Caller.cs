namespace Xks.KmsEmulator.Auth;

/// <summary>Who signed a call: what GetCallerIdentity returns and what goes to the proxy as awsPrincipalArn.</summary>
internal sealed record Caller(string AccessKeyId, string Arn, string UserId, string Account);

/// <summary>Temporary credentials issued by AssumeRole.</summary>
internal sealed record TemporaryCredential(string AccessKeyId, string SecretAccessKey, string SessionToken, DateTimeOffset Expiration, Caller Caller)
{
    public override string ToString() => $"TemporaryCredential({AccessKeyId}, {Caller.Arn}, expires {Expiration:O})";
}
