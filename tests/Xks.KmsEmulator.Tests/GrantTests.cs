using Amazon.KeyManagementService;
using Amazon.KeyManagementService.Model;
using Xks.KmsEmulator.Tests.Support;

namespace Xks.KmsEmulator.Tests;

/// <summary>
/// Key policy, grants and identity policies through the AWS SDK, the way an AWS service uses a customer's key: a key
/// user creates a grant for the service's role while the service calls on its behalf (X-Emulator-Via-Service), and the
/// role then decrypts through the grant alone.
/// </summary>
public sealed class GrantTests
{
    private const string UserKeyId = "AKIAEMULATORKEYUSER01";
    private const string UserSecret = "a2V5IHVzZXIgc2VjcmV0IG9mIHRoZSBncmFudCB0ZXN0cw";
    private const string MalloryKeyId = "AKIAEMULATORMALLORY01";
    private const string MallorySecret = "bWFsbG9yeSBzZWNyZXQgb2YgdGhlIGdyYW50IHRlc3Rz";
    private const string Ec2 = "ec2.us-east-1.amazonaws.com";
    private const string User = $"arn:aws:iam::{EmulatorHarness.Account}:user/{UserKeyId}";
    private const string Mallory = $"arn:aws:iam::{EmulatorHarness.Account}:user/{MalloryKeyId}";
    private const string ServiceRole = $"arn:aws:iam::{EmulatorHarness.Account}:role/ebs-service";
    private const string OutsideRole = "arn:aws:iam::999988887777:role/outsider";

    /// <summary>No KMS permission of their own: whatever they may do on the key, the key policy or a grant allows.</summary>
    private const string NoKmsPolicy = """{"Version":"2012-10-17","Statement":{"Sid":"WhoAmI","Effect":"Allow","Action":"sts:GetCallerIdentity","Resource":"*"}}""";
    private const string KmsStarPolicy = """{"Version":"2012-10-17","Statement":{"Sid":"AllKms","Effect":"Allow","Action":"kms:*","Resource":"*"}}""";

    /// <summary>The shape the operator writes for spec.users = [User].</summary>
    private const string KeyPolicy = $$$$"""
        {"Version":"2012-10-17","Id":"xks-operator","Statement":[
          {"Sid":"EnableRootAccountPermissions","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::{{{{EmulatorHarness.Account}}}}:root"]},"Action":["kms:*"],"Resource":"*"},
          {"Sid":"AllowKeyUse","Effect":"Allow","Principal":{"AWS":["{{{{User}}}}"]},"Action":["kms:Decrypt","kms:DescribeKey","kms:Encrypt","kms:GenerateDataKey*","kms:ReEncrypt*"],"Resource":"*"},
          {"Sid":"AllowAttachmentOfPersistentResources","Effect":"Allow","Principal":{"AWS":["{{{{User}}}}"]},"Action":["kms:CreateGrant","kms:ListGrants","kms:RevokeGrant"],"Resource":"*","Condition":{"Bool":{"kms:GrantIsForAWSResource":"true"}}}]}
        """;

    private static readonly Dictionary<string, string> Volume = new() { ["aws:ebs:id"] = "vol-0123456789abcdef0" };

    [Fact]
    public async Task Grant_CreatedByKeyUserViaService_LetsTheServiceRoleDecryptTheUsersCiphertext()
    {
        await using var emulator = await StartAsync();
        var keyId = await CreateKeyAsync(emulator);
        using var user = emulator.KmsClient(UserKeyId, UserSecret);
        using var userViaEc2 = emulator.KmsClientViaService(Ec2, UserKeyId, UserSecret);
        var plaintext = "volume data key"u8.ToArray();
        var blob = (await user.EncryptAsync(new EncryptRequest { KeyId = keyId, Plaintext = new MemoryStream(plaintext), EncryptionContext = Volume })).CiphertextBlob;

        var grant = await userViaEc2.CreateGrantAsync(new CreateGrantRequest
        {
            KeyId = keyId,
            GranteePrincipal = ServiceRole,
            Operations = [GrantOperation.Decrypt],
            Constraints = new GrantConstraints { EncryptionContextSubset = Volume },
        });
        using var service = await RoleClientAsync(emulator, ServiceRole);
        var decrypted = await service.DecryptAsync(new DecryptRequest { CiphertextBlob = blob, EncryptionContext = Volume });

        Assert.Equal(plaintext, decrypted.Plaintext.ToArray());
        var calls = emulator.Server.Calls();
        Assert.Equal("KeyPolicy/AllowKeyUse", Assert.Single(calls, c => c.Operation == "Encrypt").AllowedBy);
        Assert.Equal("KeyPolicy/AllowAttachmentOfPersistentResources", Assert.Single(calls, c => c.Operation == "CreateGrant").AllowedBy);
        Assert.Equal("Grant/grant:" + grant.GrantId, Assert.Single(calls, c => c.Operation == "Decrypt").AllowedBy);
        Assert.Null(Assert.Single(calls, c => c.Operation == "CreateKey").AllowedBy);
    }

    [Fact]
    public async Task CreateGrant_KeyUserWithoutAService_IsAccessDenied()
    {
        await using var emulator = await StartAsync();
        var keyId = await CreateKeyAsync(emulator);
        using var user = emulator.KmsClient(UserKeyId, UserSecret);

        var error = await Assert.ThrowsAsync<AmazonKeyManagementServiceException>(() => user.CreateGrantAsync(new CreateGrantRequest
        {
            KeyId = keyId,
            GranteePrincipal = ServiceRole,
            Operations = [GrantOperation.Decrypt],
        }));

        Assert.Equal("AccessDeniedException", error.ErrorCode);
        Assert.Equal($"User: {User} is not authorized to perform: kms:CreateGrant on resource: {KeyArn(keyId)} because no identity-based policy allows the kms:CreateGrant action", error.Message);
    }

    [Fact]
    public async Task Decrypt_ContextOutsideTheGrantConstraint_IsAccessDenied()
    {
        await using var emulator = await StartAsync();
        var keyId = await CreateKeyAsync(emulator);
        using var user = emulator.KmsClient(UserKeyId, UserSecret);
        using var userViaEc2 = emulator.KmsClientViaService(Ec2, UserKeyId, UserSecret);
        var otherVolume = new Dictionary<string, string> { ["aws:ebs:id"] = "vol-0fedcba9876543210" };
        var blob = (await user.EncryptAsync(new EncryptRequest { KeyId = keyId, Plaintext = new MemoryStream([1, 2, 3]), EncryptionContext = otherVolume })).CiphertextBlob;
        await userViaEc2.CreateGrantAsync(new CreateGrantRequest
        {
            KeyId = keyId,
            GranteePrincipal = ServiceRole,
            Operations = [GrantOperation.Decrypt],
            Constraints = new GrantConstraints { EncryptionContextSubset = Volume },
        });
        using var service = await RoleClientAsync(emulator, ServiceRole);

        var error = await Assert.ThrowsAsync<AmazonKeyManagementServiceException>(() => service.DecryptAsync(new DecryptRequest { CiphertextBlob = blob, EncryptionContext = otherVolume }));

        Assert.Equal("AccessDeniedException", error.ErrorCode);
        Assert.StartsWith($"User: arn:aws:sts::{EmulatorHarness.Account}:assumed-role/ebs-service/", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Decrypt_AfterTheGrantIsRevoked_IsAccessDenied()
    {
        await using var emulator = await StartAsync();
        var keyId = await CreateKeyAsync(emulator);
        using var user = emulator.KmsClient(UserKeyId, UserSecret);
        using var userViaEc2 = emulator.KmsClientViaService(Ec2, UserKeyId, UserSecret);
        var blob = (await user.EncryptAsync(new EncryptRequest { KeyId = keyId, Plaintext = new MemoryStream([1, 2, 3]) })).CiphertextBlob;
        var grant = await userViaEc2.CreateGrantAsync(new CreateGrantRequest { KeyId = keyId, GranteePrincipal = ServiceRole, Operations = [GrantOperation.Decrypt], Name = "ebs" });
        using var service = await RoleClientAsync(emulator, ServiceRole);
        await service.DecryptAsync(new DecryptRequest { CiphertextBlob = blob });
        var listed = Assert.Single((await userViaEc2.ListGrantsAsync(new ListGrantsRequest { KeyId = keyId })).Grants);
        Assert.Equal(grant.GrantId, listed.GrantId);
        Assert.Equal(ServiceRole, listed.GranteePrincipal);
        Assert.Equal("ebs", listed.Name);
        Assert.Equal([GrantOperation.Decrypt], listed.Operations);

        await userViaEc2.RevokeGrantAsync(new RevokeGrantRequest { KeyId = keyId, GrantId = grant.GrantId });

        var error = await Assert.ThrowsAsync<AmazonKeyManagementServiceException>(() => service.DecryptAsync(new DecryptRequest { CiphertextBlob = blob }));
        Assert.Equal("AccessDeniedException", error.ErrorCode);
        Assert.Empty((await userViaEc2.ListGrantsAsync(new ListGrantsRequest { KeyId = keyId })).Grants);
    }

    [Fact]
    public async Task Decrypt_PrincipalThatIsNotTheGrantee_IsAccessDenied()
    {
        await using var emulator = await StartAsync();
        var keyId = await CreateKeyAsync(emulator);
        using var user = emulator.KmsClient(UserKeyId, UserSecret);
        using var userViaEc2 = emulator.KmsClientViaService(Ec2, UserKeyId, UserSecret);
        var blob = (await user.EncryptAsync(new EncryptRequest { KeyId = keyId, Plaintext = new MemoryStream([1, 2, 3]) })).CiphertextBlob;
        await userViaEc2.CreateGrantAsync(new CreateGrantRequest { KeyId = keyId, GranteePrincipal = ServiceRole, Operations = [GrantOperation.Decrypt] });
        using var mallory = emulator.KmsClient(MalloryKeyId, MallorySecret);

        var error = await Assert.ThrowsAsync<AmazonKeyManagementServiceException>(() => mallory.DecryptAsync(new DecryptRequest { CiphertextBlob = blob }));

        Assert.Equal("AccessDeniedException", error.ErrorCode);
        Assert.Equal($"User: {Mallory} is not authorized to perform: kms:Decrypt on resource: {KeyArn(keyId)} because no identity-based policy allows the kms:Decrypt action", error.Message);
    }

    [Fact]
    public async Task Decrypt_PrincipalOfAnotherAccountWithKmsStar_IsAccessDeniedByTheKeyPolicy()
    {
        await using var emulator = await StartAsync();
        var keyId = await CreateKeyAsync(emulator);
        using var user = emulator.KmsClient(UserKeyId, UserSecret);
        var blob = (await user.EncryptAsync(new EncryptRequest { KeyId = keyId, Plaintext = new MemoryStream([1, 2, 3]) })).CiphertextBlob;
        using var outsider = await RoleClientAsync(emulator, OutsideRole);

        var error = await Assert.ThrowsAsync<AmazonKeyManagementServiceException>(() => outsider.DecryptAsync(new DecryptRequest { CiphertextBlob = blob }));

        Assert.Equal("AccessDeniedException", error.ErrorCode);
        Assert.EndsWith($"on resource: {KeyArn(keyId)} because no resource-based policy allows the kms:Decrypt action", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RetireGrant_ByItsRetiringPrincipal_NeedsNoPolicy()
    {
        await using var emulator = await StartAsync();
        var keyId = await CreateKeyAsync(emulator);
        using var userViaEc2 = emulator.KmsClientViaService(Ec2, UserKeyId, UserSecret);
        var grant = await userViaEc2.CreateGrantAsync(new CreateGrantRequest { KeyId = keyId, GranteePrincipal = ServiceRole, RetiringPrincipal = ServiceRole, Operations = [GrantOperation.Decrypt] });
        using var service = await RoleClientAsync(emulator, ServiceRole);

        await service.RetireGrantAsync(new RetireGrantRequest { GrantToken = grant.GrantToken });

        Assert.Empty((await emulator.Kms.ListGrantsAsync(new ListGrantsRequest { KeyId = keyId })).Grants);
        Assert.Equal("Grant/grant:" + grant.GrantId, Assert.Single(emulator.Server.Calls(), c => c.Operation == "RetireGrant").AllowedBy);
        await Assert.ThrowsAsync<InvalidGrantTokenException>(() => service.RetireGrantAsync(new RetireGrantRequest { GrantToken = grant.GrantToken }));
    }

    [Fact]
    public async Task ListGrants_MoreThanTheLimit_IsPaged()
    {
        await using var emulator = await StartAsync();
        var keyId = await CreateKeyAsync(emulator);
        var created = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            created.Add((await emulator.Kms.CreateGrantAsync(new CreateGrantRequest { KeyId = keyId, GranteePrincipal = ServiceRole, Operations = [GrantOperation.Encrypt] })).GrantId);
        }

        var first = await emulator.Kms.ListGrantsAsync(new ListGrantsRequest { KeyId = keyId, Limit = 2 });
        var second = await emulator.Kms.ListGrantsAsync(new ListGrantsRequest { KeyId = keyId, Limit = 2, Marker = first.NextMarker });

        Assert.True(first.Truncated);
        Assert.False(second.Truncated);
        Assert.Equal(created, first.Grants.Concat(second.Grants).Select(g => g.GrantId));
    }

    [Fact]
    public async Task CreateGrant_UnknownOperation_IsAValidationError()
    {
        await using var emulator = await StartAsync();
        var keyId = await CreateKeyAsync(emulator);

        var error = await Assert.ThrowsAsync<AmazonKeyManagementServiceException>(() => emulator.Kms.CreateGrantAsync(new CreateGrantRequest { KeyId = keyId, GranteePrincipal = ServiceRole, Operations = ["ScheduleKeyDeletion"] }));

        Assert.Equal("ValidationException", error.ErrorCode);
    }

    [Fact]
    public async Task CreateKey_IdentityWithoutKmsPermission_IsAccessDeniedOnResourceStar()
    {
        await using var emulator = await StartAsync();
        using var mallory = emulator.KmsClient(MalloryKeyId, MallorySecret);

        var error = await Assert.ThrowsAsync<AmazonKeyManagementServiceException>(() => mallory.CreateKeyAsync(new CreateKeyRequest()));

        Assert.Equal($"User: {Mallory} is not authorized to perform: kms:CreateKey on resource: * because no identity-based policy allows the kms:CreateKey action", error.Message);
    }

    [Fact]
    public async Task PutKeyPolicy_MalformedPolicy_IsRefusedSayingWhy()
    {
        await using var emulator = await StartAsync();
        var keyId = await CreateKeyAsync(emulator);

        var error = await Assert.ThrowsAsync<MalformedPolicyDocumentException>(() => emulator.Kms.PutKeyPolicyAsync(new PutKeyPolicyRequest
        {
            KeyId = keyId,
            PolicyName = "default",
            Policy = """{"Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*"}}""",
        }));

        Assert.Contains("must have a Principal", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_MalformedIdentityPolicy_Throws() =>
        await Assert.ThrowsAsync<ArgumentException>(() => EmulatorHarness.StartAsync(configure: o => o.IdentityPolicies[User] = """{"Statement":{"Effect":"Allow"}}"""));

    private static string KeyArn(string keyId) => $"arn:aws:kms:{EmulatorHarness.Region}:{EmulatorHarness.Account}:key/{keyId}";

    private static Task<EmulatorHarness> StartAsync() => EmulatorHarness.StartAsync(configure: o =>
    {
        o.Credentials[UserKeyId] = UserSecret;
        o.Credentials[MalloryKeyId] = MallorySecret;
        o.IdentityPolicies[User] = NoKmsPolicy;
        o.IdentityPolicies[Mallory] = NoKmsPolicy;
        o.IdentityPolicies[ServiceRole] = NoKmsPolicy;
        o.IdentityPolicies[OutsideRole] = KmsStarPolicy;
    });

    /// <summary>The harness' own user has no identity policy (unrestricted): it creates the key with the operator's policy shape.</summary>
    private static async Task<string> CreateKeyAsync(EmulatorHarness emulator) =>
        (await emulator.Kms.CreateKeyAsync(new CreateKeyRequest { Policy = KeyPolicy, Description = "grant test" })).KeyMetadata.KeyId;

    private static async Task<AmazonKeyManagementServiceClient> RoleClientAsync(EmulatorHarness emulator, string roleArn)
    {
        var credentials = await emulator.AssumeRoleAsync(roleArn);
        return emulator.KmsClient(credentials.AccessKeyId, credentials.SecretAccessKey, credentials.SessionToken);
    }
}
