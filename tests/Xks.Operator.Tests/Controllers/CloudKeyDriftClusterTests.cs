using Amazon.KeyManagementService;
using Amazon.KeyManagementService.Model;
using Xks.Operator.Scenarios.Tests;
using Xks.Operator.Support.Tests;
using Xks.Testing;

namespace Xks.Operator.Controllers.Tests;

/// <summary>
/// What the operator does when AWS changes under it or a key is handed over: drift found on resync and undone (the
/// CR is the source of truth), a retained key taken over again only on purpose (spec.adopt), and expiry. The seed environment (samples + emulator + local proxy) with a 2 s AWS resync.
/// </summary>
[Trait("Category", "Cluster")]
public sealed class CloudKeyDriftClusterTests() : OperatorClusterTest("drift")
{
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(30);
    private const string CloudKey = "cloudkey/" + SeedEnvironment.CloudKeyName;

    [Fact]
    public async Task KmsKeyDisabledByHand_IsEnabledAgainAndReportedAsDrift()
    {
        await using var seed = await SeedEnvironment.StartAsync(Cluster, Ns, StartFastResyncOperatorAsync);
        var keyId = (await seed.StatusFieldAsync(CloudKey, "keyId"))!;

        await seed.Admin.DisableKeyAsync(new DisableKeyRequest { KeyId = keyId });

        await Eventually.HoldsAsync(
            async () => (await seed.Admin.DescribeKeyAsync(new DescribeKeyRequest { KeyId = keyId })).KeyMetadata.KeyState == KeyState.Enabled,
            Within, "the KMS key enabled again by the operator");
        await Eventually.HoldsAsync(async () => (await DriftEventsAsync(seed)).Contains("disabled outside the operator", StringComparison.Ordinal), Within, "a Drift event");
        await seed.WaitReadyAsync(resources: CloudKey);
    }

    [Fact]
    public async Task AliasMovedToSomebodyElsesKeyByHand_IsLeftThereAndTheCloudKeyReportsConflict()
    {
        await using var seed = await SeedEnvironment.StartAsync(Cluster, Ns, StartFastResyncOperatorAsync);
        var other = await seed.Admin.CreateKeyAsync(new CreateKeyRequest { Description = "someone else's key" });

        await seed.Admin.UpdateAliasAsync(new UpdateAliasRequest { AliasName = SeedEnvironment.Alias, TargetKeyId = other.KeyMetadata.KeyId });
        var moves = seed.Kms.CallCount("UpdateAlias");

        // The alias now names a key without this CloudKey's UID tag: taking it back would make that key's users encrypt
        // under ours, so the operator reports it and changes nothing.
        await Eventually.HoldsAsync(async () => await seed.ReadyReasonAsync(CloudKey) == "Conflict", Within, "the CloudKey Ready=False Conflict");
        Assert.Equal(other.KeyMetadata.KeyId, (await seed.Admin.DescribeKeyAsync(new DescribeKeyRequest { KeyId = SeedEnvironment.Alias })).KeyMetadata.KeyId);
        Assert.Equal(moves, seed.Kms.CallCount("UpdateAlias"));
        Assert.Contains($"already names KMS key {other.KeyMetadata.KeyId}", await seed.ReadyMessageAsync(CloudKey), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AliasRenamedInTheSpec_NewAliasNamesTheKeyAndTheOldOneIsGone()
    {
        await using var seed = await SeedEnvironment.StartAsync(Cluster, Ns, StartFastResyncOperatorAsync);
        var keyId = (await seed.StatusFieldAsync(CloudKey, "keyId"))!;

        await seed.PatchSpecAsync(CloudKey, new { alias = "payments/db-v2" });

        await Eventually.HoldsAsync(async () => await seed.StatusFieldAsync(CloudKey, "alias") == "alias/payments/db-v2", Within, "status.alias renamed");
        var aliases = (await seed.Admin.ListAliasesAsync(new ListAliasesRequest { KeyId = keyId })).Aliases.Select(a => a.AliasName).ToList();
        Assert.Equal(["alias/payments/db-v2"], aliases);
        await Assert.ThrowsAsync<NotFoundException>(() => seed.Admin.DescribeKeyAsync(new DescribeKeyRequest { KeyId = SeedEnvironment.Alias }));
    }

    [Fact]
    public async Task RetainedKey_NewCloudKeyOfTheSameName_RefusedUntilAdoptedThenTakesItOver()
    {
        await using var seed = await SeedEnvironment.StartAsync(Cluster, Ns, StartFastResyncOperatorAsync);
        var keyId = (await seed.StatusFieldAsync(CloudKey, "keyId"))!;
        var keysBefore = (await seed.ListKeyIdsAsync()).Count;
        var cloudKey = await seed.GetAsync(CloudKey);
        await seed.KubectlAsync($"delete {CloudKey} --wait=true --timeout=60s");

        // Same name, no adopt: the leftover material belongs to the retained key; nothing is created.
        var spec = cloudKey["spec"]!.DeepClone().AsObject();
        var recreate = $$"""
            {"apiVersion":"xks.dev/v1alpha1","kind":"CloudKey","metadata":{"name":"{{SeedEnvironment.CloudKeyName}}"},"spec":{{spec.ToJsonString()}}}
            """;
        await seed.KubectlAsync("apply -f -", recreate);
        await Eventually.HoldsAsync(async () => (await seed.ReadyReasonAsync(CloudKey)) == "Conflict", Within, "Ready=False Conflict");
        Assert.Equal(keysBefore, (await seed.ListKeyIdsAsync()).Count);

        // With spec.adopt naming the retained key, the new CloudKey serves it again: same key, same material.
        await seed.PatchSpecAsync(CloudKey, new { adopt = new { keyId } });
        await seed.WaitReadyAsync(resources: CloudKey);
        Assert.Equal(keyId, await seed.StatusFieldAsync(CloudKey, "keyId"));
        Assert.Equal(keysBefore, (await seed.ListKeyIdsAsync()).Count);
        var data = await seed.Envelope.EncryptAsync(SeedEnvironment.Alias, "after adoption"u8.ToArray(), new Dictionary<string, string>());
        Assert.Equal("after adoption"u8.ToArray(), await seed.Envelope.DecryptAsync(data));
    }

    [Fact]
    public async Task ExpirationReached_KmsKeyDisabledAndReadyReasonExpired()
    {
        await using var seed = await SeedEnvironment.StartAsync(Cluster, Ns, StartFastResyncOperatorAsync);
        var at = DateTime.UtcNow.AddSeconds(20).ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
        await seed.KubectlAsync("apply -f -", $$"""
            {"apiVersion":"xks.dev/v1alpha1","kind":"CloudKey","metadata":{"name":"expiring"},
             "spec":{"keySetRef":{"name":"{{SeedEnvironment.KeySetName}}"},"alias":"expiring","expiration":{"at":"{{at}}","action":"Disable"} } }
            """);
        await seed.WaitReadyAsync(TimeSpan.FromSeconds(60), "cloudkey/expiring");
        var keyId = (await seed.StatusFieldAsync("cloudkey/expiring", "keyId"))!;

        await Eventually.HoldsAsync(
            async () => (await seed.Admin.DescribeKeyAsync(new DescribeKeyRequest { KeyId = keyId })).KeyMetadata.KeyState == KeyState.Disabled,
            TimeSpan.FromSeconds(60), "the KMS key disabled at its expiration");
        await Eventually.HoldsAsync(async () => await seed.ReadyReasonAsync("cloudkey/expiring") == "Expired", Within, "Ready=False Expired");
        var xksKeyId = (await seed.StatusFieldAsync("cloudkey/expiring", "xksKeyId"))!;
        await Eventually.HoldsAsync(async () => (await seed.ProxyKeyMetadataAsync(xksKeyId)).Body.Contains("DISABLED", StringComparison.Ordinal), Within, "the proxy reporting the expired key DISABLED");
    }

    private static async Task<string> DriftEventsAsync(SeedEnvironment seed)
    {
        var events = await seed.Cluster.KubectlAsync($"get events -n {seed.Ns} --field-selector reason=Drift -o jsonpath={{.items[*].message}}");
        return events.StandardOutput;
    }
}
