using Amazon.KeyManagementService;
using Amazon.KeyManagementService.Model;
using Amazon.Runtime;
using Amazon.SecurityToken;
using Amazon.SecurityToken.Model;
using Xks.KmsEmulator;
using Xks.Operator.Resources;
using Xks.Operator.Scenarios.Tests;
using Xks.Operator.Support.Tests;
using Xks.Testing;

namespace Xks.Operator.Controllers.Tests;

/// <summary>
/// The generated key policy used the way AWS services use a customer's key: a CloudKey user (its own credential, no KMS
/// permission in its identity policy) creates a grant for an EBS-like service role while the service calls on its
/// behalf (X-Emulator-Via-Service), the role decrypts through the grant what the user encrypted, and a principal of
/// another account, though its identity policy allows kms:*, is refused. The seed environment with identity policies in
/// the emulator, so every call of these three principals is authorized as AWS KMS does.
/// </summary>
[Trait("Category", "Cluster")]
public sealed class KeyPolicyGrantsClusterTests() : OperatorClusterTest("keypolicy")
{
    private const string Account = "111122223333";
    private const string UserKeyId = "AKIAKEYPOLICYUSER001";
    private const string UserSecret = "a2V5IHBvbGljeSBncmFudHMgY2x1c3RlciB0ZXN0IHVzZXI";
    private const string User = $"arn:aws:iam::{Account}:user/{UserKeyId}";
    private const string ServiceRole = $"arn:aws:iam::{Account}:role/ebs-like-service";
    private const string OutsideRole = "arn:aws:iam::999988887777:role/outsider";
    private const string Ec2 = $"ec2.{SeedEnvironment.Region}.amazonaws.com";
    private const string CloudKey = "cloudkey/" + SeedEnvironment.CloudKeyName;
    private const string NoKmsPolicy = """{"Version":"2012-10-17","Statement":{"Sid":"WhoAmI","Effect":"Allow","Action":"sts:GetCallerIdentity","Resource":"*"}}""";
    private const string KmsStarPolicy = """{"Version":"2012-10-17","Statement":{"Sid":"AllKms","Effect":"Allow","Action":"kms:*","Resource":"*"}}""";
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(60);
    private static readonly Dictionary<string, string> Volume = new() { ["aws:ebs:id"] = "vol-0123456789abcdef0" };

    [Fact]
    public async Task CloudKeyUser_GrantsAnAwsServiceRole_WhichDecryptsWhileAnOutsiderIsDenied()
    {
        await using var seed = await SeedEnvironment.StartAsync(Cluster, Ns, () => StartOperatorAsync(), configureKms: Configure);
        await seed.PatchSpecAsync(CloudKey, new { users = new[] { User } });
        var keyId = (await seed.StatusFieldAsync(CloudKey, "keyId"))!;
        await Eventually.HoldsAsync(
            async () => (await seed.Admin.GetKeyPolicyAsync(new GetKeyPolicyRequest { KeyId = keyId, PolicyName = "default" })).Policy.Contains(User, StringComparison.Ordinal),
            Within, "the key policy names the user");
        var policy = (await seed.Admin.GetKeyPolicyAsync(new GetKeyPolicyRequest { KeyId = keyId, PolicyName = "default" })).Policy;
        Assert.Contains(KeyPolicyBuilder.GrantsSid, policy, StringComparison.Ordinal);

        using var user = EnvelopeEncryption.CreateClient(seed.Kms.Url, UserKeyId, UserSecret, SeedEnvironment.Region, maxErrorRetry: 0);
        using var userViaEc2 = ViaService(EnvelopeEncryption.CreateClient(seed.Kms.Url, UserKeyId, UserSecret, SeedEnvironment.Region, maxErrorRetry: 0), Ec2);
        var plaintext = "an EBS volume's data key"u8.ToArray();
        var blob = (await user.EncryptAsync(new EncryptRequest { KeyId = SeedEnvironment.Alias, Plaintext = new MemoryStream(plaintext), EncryptionContext = Volume })).CiphertextBlob;
        var grant = await userViaEc2.CreateGrantAsync(new CreateGrantRequest
        {
            KeyId = keyId,
            GranteePrincipal = ServiceRole,
            Operations = [GrantOperation.Decrypt],
            Constraints = new GrantConstraints { EncryptionContextSubset = Volume },
        });

        using var service = await RoleClientAsync(seed, ServiceRole);
        var decrypted = await service.DecryptAsync(new DecryptRequest { CiphertextBlob = new MemoryStream(blob.ToArray()), EncryptionContext = Volume });
        Assert.Equal(plaintext, decrypted.Plaintext.ToArray());

        using var outsider = await RoleClientAsync(seed, OutsideRole);
        var refused = await Assert.ThrowsAsync<AmazonKeyManagementServiceException>(() =>
            outsider.DecryptAsync(new DecryptRequest { CiphertextBlob = new MemoryStream(blob.ToArray()), EncryptionContext = Volume }));
        Assert.Equal("AccessDeniedException", refused.ErrorCode);
        Assert.Contains("because no resource-based policy allows the kms:Decrypt action", refused.Message, StringComparison.Ordinal);

        var calls = seed.Kms.Calls();
        Assert.Equal("KeyPolicy/" + KeyPolicyBuilder.UsersSid, Assert.Single(calls, c => c.Operation == "Encrypt" && c.Caller == User).AllowedBy);
        Assert.Equal("KeyPolicy/" + KeyPolicyBuilder.GrantsSid, Assert.Single(calls, c => c.Operation == "CreateGrant").AllowedBy);
        Assert.Equal("Grant/grant:" + grant.GrantId, Assert.Single(calls, c => c.Operation == "Decrypt" && c.Caller?.Contains("ebs-like-service", StringComparison.Ordinal) == true).AllowedBy);
    }

    private static void Configure(KmsEmulatorOptions options)
    {
        options.Credentials[UserKeyId] = UserSecret;
        options.IdentityPolicies[User] = NoKmsPolicy;
        options.IdentityPolicies[ServiceRole] = NoKmsPolicy;
        options.IdentityPolicies[OutsideRole] = KmsStarPolicy;
    }

    private static AmazonKeyManagementServiceClient ViaService(AmazonKeyManagementServiceClient client, string service)
    {
        client.BeforeRequestEvent += (_, e) =>
        {
            if (e is WebServiceRequestEventArgs request)
            {
                request.Headers["X-Emulator-Via-Service"] = service;
            }
        };
        return client;
    }

    /// <summary>A KMS client with the temporary credentials of <paramref name="roleArn"/>, assumed by the seed's operator credential.</summary>
    private static async Task<AmazonKeyManagementServiceClient> RoleClientAsync(SeedEnvironment seed, string roleArn)
    {
        using var sts = new AmazonSecurityTokenServiceClient(
            new BasicAWSCredentials(seed.OperatorAccessKeyId, seed.OperatorSecretAccessKey),
            new AmazonSecurityTokenServiceConfig { ServiceURL = seed.Kms.Url.ToString(), AuthenticationRegion = SeedEnvironment.Region, MaxErrorRetry = 0 });
        var credentials = (await sts.AssumeRoleAsync(new AssumeRoleRequest { RoleArn = roleArn, RoleSessionName = "cluster-test" })).Credentials;
        return new AmazonKeyManagementServiceClient(
            new SessionAWSCredentials(credentials.AccessKeyId, credentials.SecretAccessKey, credentials.SessionToken),
            new AmazonKeyManagementServiceConfig { ServiceURL = seed.Kms.Url.ToString(), AuthenticationRegion = SeedEnvironment.Region, MaxErrorRetry = 0 });
    }
}
