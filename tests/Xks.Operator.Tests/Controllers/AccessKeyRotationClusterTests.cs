using System.Text;
using Amazon.Runtime;
using Amazon.SecurityToken;
using Amazon.SecurityToken.Model;
using Xks.Operator.Aws;
using Xks.Operator.Scenarios.Tests;
using Xks.Operator.Support.Tests;
using Xks.Testing;

namespace Xks.Operator.Controllers.Tests;

/// <summary>
/// The CspAccount's IAM access key rotated in a real cluster, asked for with the annotation xks.dev/rotate-access-key:
/// the aws-credentials Secret gets a new key of the same IAM user (the emulator's IAM), the old key is deactivated and
/// then deleted (it no longer signs), and the KeySet and CloudKey keep working through it (what was encrypted before
/// still decrypts, new encryptions work).
/// </summary>
[Trait("Category", "Cluster")]
public sealed class AccessKeyRotationClusterTests() : OperatorClusterTest("iamrot")
{
    private const string Account = "cspaccount/" + SeedEnvironment.CspAccountName;
    private const string CredentialsSecret = "aws-credentials";

    [Fact]
    public async Task RotateAccessKeyAnnotation_SecretGetsANewKey_TheOldIsDeactivatedThenDeleted_AndKeySetsKeepWorking()
    {
        // The replaced key settles 2 s instead of 3 min and is deleted 2 s after it is deactivated: the whole rotation runs.
        await using var seed = await SeedEnvironment.StartAsync(Cluster, Ns, () => StartOperatorAsync(extraArguments: "--access-key-settle 2s"));
        var before = await seed.Envelope.EncryptAsync(SeedEnvironment.Alias, "before the rotation"u8.ToArray(), new Dictionary<string, string>());

        await seed.PatchSpecAsync(Account, new { credentials = new { accessKeyRotation = new { every = "90d", gracePeriod = "2s" } } });
        await Eventually.HoldsAsync(async () => await RotationReasonAsync(seed) == Reasons.AccessKeyCurrent, TimeSpan.FromSeconds(60), "AccessKeyRotated True AccessKeyCurrent");
        await seed.AnnotateAsync(Account, AccessKeyRotationStep.RotateAnnotation, "now");

        await Eventually.HoldsAsync(
            async () => SecretValue(await seed.TrySecretAsync(CredentialsSecret), "accessKeyId") is { } id && id != seed.OperatorAccessKeyId,
            TimeSpan.FromSeconds(90), "the Secret holds a new access key");
        var secret = await seed.TrySecretAsync(CredentialsSecret);
        var (newId, newSecret) = (SecretValue(secret, "accessKeyId")!, SecretValue(secret, "secretAccessKey")!);
        using var http = new HttpClient();
        var iam = new AwsKeyClients(http, SeedEnvironment.Region, seed.Kms.Url.ToString(), new AwsClientOptions()).Iam(new AwsSecretKeys(newId, newSecret, null));
        await Eventually.HoldsAsync(
            async () => await iam.ListAccessKeysAsync(default) is [{ Active: true } only] && only.AccessKeyId == newId,
            TimeSpan.FromSeconds(60), "IAM holds only the new key: the old one deactivated, then deleted");
        await Eventually.HoldsAsync(async () => await AccessKeyFieldAsync(seed, "phase") == "Current", TimeSpan.FromSeconds(30), "status.accessKey back to Current");

        using var sts = new AmazonSecurityTokenServiceClient(new BasicAWSCredentials(newId, newSecret),
            new AmazonSecurityTokenServiceConfig { ServiceURL = seed.Kms.Url.ToString(), AuthenticationRegion = SeedEnvironment.Region });
        Assert.EndsWith($":user/{seed.OperatorAccessKeyId}", (await sts.GetCallerIdentityAsync(new GetCallerIdentityRequest())).Arn, StringComparison.Ordinal);
        using var old = new AmazonSecurityTokenServiceClient(new BasicAWSCredentials(seed.OperatorAccessKeyId, seed.OperatorSecretAccessKey),
            new AmazonSecurityTokenServiceConfig { ServiceURL = seed.Kms.Url.ToString(), AuthenticationRegion = SeedEnvironment.Region, MaxErrorRetry = 0 });
        await Assert.ThrowsAnyAsync<AmazonServiceException>(() => old.GetCallerIdentityAsync(new GetCallerIdentityRequest()));
        Assert.Equal(newId, await AccessKeyFieldAsync(seed, "id"));
        Assert.Equal("now", await AccessKeyFieldAsync(seed, "handledRotationRequest"));
        Assert.Equal((1, 1, 1), (seed.Kms.CallCount("CreateAccessKey"), seed.Kms.CallCount("UpdateAccessKey"), seed.Kms.CallCount("DeleteAccessKey")));
        var reasons = (await seed.Cluster.KubectlAsync($"get events -n {seed.Ns} --field-selector involvedObject.name={SeedEnvironment.CspAccountName} -o jsonpath={{.items[*].reason}}")).StandardOutput.Split(' ');
        Assert.Contains(Reasons.AccessKeyDeactivated, reasons);
        Assert.Contains(Reasons.AccessKeyDeleted, reasons);

        await seed.WaitReadyAsync(TimeSpan.FromSeconds(60), Account, "keyset/" + SeedEnvironment.KeySetName, "cloudkey/" + SeedEnvironment.CloudKeyName);
        Assert.Equal("before the rotation"u8.ToArray(), await seed.Envelope.DecryptAsync(before));
        var after = await seed.Envelope.EncryptAsync(SeedEnvironment.Alias, "after the rotation"u8.ToArray(), new Dictionary<string, string>());
        Assert.Equal("after the rotation"u8.ToArray(), await seed.Envelope.DecryptAsync(after));
    }

    [Fact]
    public async Task RotationOnSessionCredentials_IsRefusedAsInvalidSpec()
    {
        await using var seed = await SeedEnvironment.StartAsync(Cluster, Ns, () => StartOperatorAsync());

        await seed.PatchSpecAsync(Account, new { credentials = new { secretRef = new { sessionTokenKey = "sessionToken" }, accessKeyRotation = new { every = "90d" } } });

        await Eventually.HoldsAsync(async () => await seed.ReadyReasonAsync(Account) == Reasons.InvalidSpec, TimeSpan.FromSeconds(60), "Ready=False InvalidSpec");
        Assert.Contains("long-term IAM user keys", await seed.ReadyMessageAsync(Account), StringComparison.Ordinal);
        Assert.Equal(0, seed.Kms.CallCount("CreateAccessKey"));
    }

    private static async Task<string?> RotationReasonAsync(SeedEnvironment seed) =>
        (await seed.GetAsync(Account))["status"]?["conditions"]?.AsArray().FirstOrDefault(c => c?["type"]?.ToString() == "AccessKeyRotated")?["reason"]?.ToString();

    private static async Task<string?> AccessKeyFieldAsync(SeedEnvironment seed, string field) =>
        (await seed.GetAsync(Account))["status"]?["accessKey"]?[field]?.ToString();

    private static string? SecretValue(k8s.Models.V1Secret? secret, string key) =>
        secret?.Data is { } data && data.TryGetValue(key, out var bytes) ? Encoding.UTF8.GetString(bytes) : null;
}
