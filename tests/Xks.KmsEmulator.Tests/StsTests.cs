using Amazon.SecurityToken;
using Amazon.SecurityToken.Model;
using Xks.KmsEmulator.Tests.Support;

namespace Xks.KmsEmulator.Tests;

/// <summary>STS GetCallerIdentity and AssumeRole through the real AWSSDK.SecurityToken client.</summary>
public sealed class StsTests
{
    private const string Role = "arn:aws:iam::444455556666:role/xks-operator";

    [Fact]
    public async Task GetCallerIdentity_LongTermCredential_ReturnsAccountAndUser()
    {
        await using var emulator = await EmulatorHarness.StartAsync();
        using var sts = emulator.StsClient();
        var identity = await sts.GetCallerIdentityAsync(new GetCallerIdentityRequest());
        Assert.Equal(EmulatorHarness.Account, identity.Account);
        Assert.Equal($"arn:aws:iam::{EmulatorHarness.Account}:user/{EmulatorHarness.AccessKeyId}", identity.Arn);
        Assert.False(string.IsNullOrEmpty(identity.UserId));
    }

    [Fact]
    public async Task GetCallerIdentity_WrongSecret_ThrowsSignatureDoesNotMatch()
    {
        await using var emulator = await EmulatorHarness.StartAsync();
        using var sts = emulator.StsClient(secret: "bm90IHRoZSByaWdodCBzZWNyZXQgYXQgYWxsIGhlcmU");
        var error = await Assert.ThrowsAsync<AmazonSecurityTokenServiceException>(() => sts.GetCallerIdentityAsync(new GetCallerIdentityRequest()));
        Assert.Equal("SignatureDoesNotMatch", error.ErrorCode);

        using var unknown = emulator.StsClient(accessKeyId: "AKIAUNKNOWNUNKNOWN01");
        var invalid = await Assert.ThrowsAsync<AmazonSecurityTokenServiceException>(() => unknown.GetCallerIdentityAsync(new GetCallerIdentityRequest()));
        Assert.Equal("InvalidClientTokenId", invalid.ErrorCode);
    }

    [Fact]
    public async Task AssumeRole_ExternalIdRequired_OnlyTheRightOneIsAccepted()
    {
        await using var emulator = await EmulatorHarness.StartAsync(configure: o => o.RoleExternalIds[Role] = "tenant-42");
        using var sts = emulator.StsClient();
        await Assert.ThrowsAsync<AmazonSecurityTokenServiceException>(() =>
            sts.AssumeRoleAsync(new AssumeRoleRequest { RoleArn = Role, RoleSessionName = "op", ExternalId = "tenant-41" }));
        var missing = await Assert.ThrowsAsync<AmazonSecurityTokenServiceException>(() =>
            sts.AssumeRoleAsync(new AssumeRoleRequest { RoleArn = Role, RoleSessionName = "op" }));
        Assert.Equal("AccessDenied", missing.ErrorCode);

        var assumed = await sts.AssumeRoleAsync(new AssumeRoleRequest { RoleArn = Role, RoleSessionName = "op", ExternalId = "tenant-42" });
        Assert.StartsWith("ASIA", assumed.Credentials.AccessKeyId, StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(assumed.Credentials.SessionToken));
        Assert.InRange(assumed.Credentials.Expiration!.Value, DateTime.UtcNow.AddMinutes(55), DateTime.UtcNow.AddMinutes(61));
        Assert.Equal("arn:aws:sts::444455556666:assumed-role/xks-operator/op", assumed.AssumedRoleUser.Arn);

        using var asRole = emulator.StsClient(assumed.Credentials.AccessKeyId, assumed.Credentials.SecretAccessKey, assumed.Credentials.SessionToken);
        var identity = await asRole.GetCallerIdentityAsync(new GetCallerIdentityRequest());
        Assert.Equal("444455556666", identity.Account);
        Assert.Equal(assumed.AssumedRoleUser.Arn, identity.Arn);
    }

    [Fact]
    public async Task AssumeRole_NoExternalIdConfigured_IssuesCredentials()
    {
        await using var emulator = await EmulatorHarness.StartAsync();
        using var sts = emulator.StsClient();
        var assumed = await sts.AssumeRoleAsync(new AssumeRoleRequest { RoleArn = Role, RoleSessionName = "op", DurationSeconds = 900 });
        Assert.InRange(assumed.Credentials.Expiration!.Value, DateTime.UtcNow.AddMinutes(14), DateTime.UtcNow.AddMinutes(16));
    }
}
