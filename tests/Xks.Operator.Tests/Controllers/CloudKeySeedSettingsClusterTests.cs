using System.Globalization;
using Amazon.KeyManagementService;
using Amazon.KeyManagementService.Model;
using Xks.Operator.Scenarios.Tests;
using Xks.Operator.Support.Tests;
using Xks.Testing;

namespace Xks.Operator.Controllers.Tests;

/// <summary>
/// The seed settings end to end (issue 15): the default alias, description and tags reaching KMS, the KeySet's default
/// rotation, a reversible expiration, expiry by scheduled deletion, and a KeySet served without a path prefix. The seed
/// environment (samples + emulator + local proxy) with a 2 s AWS resync.
/// </summary>
[Trait("Category", "Cluster")]
public sealed class CloudKeySeedSettingsClusterTests() : OperatorClusterTest("seed-settings")
{
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(60);
    private static readonly Dictionary<string, string> Context = new() { ["purpose"] = "seed-settings" };
    private const string CloudKey = "cloudkey/" + SeedEnvironment.CloudKeyName;
    private const string KeySet = "keyset/" + SeedEnvironment.KeySetName;

    [Fact]
    public async Task AliasUnset_KeyGetsAliasOfItsNameAndCreateAliasFalseGetsNone()
    {
        await using var seed = await SeedEnvironment.StartAsync(Cluster, Ns, StartFastResyncOperatorAsync);

        await ApplyKeyAsync(seed, "ledger-db", "");
        // spec.alias: "" says the same, but this API server (1.20) turns an empty string into null: the bool is what works everywhere.
        await ApplyKeyAsync(seed, "no-alias", "\"createAlias\":false,");
        await seed.WaitReadyAsync(Within, "cloudkey/ledger-db", "cloudkey/no-alias");

        var named = (await seed.StatusFieldAsync("cloudkey/ledger-db", "keyId"))!;
        Assert.Equal("alias/ledger-db", await seed.StatusFieldAsync("cloudkey/ledger-db", "alias"));
        Assert.Equal(named, (await seed.Admin.DescribeKeyAsync(new DescribeKeyRequest { KeyId = "alias/ledger-db" })).KeyMetadata.KeyId);
        var unnamed = (await seed.StatusFieldAsync("cloudkey/no-alias", "keyId"))!;
        Assert.Null(await seed.StatusFieldAsync("cloudkey/no-alias", "alias"));
        Assert.Empty((await seed.Admin.ListAliasesAsync(new ListAliasesRequest { KeyId = unnamed })).Aliases);
    }

    [Fact]
    public async Task DescriptionChanged_ReachesKms()
    {
        await using var seed = await SeedEnvironment.StartAsync(Cluster, Ns, StartFastResyncOperatorAsync);
        var keyId = (await seed.StatusFieldAsync(CloudKey, "keyId"))!;

        await seed.PatchSpecAsync(CloudKey, new { description = "Envelope key of the payments database, v2" });

        await Eventually.HoldsAsync(
            async () => (await seed.Admin.DescribeKeyAsync(new DescribeKeyRequest { KeyId = keyId })).KeyMetadata.Description == "Envelope key of the payments database, v2",
            Within, "the new description in KMS");
        Assert.Equal(1, seed.Kms.CallCount("UpdateKeyDescription"));
    }

    [Fact]
    public async Task Tags_SetChangedRemovedAndHandMadeOnesLeftAlone_ReservedKeyRefused()
    {
        await using var seed = await SeedEnvironment.StartAsync(Cluster, Ns, StartFastResyncOperatorAsync);
        var keyId = (await seed.StatusFieldAsync(CloudKey, "keyId"))!;
        await seed.Admin.TagResourceAsync(new TagResourceRequest { KeyId = keyId, Tags = [new Tag { TagKey = "owner", TagValue = "alice" }] });

        await seed.PatchSpecAsync(CloudKey, new { tags = new Dictionary<string, string> { ["team"] = "payments", ["env"] = "prod" } });
        await Eventually.HoldsAsync(async () => (await TagsAsync(seed, keyId)).Contains("env=prod"), Within, "spec.tags on the KMS key");
        // A merge patch merges maps: the sample's own tags stay.
        await Eventually.HoldsAsync(
            async () => (await seed.GetAsync(CloudKey))["status"]?["tagKeys"]?.AsArray().Select(k => k!.ToString()).SequenceEqual(["cost-center", "env", "team"]) == true,
            Within, "status.tagKeys naming every tag the CloudKey applied");

        await seed.PatchSpecAsync(CloudKey, new { tags = new Dictionary<string, string?> { ["team"] = "ledger", ["env"] = null } });
        await Eventually.HoldsAsync(async () => !(await TagsAsync(seed, keyId)).Contains("env=prod"), Within, "the dropped tag removed");
        var tags = await TagsAsync(seed, keyId);
        Assert.Contains("team=ledger", tags);
        Assert.Contains("owner=alice", tags);
        Assert.Contains($"xks.dev/cloudkey={Ns}/{SeedEnvironment.CloudKeyName}", tags);

        await seed.PatchSpecAsync(CloudKey, new { tags = new Dictionary<string, string> { ["xks.dev/cloudkey"] = "someone-else" } });
        await Eventually.HoldsAsync(async () => await seed.ReadyReasonAsync(CloudKey) == "InvalidSpec", Within, "Ready=False InvalidSpec");
        Assert.Contains("must not start with xks.dev/", await seed.ReadyMessageAsync(CloudKey), StringComparison.Ordinal);
        Assert.Contains($"xks.dev/cloudkey={Ns}/{SeedEnvironment.CloudKeyName}", await TagsAsync(seed, keyId));
    }

    [Fact]
    public async Task KeySetDefaultRotation_CloudKeyWithoutItsOwnGetsANewVersion()
    {
        await using var seed = await SeedEnvironment.StartAsync(Cluster, Ns, StartFastResyncOperatorAsync);
        var before = await seed.Envelope.EncryptAsync(SeedEnvironment.Alias, "before the default rotation"u8.ToArray(), Context);
        var version = await seed.StatusFieldAsync(CloudKey, "currentVersion");

        await seed.PatchSpecAsync(CloudKey, new { rotation = (object?)null });
        await seed.PatchSpecAsync(KeySet, new { defaults = new { rotation = new { every = "1m" } } });

        await Eventually.HoldsAsync(async () => await seed.StatusFieldAsync(CloudKey, "currentVersion") != version, TimeSpan.FromSeconds(180), "a key version added by the KeySet's default rotation");
        await seed.WaitReadyAsync(Within, CloudKey);
        Assert.Equal("before the default rotation"u8.ToArray(), await seed.Envelope.DecryptAsync(before));
    }

    [Fact]
    public async Task ExpirationMovedLater_KeyEnabledAgainAndDecrypts()
    {
        await using var seed = await SeedEnvironment.StartAsync(Cluster, Ns, StartFastResyncOperatorAsync);
        await ApplyKeyAsync(seed, "expiring", $"\"expiration\":{{\"at\":\"{Rfc3339(DateTime.UtcNow.AddSeconds(25))}\",\"action\":\"Disable\"}},");
        await seed.WaitReadyAsync(Within, "cloudkey/expiring");
        var keyId = (await seed.StatusFieldAsync("cloudkey/expiring", "keyId"))!;
        var stored = await seed.Envelope.EncryptAsync("alias/expiring", "kept across the expiry"u8.ToArray(), Context);
        await Eventually.HoldsAsync(async () => await KeyStateAsync(seed, keyId) == KeyState.Disabled, Within, "the KMS key disabled at its expiration");
        await Eventually.HoldsAsync(async () => await seed.ReadyReasonAsync("cloudkey/expiring") == "Expired", Within, "Ready=False Expired");
        await Assert.ThrowsAnyAsync<AmazonKeyManagementServiceException>(() => seed.Envelope.DecryptAsync(stored));

        await seed.PatchSpecAsync("cloudkey/expiring", new { expiration = new { at = Rfc3339(DateTime.UtcNow.AddDays(30)) } });

        await Eventually.HoldsAsync(async () => await KeyStateAsync(seed, keyId) == KeyState.Enabled, Within, "the KMS key enabled again");
        await seed.WaitReadyAsync(Within, "cloudkey/expiring");
        var material = await seed.TrySecretAsync("expiring-key-material");
        Assert.False(material!.Metadata.Annotations?.ContainsKey("xks.dev/expired") ?? false, "the expiry mark is gone");
        await Eventually.HoldsAsync(
            async () =>
            {
                try
                {
                    return (await seed.Envelope.DecryptAsync(stored)).AsSpan().SequenceEqual("kept across the expiry"u8);
                }
                catch (AmazonKeyManagementServiceException)
                {
                    return false; // the proxy serves the key again once the Vault re-rendered its config
                }
            },
            Within, "what was encrypted before the expiry decrypts again");
        var fresh = await seed.Envelope.EncryptAsync("alias/expiring", "after"u8.ToArray(), Context);
        Assert.Equal("after"u8.ToArray(), await seed.Envelope.DecryptAsync(fresh));
    }

    [Fact]
    public async Task ExpirationWithScheduleDeletion_KeyPendingDeletionWithThePendingWindow()
    {
        await using var seed = await SeedEnvironment.StartAsync(Cluster, Ns, StartFastResyncOperatorAsync);
        await ApplyKeyAsync(seed, "doomed", $"\"pendingWindowDays\":7,\"expiration\":{{\"at\":\"{Rfc3339(DateTime.UtcNow.AddSeconds(25))}\",\"action\":\"ScheduleDeletion\"}},");
        await seed.WaitReadyAsync(Within, "cloudkey/doomed");
        var keyId = (await seed.StatusFieldAsync("cloudkey/doomed", "keyId"))!;

        await Eventually.HoldsAsync(async () => await KeyStateAsync(seed, keyId) == KeyState.PendingDeletion, Within, "the KMS key pending deletion at its expiration");

        var described = (await seed.Admin.DescribeKeyAsync(new DescribeKeyRequest { KeyId = keyId })).KeyMetadata;
        Assert.Equal(7, described.PendingDeletionWindowInDays);
        Assert.InRange(described.DeletionDate!.Value.ToUniversalTime(), DateTime.UtcNow.AddDays(6.9), DateTime.UtcNow.AddDays(7.1));
        await Eventually.HoldsAsync(async () => await seed.StatusFieldAsync("cloudkey/doomed", "keyState") == "PendingDeletion", Within, "status.keyState PendingDeletion");
    }

    [Fact]
    public async Task RootUriPathPrefix_ServedEndToEndAndASecondKeySetOnTheVaultIsAConflict()
    {
        await using var seed = await SeedEnvironment.StartAsync(Cluster, Ns, StartFastResyncOperatorAsync);
        var xksKeyId = (await seed.StatusFieldAsync(CloudKey, "xksKeyId"))!;

        await seed.PatchSpecAsync(KeySet, new { uriPathPrefix = "/" }); // "" too, on API servers that keep an empty string

        await Eventually.HoldsAsync(async () => await seed.StatusFieldAsync(KeySet, "uriPath") == "/kms/xks/v1", Within, "status.uriPath without a prefix");
        await seed.WaitReadyAsync(TimeSpan.FromSeconds(120), KeySet);
        await Eventually.HoldsAsync(async () => (await seed.ProxyKeyMetadataAsync(xksKeyId, uriPathPrefix: "")).Status == 200, Within, "the proxy serving the key at /kms/xks/v1");
        await Eventually.HoldsAsync(
            async () =>
            {
                try
                {
                    var stored = await seed.Envelope.EncryptAsync(SeedEnvironment.Alias, "no prefix"u8.ToArray(), Context);
                    return (await seed.Envelope.DecryptAsync(stored)).AsSpan().SequenceEqual("no prefix"u8);
                }
                catch (AmazonKeyManagementServiceException)
                {
                    return false; // KMS reconnects the store at its new path
                }
            },
            TimeSpan.FromSeconds(120), "KMS reaching the key through the empty prefix");

        await seed.KubectlAsync("apply -f -", $$"""
            {"apiVersion":"xks.dev/v1alpha1","kind":"KeySet","metadata":{"name":"ledger"},
             "spec":{"vaultRef":{"name":"{{SeedEnvironment.VaultName}}"},"cspAccountRef":{"name":"{{SeedEnvironment.CspAccountName}}"},"uriPathPrefix":"/ledger"} }
            """);
        await Eventually.HoldsAsync(async () => await seed.ReadyReasonAsync("keyset/ledger") == "Conflict", Within, "the second KeySet Ready=False Conflict");
        Assert.Contains($"KeySet {SeedEnvironment.KeySetName}", await seed.ReadyMessageAsync("keyset/ledger"), StringComparison.Ordinal);
        await seed.WaitReadyAsync(Within, KeySet);
    }

    private static Task ApplyKeyAsync(SeedEnvironment seed, string name, string extraSpec) =>
        seed.KubectlAsync("apply -f -", $$"""
            {"apiVersion":"xks.dev/v1alpha1","kind":"CloudKey","metadata":{"name":"{{name}}"},
             "spec":{ {{extraSpec}} "keySetRef":{"name":"{{SeedEnvironment.KeySetName}}"} } }
            """);

    private static async Task<List<string>> TagsAsync(SeedEnvironment seed, string keyId) =>
        [.. (await seed.Admin.ListResourceTagsAsync(new ListResourceTagsRequest { KeyId = keyId })).Tags.Select(t => $"{t.TagKey}={t.TagValue}")];

    private static async Task<KeyState> KeyStateAsync(SeedEnvironment seed, string keyId) =>
        (await seed.Admin.DescribeKeyAsync(new DescribeKeyRequest { KeyId = keyId })).KeyMetadata.KeyState;

    private static string Rfc3339(DateTime at) => at.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
}
