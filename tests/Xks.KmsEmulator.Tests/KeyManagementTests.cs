using Amazon.KeyManagementService;
using Amazon.KeyManagementService.Model;
using Xks.KmsEmulator.Tests.Support;

namespace Xks.KmsEmulator.Tests;

/// <summary>Key management on AWS_KMS-origin keys (no proxy needed), the test controls and SigV4, through the AWS SDK for .NET.</summary>
public sealed class KeyManagementTests
{
    [Fact]
    public async Task Aliases_CreateUpdateDeleteList_FollowKms()
    {
        await using var emulator = await EmulatorHarness.StartAsync();
        var a = (await emulator.Kms.CreateKeyAsync(new CreateKeyRequest { Description = "a" })).KeyMetadata;
        var b = (await emulator.Kms.CreateKeyAsync(new CreateKeyRequest { Description = "b" })).KeyMetadata;
        await emulator.Kms.CreateAliasAsync(new CreateAliasRequest { AliasName = "alias/payments", TargetKeyId = a.KeyId });
        await Assert.ThrowsAsync<AlreadyExistsException>(() => emulator.Kms.CreateAliasAsync(new CreateAliasRequest { AliasName = "alias/payments", TargetKeyId = b.KeyId }));
        await Assert.ThrowsAsync<InvalidAliasNameException>(() => emulator.Kms.CreateAliasAsync(new CreateAliasRequest { AliasName = "alias/aws/s3", TargetKeyId = b.KeyId }));

        Assert.Equal(a.KeyId, (await emulator.Kms.DescribeKeyAsync(new DescribeKeyRequest { KeyId = "alias/payments" })).KeyMetadata.KeyId);
        Assert.Equal(a.KeyId, (await emulator.Kms.DescribeKeyAsync(new DescribeKeyRequest { KeyId = "arn:aws:kms:us-east-1:111122223333:alias/payments" })).KeyMetadata.KeyId);
        Assert.Equal(a.KeyId, (await emulator.Kms.DescribeKeyAsync(new DescribeKeyRequest { KeyId = a.Arn })).KeyMetadata.KeyId);

        await emulator.Kms.UpdateAliasAsync(new UpdateAliasRequest { AliasName = "alias/payments", TargetKeyId = b.Arn });
        var forB = (await emulator.Kms.ListAliasesAsync(new ListAliasesRequest { KeyId = b.KeyId })).Aliases.Single();
        Assert.Equal("alias/payments", forB.AliasName);
        Assert.Equal("arn:aws:kms:us-east-1:111122223333:alias/payments", forB.AliasArn);
        Assert.Equal(b.KeyId, forB.TargetKeyId);
        Assert.Empty((await emulator.Kms.ListAliasesAsync(new ListAliasesRequest { KeyId = a.KeyId })).Aliases);

        await emulator.Kms.DeleteAliasAsync(new DeleteAliasRequest { AliasName = "alias/payments" });
        await Assert.ThrowsAsync<NotFoundException>(() => emulator.Kms.DescribeKeyAsync(new DescribeKeyRequest { KeyId = "alias/payments" }));
        await Assert.ThrowsAsync<NotFoundException>(() => emulator.Kms.DeleteAliasAsync(new DeleteAliasRequest { AliasName = "alias/payments" }));
        await Assert.ThrowsAsync<NotFoundException>(() => emulator.Kms.DescribeKeyAsync(new DescribeKeyRequest { KeyId = Guid.NewGuid().ToString() }));
    }

    [Fact]
    public async Task Calls_TwoCallers_RecordedWithCallerTargetsAndOutcome()
    {
        const string otherKeyId = "AKIAEMULATORTESTUSER2";
        const string otherSecret = "c2Vjb25kIHNlY3JldCBvZiB0aGUgZW11bGF0b3IgdGVzdA";
        await using var emulator = await EmulatorHarness.StartAsync(configure: o => o.Credentials[otherKeyId] = otherSecret);
        using var other = emulator.KmsClient(otherKeyId, otherSecret);
        var mine = (await emulator.Kms.CreateKeyAsync(new CreateKeyRequest())).KeyMetadata;
        var theirs = (await other.CreateKeyAsync(new CreateKeyRequest())).KeyMetadata;
        await emulator.Kms.CreateAliasAsync(new CreateAliasRequest { AliasName = "alias/mine", TargetKeyId = mine.Arn });
        await other.DescribeKeyAsync(new DescribeKeyRequest { KeyId = "alias/mine" });
        await other.DisableKeyAsync(new DisableKeyRequest { KeyId = theirs.KeyId });
        await Assert.ThrowsAsync<NotFoundException>(() => other.DisableKeyAsync(new DisableKeyRequest { KeyId = Guid.NewGuid().ToString() }));

        var calls = emulator.Server.Calls();

        var alias = Assert.Single(calls, c => c.Operation == "CreateAlias");
        Assert.Equal(["alias/mine", mine.Arn], alias.Targets.Order(StringComparer.Ordinal));
        Assert.Equal(200, alias.Status);
        Assert.Equal($"arn:aws:iam::{EmulatorHarness.Account}:user/{EmulatorHarness.AccessKeyId}", alias.Caller);
        Assert.True(alias.Names(mine.KeyId), "an ARN names its key ID");
        var failed = Assert.Single(calls, c => c.Operation == "DisableKey" && c.Status != 200);
        Assert.Equal(400, failed.Status);
        Assert.Equal(["CreateAlias"], emulator.Server.MutatingCallsNaming(mine.KeyId).Select(c => c.Operation));
        Assert.Equal(["DisableKey"], emulator.Server.MutatingCallsNaming(theirs.KeyId).Select(c => c.Operation));
        Assert.NotEqual(alias.Caller, emulator.Server.MutatingCallsNaming(theirs.KeyId)[0].Caller);
        Assert.Empty(emulator.Server.MutatingCallsNaming("alias/nobody"));
    }

    [Fact]
    public async Task TagsAndPolicy_StoredAndValidated()
    {
        await using var emulator = await EmulatorHarness.StartAsync();
        var key = (await emulator.Kms.CreateKeyAsync(new CreateKeyRequest { Tags = [new Tag { TagKey = "xks.dev/uid", TagValue = "1234" }] })).KeyMetadata;
        await emulator.Kms.TagResourceAsync(new TagResourceRequest { KeyId = key.KeyId, Tags = [new Tag { TagKey = "team", TagValue = "a" }, new Tag { TagKey = "xks.dev/uid", TagValue = "5678" }] });
        var tags = (await emulator.Kms.ListResourceTagsAsync(new ListResourceTagsRequest { KeyId = key.Arn })).Tags;
        Assert.Equal(["xks.dev/uid=5678", "team=a"], tags.Select(t => $"{t.TagKey}={t.TagValue}"));
        await Assert.ThrowsAsync<TagException>(() => emulator.Kms.TagResourceAsync(new TagResourceRequest { KeyId = key.KeyId, Tags = [new Tag { TagKey = "aws:reserved", TagValue = "x" }] }));

        var policy = (await emulator.Kms.GetKeyPolicyAsync(new GetKeyPolicyRequest { KeyId = key.KeyId, PolicyName = "default" })).Policy;
        Assert.Contains("arn:aws:iam::111122223333:root", policy, StringComparison.Ordinal);
        const string newPolicy = """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/admin"},"Action":"kms:*","Resource":"*"}]}""";
        await emulator.Kms.PutKeyPolicyAsync(new PutKeyPolicyRequest { KeyId = key.KeyId, PolicyName = "default", Policy = newPolicy });
        Assert.Equal(newPolicy, (await emulator.Kms.GetKeyPolicyAsync(new GetKeyPolicyRequest { KeyId = key.KeyId, PolicyName = "default" })).Policy);
        await Assert.ThrowsAsync<MalformedPolicyDocumentException>(() =>
            emulator.Kms.PutKeyPolicyAsync(new PutKeyPolicyRequest { KeyId = key.KeyId, PolicyName = "default", Policy = "{not json" }));
    }

    [Fact]
    public async Task UpdateKeyDescription_NewText_DescribeKeyShowsItAndLimitsFollowKms()
    {
        await using var emulator = await EmulatorHarness.StartAsync();
        var key = (await emulator.Kms.CreateKeyAsync(new CreateKeyRequest { Description = "before" })).KeyMetadata;

        await emulator.Kms.UpdateKeyDescriptionAsync(new UpdateKeyDescriptionRequest { KeyId = key.Arn, Description = "after" });
        Assert.Equal("after", (await emulator.Kms.DescribeKeyAsync(new DescribeKeyRequest { KeyId = key.KeyId })).KeyMetadata.Description);
        await emulator.Kms.UpdateKeyDescriptionAsync(new UpdateKeyDescriptionRequest { KeyId = key.KeyId, Description = "" });
        Assert.Equal("", (await emulator.Kms.DescribeKeyAsync(new DescribeKeyRequest { KeyId = key.KeyId })).KeyMetadata.Description);

        var tooLong = await Assert.ThrowsAsync<AmazonKeyManagementServiceException>(() =>
            emulator.Kms.UpdateKeyDescriptionAsync(new UpdateKeyDescriptionRequest { KeyId = key.KeyId, Description = new string('d', 8193) }));
        Assert.Equal("ValidationException", tooLong.ErrorCode);
        await emulator.Kms.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = key.KeyId, PendingWindowInDays = 7 });
        await Assert.ThrowsAsync<KMSInvalidStateException>(() =>
            emulator.Kms.UpdateKeyDescriptionAsync(new UpdateKeyDescriptionRequest { KeyId = key.KeyId, Description = "late" }));
        Assert.Equal(["UpdateKeyDescription", "UpdateKeyDescription"], emulator.Server.MutatingCallsNaming(key.KeyId).Where(c => c.Operation == "UpdateKeyDescription").Select(c => c.Operation));
    }

    [Fact]
    public async Task KeyStates_DisableScheduleCancel_FollowKms()
    {
        await using var emulator = await EmulatorHarness.StartAsync();
        var key = (await emulator.Kms.CreateKeyAsync(new CreateKeyRequest())).KeyMetadata;
        var encrypted = await emulator.Kms.EncryptAsync(new EncryptRequest { KeyId = key.KeyId, Plaintext = new MemoryStream([7, 7, 7]) });
        Assert.Equal([7, 7, 7], (await emulator.Kms.DecryptAsync(new DecryptRequest { CiphertextBlob = encrypted.CiphertextBlob })).Plaintext.ToArray());

        await emulator.Kms.DisableKeyAsync(new DisableKeyRequest { KeyId = key.KeyId });
        Assert.False((await emulator.Kms.DescribeKeyAsync(new DescribeKeyRequest { KeyId = key.KeyId })).KeyMetadata.Enabled);
        await Assert.ThrowsAsync<DisabledException>(() => emulator.Kms.EncryptAsync(new EncryptRequest { KeyId = key.KeyId, Plaintext = new MemoryStream([1]) }));

        await Assert.ThrowsAsync<AmazonKeyManagementServiceException>(() => emulator.Kms.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = key.KeyId, PendingWindowInDays = 3 }));
        var scheduled = await emulator.Kms.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = key.KeyId, PendingWindowInDays = 7 });
        Assert.Equal(KeyState.PendingDeletion, scheduled.KeyState);
        Assert.InRange(scheduled.DeletionDate!.Value, DateTime.UtcNow.AddDays(6.9), DateTime.UtcNow.AddDays(7.1));
        await Assert.ThrowsAsync<KMSInvalidStateException>(() => emulator.Kms.EnableKeyAsync(new EnableKeyRequest { KeyId = key.KeyId }));
        await Assert.ThrowsAsync<KMSInvalidStateException>(() => emulator.Kms.DecryptAsync(new DecryptRequest { CiphertextBlob = encrypted.CiphertextBlob }));

        await emulator.Kms.CancelKeyDeletionAsync(new CancelKeyDeletionRequest { KeyId = key.KeyId });
        var described = (await emulator.Kms.DescribeKeyAsync(new DescribeKeyRequest { KeyId = key.KeyId })).KeyMetadata;
        Assert.Equal(KeyState.Disabled, described.KeyState);
        Assert.Null(described.DeletionDate);
    }

    [Fact]
    public async Task ListKeys_Limit_PagesWithMarker()
    {
        await using var emulator = await EmulatorHarness.StartAsync();
        var created = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            created.Add((await emulator.Kms.CreateKeyAsync(new CreateKeyRequest())).KeyMetadata.KeyId);
        }

        var seen = new List<string>();
        string? marker = null;
        var pages = 0;
        do
        {
            var page = await emulator.Kms.ListKeysAsync(new ListKeysRequest { Limit = 2, Marker = marker });
            seen.AddRange(page.Keys.Select(k => k.KeyId));
            Assert.Equal(page.NextMarker is not null, page.Truncated == true);
            marker = page.NextMarker;
            pages++;
        }
        while (marker is not null);

        Assert.Equal(3, pages);
        Assert.Equal(created, seen);
        await Assert.ThrowsAsync<InvalidMarkerException>(() => emulator.Kms.ListKeysAsync(new ListKeysRequest { Marker = "bogus" }));
    }

    [Fact]
    public async Task Call_WrongSecret_ThrowsInvalidSignature()
    {
        await using var emulator = await EmulatorHarness.StartAsync();
        using var wrong = emulator.KmsClient(EmulatorHarness.AccessKeyId, "bm90IHRoZSByaWdodCBzZWNyZXQgYXQgYWxsIGhlcmU");
        var error = await Assert.ThrowsAsync<AmazonKeyManagementServiceException>(() => wrong.ListKeysAsync(new ListKeysRequest()));
        Assert.Equal("InvalidSignatureException", error.ErrorCode);

        using var unknown = emulator.KmsClient("AKIAUNKNOWNUNKNOWN01", EmulatorHarness.Secret);
        var unrecognized = await Assert.ThrowsAsync<AmazonKeyManagementServiceException>(() => unknown.ListKeysAsync(new ListKeysRequest()));
        Assert.Equal("UnrecognizedClientException", unrecognized.ErrorCode);
        Assert.Equal(2, emulator.Server.CallCount("ListKeys"));
    }

    [Fact]
    public async Task FailNext_Throttling_SdkRetriesThenSucceeds()
    {
        await using var emulator = await EmulatorHarness.StartAsync();
        emulator.Server.FailNext("ListKeys", "ThrottlingException");
        var throttled = await Assert.ThrowsAsync<AmazonKeyManagementServiceException>(() => emulator.Kms.ListKeysAsync(new ListKeysRequest()));
        Assert.Equal("ThrottlingException", throttled.ErrorCode);

        emulator.Server.FailNext("CreateKey", "ThrottlingException", count: 2);
        using var retrying = emulator.KmsClient(EmulatorHarness.AccessKeyId, EmulatorHarness.Secret, maxErrorRetry: 3);
        await retrying.CreateKeyAsync(new CreateKeyRequest());
        Assert.Equal(3, emulator.Server.CallCount("CreateKey"));
        Assert.Single((await emulator.Kms.ListKeysAsync(new ListKeysRequest())).Keys);
    }

    [Fact]
    public async Task Hold_CreateKey_ExecutesButHoldsResponseUntilReleased()
    {
        await using var emulator = await EmulatorHarness.StartAsync();
        var gate = emulator.Server.Hold("CreateKey");
        var pending = emulator.Kms.CreateKeyAsync(new CreateKeyRequest { Description = "held" });
        await gate.Reached.WaitAsync(TimeSpan.FromSeconds(10));

        var keys = (await emulator.Kms.ListKeysAsync(new ListKeysRequest())).Keys;
        Assert.Single(keys);
        Assert.False(pending.IsCompleted);
        gate.Release();
        var created = await pending.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(keys[0].KeyId, created.KeyMetadata.KeyId);
    }

    [Fact]
    public async Task Call_AssumedRoleCredentials_AreAcceptedWithTheirToken()
    {
        await using var emulator = await EmulatorHarness.StartAsync();
        using var sts = emulator.StsClient();
        var assumed = await sts.AssumeRoleAsync(new Amazon.SecurityToken.Model.AssumeRoleRequest
        {
            RoleArn = "arn:aws:iam::111122223333:role/xks-operator",
            RoleSessionName = "operator",
        });
        var credentials = assumed.Credentials;
        using var kms = emulator.KmsClient(credentials.AccessKeyId, credentials.SecretAccessKey, credentials.SessionToken);
        await kms.ListKeysAsync(new ListKeysRequest());

        using var withoutToken = emulator.KmsClient(credentials.AccessKeyId, credentials.SecretAccessKey);
        var error = await Assert.ThrowsAsync<AmazonKeyManagementServiceException>(() => withoutToken.ListKeysAsync(new ListKeysRequest()));
        Assert.Equal("UnrecognizedClientException", error.ErrorCode);
    }
}
