using Amazon.KeyManagementService;
using Amazon.KeyManagementService.Model;
using Amazon.SecurityToken;
using Amazon.SecurityToken.Model;
using Xks.KmsEmulator.Tests.Support;

namespace Xks.KmsEmulator.Tests.Iam;

/// <summary>IAM's access-key calls over the query protocol: a user's keys, IAM's quota of two, and keys that stop signing once inactive or deleted.</summary>
public sealed class IamAccessKeyTests
{
    private const string User = EmulatorHarness.AccessKeyId;

    [Fact]
    public async Task CreateAccessKey_NewKey_SignsAsTheSameUser()
    {
        await using var emulator = await EmulatorHarness.StartAsync();
        var (status, body) = await Iam(emulator, "CreateAccessKey");
        var key = body.Descendants(IamQuery.Ns + "AccessKey").Single();
        var id = key.Element(IamQuery.Ns + "AccessKeyId")!.Value;
        var secret = key.Element(IamQuery.Ns + "SecretAccessKey")!.Value;

        using var sts = emulator.StsClient(id, secret);
        var identity = await sts.GetCallerIdentityAsync(new GetCallerIdentityRequest());

        Assert.Equal(200, status);
        Assert.Equal(User, key.Element(IamQuery.Ns + "UserName")!.Value);
        Assert.Equal("Active", key.Element(IamQuery.Ns + "Status")!.Value);
        Assert.Equal($"arn:aws:iam::{EmulatorHarness.Account}:user/{User}", identity.Arn);
    }

    [Fact]
    public async Task ListAccessKeys_AfterCreate_ListsTheInitialAndTheNewKeyOldestFirst()
    {
        await using var emulator = await EmulatorHarness.StartAsync();
        var created = (await Iam(emulator, "CreateAccessKey")).Body.Descendants(IamQuery.Ns + "AccessKeyId").Single().Value;

        var (status, body) = await Iam(emulator, "ListAccessKeys");
        var ids = body.Descendants(IamQuery.Ns + "member").Select(m => m.Element(IamQuery.Ns + "AccessKeyId")!.Value).ToList();

        Assert.Equal(200, status);
        Assert.Equal([User, created], ids);
    }

    [Fact]
    public async Task CreateAccessKey_TwoKeysAlready_LimitExceeded()
    {
        await using var emulator = await EmulatorHarness.StartAsync();
        await Iam(emulator, "CreateAccessKey");

        var (status, body) = await Iam(emulator, "CreateAccessKey");

        Assert.Equal(409, status);
        Assert.Equal("LimitExceeded", IamQuery.ErrorCode(body));
    }

    [Fact]
    public async Task UpdateAccessKey_Inactive_KeyIsRefusedLikeAnUnknownKey()
    {
        await using var emulator = await EmulatorHarness.StartAsync();
        var created = (await Iam(emulator, "CreateAccessKey")).Body.Descendants(IamQuery.Ns + "AccessKey").Single();
        var id = created.Element(IamQuery.Ns + "AccessKeyId")!.Value;
        var secret = created.Element(IamQuery.Ns + "SecretAccessKey")!.Value;

        var (status, _) = await IamQuery.SendAsync(emulator.Server.Url, id, secret, EmulatorHarness.Region, "UpdateAccessKey", ("AccessKeyId", User), ("Status", "Inactive"));
        using var sts = emulator.StsClient();
        var stsError = await Assert.ThrowsAsync<AmazonSecurityTokenServiceException>(() => sts.GetCallerIdentityAsync(new GetCallerIdentityRequest()));
        var kmsError = await Assert.ThrowsAsync<AmazonKeyManagementServiceException>(() => emulator.Kms.ListKeysAsync(new ListKeysRequest()));
        var listed = (await IamQuery.SendAsync(emulator.Server.Url, id, secret, EmulatorHarness.Region, "ListAccessKeys")).Body
            .Descendants(IamQuery.Ns + "member").Single(m => m.Element(IamQuery.Ns + "AccessKeyId")!.Value == User);

        Assert.Equal(200, status);
        Assert.Equal("InvalidClientTokenId", stsError.ErrorCode);
        Assert.Equal("UnrecognizedClientException", kmsError.ErrorCode);
        Assert.Equal("Inactive", listed.Element(IamQuery.Ns + "Status")!.Value);
    }

    [Fact]
    public async Task DeleteAccessKey_InitialKey_KeyIsRefusedAndNoLongerListed()
    {
        await using var emulator = await EmulatorHarness.StartAsync();
        var created = (await Iam(emulator, "CreateAccessKey")).Body.Descendants(IamQuery.Ns + "AccessKey").Single();
        var id = created.Element(IamQuery.Ns + "AccessKeyId")!.Value;
        var secret = created.Element(IamQuery.Ns + "SecretAccessKey")!.Value;

        var (status, _) = await IamQuery.SendAsync(emulator.Server.Url, id, secret, EmulatorHarness.Region, "DeleteAccessKey", ("AccessKeyId", User));
        var (againStatus, again) = await IamQuery.SendAsync(emulator.Server.Url, id, secret, EmulatorHarness.Region, "DeleteAccessKey", ("AccessKeyId", User));
        var listed = (await IamQuery.SendAsync(emulator.Server.Url, id, secret, EmulatorHarness.Region, "ListAccessKeys")).Body
            .Descendants(IamQuery.Ns + "AccessKeyId").Select(e => e.Value).ToList();
        var (oldStatus, old) = await Iam(emulator, "ListAccessKeys");

        Assert.Equal(200, status);
        Assert.Equal(404, againStatus);
        Assert.Equal("NoSuchEntity", IamQuery.ErrorCode(again));
        Assert.Equal([id], listed);
        Assert.Equal(403, oldStatus);
        Assert.Equal("InvalidClientTokenId", IamQuery.ErrorCode(old));
    }

    [Fact]
    public async Task FailNext_IamAction_FailsOnceWithoutExecutingAndStsKeepsWorking()
    {
        await using var emulator = await EmulatorHarness.StartAsync();
        emulator.Server.FailNext("CreateAccessKey", "Throttling");

        var (failedStatus, failed) = await Iam(emulator, "CreateAccessKey");
        var keysAfterFailure = (await Iam(emulator, "ListAccessKeys")).Body.Descendants(IamQuery.Ns + "member").Count();
        var (status, _) = await Iam(emulator, "CreateAccessKey");
        using var sts = emulator.StsClient();
        var identity = await sts.GetCallerIdentityAsync(new GetCallerIdentityRequest());

        Assert.Equal(400, failedStatus);
        Assert.Equal("Throttling", IamQuery.ErrorCode(failed));
        Assert.Equal(1, keysAfterFailure);
        Assert.Equal(200, status);
        Assert.Equal(2, emulator.Server.CallCount("CreateAccessKey"));
        Assert.Equal(EmulatorHarness.Account, identity.Account);
    }

    [Fact]
    public async Task UpdateAccessKey_AnotherUsersKey_NoSuchEntity()
    {
        await using var emulator = await EmulatorHarness.StartAsync(configure: o => o.Credentials["AKIAOTHERUSER0000001"] = "b3RoZXIgdXNlcidzIHNlY3JldCBrZXkgZm9yIHRlc3Q");

        var (status, body) = await Iam(emulator, "UpdateAccessKey", ("AccessKeyId", "AKIAOTHERUSER0000001"), ("Status", "Inactive"));

        Assert.Equal(404, status);
        Assert.Equal("NoSuchEntity", IamQuery.ErrorCode(body));
    }

    private static Task<(int Status, System.Xml.Linq.XElement Body)> Iam(EmulatorHarness emulator, string action, params (string, string)[] parameters) =>
        IamQuery.SendAsync(emulator.Server.Url, EmulatorHarness.AccessKeyId, EmulatorHarness.Secret, EmulatorHarness.Region, action, parameters);
}
