using Amazon.KeyManagementService.Model;
using Amazon.SecurityToken.Model;
using Xks.KmsEmulator;
using Xks.Operator.Entities;
using Xks.Testing;

namespace Xks.Operator.Aws.Tests;

/// <summary>The AWS layer against the KMS emulator (real SDK clients, SigV4, the endpoint override).</summary>
[Trait("Category", "Integration")]
public sealed class AwsClientsEmulatorTests : IAsyncLifetime
{
    private const string RoleArn = "arn:aws:iam::111122223333:role/xks-operator";
    // The external ID the operator derives for CspAccount team-a/production: the only one the role trusts.
    private const string ExternalId = "xks:" + AwsTestAccounts.Namespace + "/production";
    private KmsEmulator.KmsEmulator _emulator = null!;

    public async Task InitializeAsync()
    {
        var options = new KmsEmulatorOptions { Region = "eu-west-1" };
        options.Credentials[AwsTestAccounts.AccessKeyId] = AwsTestAccounts.SecretAccessKey;
        options.RoleExternalIds[RoleArn] = ExternalId;
        _emulator = await KmsEmulator.KmsEmulator.StartAsync(options);
    }

    public async Task DisposeAsync() => await _emulator.DisposeAsync();

    private V1Alpha1CspAccount Account() => AwsTestAccounts.Account(endpoint: _emulator.Url.ToString());

    [Fact]
    public async Task ForAccountAsync_SecretKeys_CallsKmsAndStsThroughTheEndpoint()
    {
        using var aws = new AwsTestAccounts();
        aws.PutSecret();
        var session = await aws.Clients.ForAccountAsync(Account(), null, default);

        var identity = await session.CallStsAsync("GetCallerIdentity", (sts, ct) => sts.GetCallerIdentityAsync(new GetCallerIdentityRequest(), ct), default);
        var keys = await session.CallAsync("ListKeys", (kms, ct) => kms.ListKeysAsync(new ListKeysRequest(), ct), default);

        Assert.Equal("111122223333", identity.Account);
        Assert.NotNull(keys);
        Assert.Equal(1, _emulator.CallCount("GetCallerIdentity"));
        Assert.Equal(1, _emulator.CallCount("ListKeys"));
        Assert.Equal(1, aws.Metrics.Calls("sts", "GetCallerIdentity", "success"));
    }

    [Theory]
    [InlineData(AwsTestAccounts.AccessKeyId, "wrongwrongwrongwrongwrongwrongwrongwrong")]
    [InlineData("AKIAUNKNOWNKEY000000", AwsTestAccounts.SecretAccessKey)]
    public async Task CallAsync_WrongKeys_InvalidCredentialsWithoutTheSecret(string accessKeyId, string secretAccessKey)
    {
        using var aws = new AwsTestAccounts();
        aws.PutSecret(accessKeyId: accessKeyId, secretAccessKey: secretAccessKey);
        var session = await aws.Clients.ForAccountAsync(Account(), null, default);

        var error = await Assert.ThrowsAnyAsync<Exception>(() => session.CallStsAsync("GetCallerIdentity", (sts, ct) => sts.GetCallerIdentityAsync(new GetCallerIdentityRequest(), ct), default));
        var (reason, message) = AwsErrors.Describe(error);

        Assert.Equal("InvalidCredentials", reason);
        Assert.DoesNotContain(secretAccessKey, message, StringComparison.Ordinal);
        Assert.DoesNotContain(AwsTestAccounts.SecretAccessKey, message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ForAccountAsync_SourceDefault_UsesTheSdkChainFromTheEnvironment()
    {
        // The first link of the default chain; IRSA, Pod Identity and instance profiles are later links of the same chain.
        Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", AwsTestAccounts.AccessKeyId);
        Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", AwsTestAccounts.SecretAccessKey);
        try
        {
            using var aws = new AwsTestAccounts(new AwsClientOptions { RetiredSessionGrace = TimeSpan.Zero, Identity = new() { AmbientNamespaces = new HashSet<string> { AwsTestAccounts.Namespace } } });
            var account = Account();
            account.Spec.Credentials = new V1Alpha1AwsCredentials { Source = V1Alpha1CredentialsSource.Default };
            var session = await aws.Clients.ForAccountAsync(account, null, default);

            var identity = await session.CallStsAsync("GetCallerIdentity", (sts, ct) => sts.GetCallerIdentityAsync(new GetCallerIdentityRequest(), ct), default);

            Assert.Equal("111122223333", identity.Account);
        }
        finally
        {
            Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", null);
            Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", null);
        }
    }

    [Fact]
    public async Task ForAccountAsync_AssumeRole_PresentsTheDerivedExternalIdAndCallsAsTheRole()
    {
        using var aws = new AwsTestAccounts();
        aws.PutSecret();
        var account = Account();
        account.Spec.AssumeRole = new V1Alpha1AssumeRole { RoleArn = RoleArn };
        var session = await aws.Clients.ForAccountAsync(account, null, default);

        var identity = await session.CallStsAsync("GetCallerIdentity", (sts, ct) => sts.GetCallerIdentityAsync(new GetCallerIdentityRequest(), ct), default);
        await session.CallAsync("ListKeys", (kms, ct) => kms.ListKeysAsync(new ListKeysRequest(), ct), default);

        Assert.Contains(":assumed-role/xks-operator/xks-operator", identity.Arn, StringComparison.Ordinal);
        Assert.Equal(1, _emulator.CallCount("AssumeRole")); // assumed once, used for both calls
    }

    [Fact]
    public async Task ForAccountAsync_TenantChosenExternalId_RefusedBeforeAnyCall()
    {
        using var aws = new AwsTestAccounts();
        aws.PutSecret();
        var account = Account();
        account.Spec.AssumeRole = new V1Alpha1AssumeRole { RoleArn = RoleArn, ExternalId = "not-the-id" };

        var error = await Assert.ThrowsAsync<AwsAccountException>(() => aws.Clients.ForAccountAsync(account, null, default));

        Assert.Equal("IdentityNotAllowed", error.Reason);
        Assert.Contains($"require sts:ExternalId '{ExternalId}'", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, _emulator.CallCount("AssumeRole"));
    }

    [Fact]
    public async Task ForAccountAsync_AnotherNamespaceNamesTheRole_AccessDeniedNamingTheRole()
    {
        // Tenant b copies tenant a's CspAccount: the operator presents b's external ID, which a's role does not trust.
        using var aws = new AwsTestAccounts();
        aws.Secrets[("team-b", "aws-credentials")] = aws.PutSecret();
        var account = Account();
        account.Metadata.NamespaceProperty = "team-b";
        account.Metadata.Uid = "uid-team-b-production";
        account.Spec.AssumeRole = new V1Alpha1AssumeRole { RoleArn = RoleArn };
        var session = await aws.Clients.ForAccountAsync(account, null, default);

        var error = await Assert.ThrowsAnyAsync<Exception>(() => session.CallStsAsync("GetCallerIdentity", (sts, ct) => sts.GetCallerIdentityAsync(new GetCallerIdentityRequest(), ct), default));
        var (reason, message) = AwsErrors.Describe(error);

        Assert.Equal("AccessDenied", reason);
        Assert.StartsWith($"sts:AssumeRole of {RoleArn} failed: AccessDenied", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AssumeRole_CredentialsNearExpiry_AreRenewed()
    {
        // 15-minute sessions; the SDK treats them as expired 1 minute early (its ExpirationBuffer) and renews them in
        // the background RefreshBeforeExpiry before that: here 3 s after they were issued.
        var options = new AwsClientOptions
        {
            AssumeRoleDuration = TimeSpan.FromMinutes(15),
            RefreshBeforeExpiry = TimeSpan.FromMinutes(14) - TimeSpan.FromSeconds(3),
            RetiredSessionGrace = TimeSpan.Zero,
        };
        using var aws = new AwsTestAccounts(options);
        aws.PutSecret();
        var account = Account();
        account.Spec.AssumeRole = new V1Alpha1AssumeRole { RoleArn = RoleArn, SessionName = "renewal-test" };
        var session = await aws.Clients.ForAccountAsync(account, null, default);

        await session.CallAsync("ListKeys", (kms, ct) => kms.ListKeysAsync(new ListKeysRequest(), ct), default);
        await session.CallAsync("ListKeys", (kms, ct) => kms.ListKeysAsync(new ListKeysRequest(), ct), default);
        Assert.Equal(1, _emulator.CallCount("AssumeRole"));
        await Task.Delay(TimeSpan.FromSeconds(4));
        await session.CallAsync("ListKeys", (kms, ct) => kms.ListKeysAsync(new ListKeysRequest(), ct), default);

        await Eventually.HoldsAsync(() => _emulator.CallCount("AssumeRole") == 2, TimeSpan.FromSeconds(5), "the role is assumed again");
    }

    [Fact]
    public async Task ForAccountAsync_SessionTokenInTheSecret_TemporaryCredentialsWork()
    {
        using var aws = new AwsTestAccounts();
        aws.PutSecret();
        var session = await aws.Clients.ForAccountAsync(Account(), null, default);
        var assumed = await session.CallStsAsync("AssumeRole", (sts, ct) => sts.AssumeRoleAsync(new AssumeRoleRequest { RoleArn = RoleArn, RoleSessionName = "temp", ExternalId = ExternalId }, ct), default);
        aws.PutSecret("temporary", assumed.Credentials.AccessKeyId, assumed.Credentials.SecretAccessKey, new Dictionary<string, string> { ["sessionToken"] = assumed.Credentials.SessionToken });

        var temporary = await aws.Clients.ForAccountAsync(AwsTestAccounts.Account("temporary", _emulator.Url.ToString(), secretName: "temporary"), null, default);
        var identity = await temporary.CallStsAsync("GetCallerIdentity", (sts, ct) => sts.GetCallerIdentityAsync(new GetCallerIdentityRequest(), ct), default);

        Assert.Contains(":assumed-role/xks-operator/temp", identity.Arn, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CallAsync_ThrottledTwice_TheSdkRetriesAndSucceeds()
    {
        using var aws = new AwsTestAccounts();
        aws.PutSecret();
        var session = await aws.Clients.ForAccountAsync(Account(), null, default);
        _emulator.FailNext("ListKeys", "ThrottlingException", count: 2);

        await session.CallAsync("ListKeys", (kms, ct) => kms.ListKeysAsync(new ListKeysRequest(), ct), default);

        Assert.Equal(3, _emulator.CallCount("ListKeys"));
        Assert.Equal(1, aws.Metrics.Calls("kms", "ListKeys", "success"));
    }

    [Fact]
    public async Task CallAsync_ThrottledBeyondTheRetries_Throttled()
    {
        using var aws = new AwsTestAccounts(new AwsClientOptions { MaxErrorRetry = 1, RetiredSessionGrace = TimeSpan.Zero });
        aws.PutSecret();
        var session = await aws.Clients.ForAccountAsync(Account(), null, default);
        _emulator.FailNext("ListKeys", "ThrottlingException", count: 5);

        var error = await Assert.ThrowsAnyAsync<Exception>(() => session.CallAsync("ListKeys", (kms, ct) => kms.ListKeysAsync(new ListKeysRequest(), ct), default));

        Assert.Equal("Throttled", AwsErrors.Describe(error).Reason);
        Assert.Equal(2, _emulator.CallCount("ListKeys"));
        Assert.Equal(1, aws.Metrics.Calls("kms", "ListKeys", "Throttled"));
    }

    [Fact]
    public async Task CallAsync_KmsServiceError_ReasonIsTheCodeWithoutException()
    {
        using var aws = new AwsTestAccounts();
        aws.PutSecret();
        var session = await aws.Clients.ForAccountAsync(Account(), null, default);

        var error = await Assert.ThrowsAnyAsync<Exception>(() => session.CallAsync("DescribeKey", (kms, ct) => kms.DescribeKeyAsync(new DescribeKeyRequest { KeyId = "1234abcd-12ab-34cd-56ef-1234567890ab" }, ct), default));

        Assert.Equal("NotFound", AwsErrors.Describe(error).Reason);
    }

    [Fact]
    public async Task CallAsync_NothingListening_EndpointUnreachable()
    {
        using var aws = new AwsTestAccounts(new AwsClientOptions { MaxErrorRetry = 1, RetiredSessionGrace = TimeSpan.Zero });
        aws.PutSecret();
        var session = await aws.Clients.ForAccountAsync(AwsTestAccounts.Account(endpoint: "http://127.0.0.1:1/"), null, default);

        var error = await Assert.ThrowsAnyAsync<Exception>(() => session.CallStsAsync("GetCallerIdentity", (sts, ct) => sts.GetCallerIdentityAsync(new GetCallerIdentityRequest(), ct), default));
        var (reason, message) = AwsErrors.Describe(error);

        Assert.Equal("EndpointUnreachable", reason);
        Assert.Contains("127.0.0.1:1", message, StringComparison.Ordinal);
    }
}
