using Xks.KmsEmulator;

namespace Xks.Operator.Aws.Tests;

/// <summary><see cref="IamClient"/> against the KMS emulator's IAM: real HTTP on 127.0.0.1, signed by AWSSDK.Core's SigV4 signer.</summary>
[Trait("Category", "Integration")]
public sealed class IamClientTests : IAsyncLifetime
{
    private KmsEmulator.KmsEmulator _emulator = null!;
    private AwsTestAccounts _aws = null!;
    private AwsSession _session = null!;

    public async Task InitializeAsync()
    {
        var options = new KmsEmulatorOptions { Region = "eu-west-1" };
        options.Credentials[AwsTestAccounts.AccessKeyId] = AwsTestAccounts.SecretAccessKey;
        _emulator = await KmsEmulator.KmsEmulator.StartAsync(options);
        _aws = new AwsTestAccounts(new AwsClientOptions { RetiredSessionGrace = TimeSpan.Zero, MaxErrorRetry = 0 });
        _aws.PutSecret();
        _session = await _aws.Clients.ForAccountAsync(AwsTestAccounts.Account(endpoint: _emulator.Url.ToString()), null, default);
    }

    public async Task DisposeAsync()
    {
        _aws.Dispose();
        await _emulator.DisposeAsync();
    }

    private IamClient Iam(string accessKeyId = AwsTestAccounts.AccessKeyId, string secret = AwsTestAccounts.SecretAccessKey) =>
        _session.IamFor(new AwsSecretKeys(accessKeyId, secret, null));

    [Fact]
    public async Task CreateAccessKey_ThenList_ListsBothKeysActive()
    {
        var created = await Iam().CreateAccessKeyAsync(default);
        var keys = await Iam().ListAccessKeysAsync(default);

        Assert.StartsWith("AKIA", created.AccessKeyId, StringComparison.Ordinal);
        Assert.Equal(40, created.SecretAccessKey.Length);
        Assert.Equal([AwsTestAccounts.AccessKeyId, created.AccessKeyId], keys.Select(k => k.AccessKeyId));
        Assert.All(keys, k => Assert.True(k.Active));
        Assert.InRange(created.CreateDate, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(1));
    }

    [Fact]
    public async Task CreatedKey_SignsAsTheSameUser()
    {
        var created = await Iam().CreateAccessKeyAsync(default);

        var identity = await _session.IdentityOfAsync(new AwsSecretKeys(created.AccessKeyId, created.SecretAccessKey, null), default);
        var original = await _session.IdentityOfAsync(new AwsSecretKeys(AwsTestAccounts.AccessKeyId, AwsTestAccounts.SecretAccessKey, null), default);

        Assert.Equal(original.Arn, identity.Arn);
    }

    [Fact]
    public async Task UpdateAndDelete_WithTheNewKey_RetireTheOldKey()
    {
        var created = await Iam().CreateAccessKeyAsync(default);
        var fresh = Iam(created.AccessKeyId, created.SecretAccessKey);

        await fresh.UpdateAccessKeyAsync(AwsTestAccounts.AccessKeyId, active: false, default);
        var afterUpdate = await fresh.ListAccessKeysAsync(default);
        await fresh.DeleteAccessKeyAsync(AwsTestAccounts.AccessKeyId, default);
        var afterDelete = await fresh.ListAccessKeysAsync(default);

        Assert.False(afterUpdate.Single(k => k.AccessKeyId == AwsTestAccounts.AccessKeyId).Active);
        Assert.Equal([created.AccessKeyId], afterDelete.Select(k => k.AccessKeyId));
    }

    [Fact]
    public async Task CreateAccessKey_TwoKeysAlready_ThrowsLimitExceeded()
    {
        await Iam().CreateAccessKeyAsync(default);

        var error = await Assert.ThrowsAsync<IamException>(() => Iam().CreateAccessKeyAsync(default));

        Assert.Equal("LimitExceeded", error.ErrorCode);
        Assert.Equal(System.Net.HttpStatusCode.Conflict, error.StatusCode);
        Assert.Equal("LimitExceeded", AwsErrors.Describe(error).Reason);
    }

    [Fact]
    public async Task DeleteAccessKey_UnknownKey_ThrowsNoSuchEntity()
    {
        var error = await Assert.ThrowsAsync<IamException>(() => Iam().DeleteAccessKeyAsync("AKIANOSUCHKEY0000001", default));

        Assert.Equal("NoSuchEntity", error.ErrorCode);
        Assert.Equal("NoSuchEntity", AwsErrors.Describe(error).Reason);
    }

    [Theory]
    [InlineData("AccessDenied", 403, "AccessDenied")]
    [InlineData("Throttling", 400, "Throttled")]
    [InlineData("InvalidClientTokenId", 403, "InvalidCredentials")]
    public async Task CallIamAsync_IamError_TypedExceptionWithTheReasonAndMetric(string code, int status, string reason)
    {
        _emulator.FailNext("ListAccessKeys", code, httpStatus: status);

        var error = await Assert.ThrowsAsync<IamException>(() => _session.CallIamAsync("ListAccessKeys", Iam().ListAccessKeysAsync, default));

        Assert.Equal(code, error.ErrorCode);
        Assert.Equal(reason, AwsErrors.Describe(error).Reason);
        Assert.Equal(1, _aws.Metrics.Calls("iam", "ListAccessKeys", reason));
    }

    [Fact]
    public async Task CallIamAsync_WrongSecret_InvalidCredentialsWithoutTheSecret()
    {
        const string wrong = "wrongwrongwrongwrongwrongwrongwrongwrong";

        var error = await Assert.ThrowsAsync<IamException>(() => Iam(secret: wrong).ListAccessKeysAsync(default));

        Assert.Equal("SignatureDoesNotMatch", error.ErrorCode);
        Assert.DoesNotContain(wrong, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("eu-west-1", null, "https://iam.amazonaws.com/", "us-east-1")]
    [InlineData("us-gov-east-1", null, "https://iam.us-gov.amazonaws.com/", "us-gov-west-1")]
    [InlineData("cn-northwest-1", null, "https://iam.cn-north-1.amazonaws.com.cn/", "cn-north-1")]
    [InlineData("eu-west-1", "http://127.0.0.1:4566/", "http://127.0.0.1:4566/", "eu-west-1")]
    public void IamEndpoint_Region_PartitionEndpointAndSigningRegion(string region, string? endpoint, string url, string signingRegion)
    {
        var (actualUrl, actualRegion) = IamEndpoint.For(region, endpoint);

        Assert.Equal(url, actualUrl.ToString());
        Assert.Equal(signingRegion, actualRegion);
    }

    [Fact]
    public void FormBody_Parameters_EscapedAfterActionAndVersion() =>
        Assert.Equal("Action=UpdateAccessKey&Version=2010-05-08&AccessKeyId=AKIA%2B1&Status=Inactive",
            IamClient.FormBody("UpdateAccessKey", [("AccessKeyId", "AKIA+1"), ("Status", "Inactive")]));

    [Fact]
    public void NewAccessKey_ToString_HidesTheSecret() =>
        Assert.DoesNotContain(AwsTestAccounts.SecretAccessKey, new IamNewAccessKey("AKIAX", AwsTestAccounts.SecretAccessKey, DateTimeOffset.UnixEpoch).ToString(), StringComparison.Ordinal);

    [Fact]
    public async Task SessionWithSessionToken_HasNoIamClients()
    {
        _aws.PutSecret(name: "temporary", extra: new Dictionary<string, string> { ["sessionToken"] = "token" });
        var session = await _aws.Clients.ForAccountAsync(AwsTestAccounts.Account(name: "temp", endpoint: _emulator.Url.ToString(), secretName: "temporary"), null, default);

        Assert.Null(session.KeyClients);
        Assert.Throws<InvalidOperationException>(() => session.IamFor(new AwsSecretKeys("AKIAX", "secret", null)));
    }
}
