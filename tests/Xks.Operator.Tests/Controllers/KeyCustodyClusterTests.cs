using System.Security.Cryptography;
using Amazon.KeyManagementService;
using Amazon.KeyManagementService.Model;
using k8s;
using k8s.Models;
using Xks.Operator.Entities;
using Xks.Operator.Resources;
using Xks.Operator.Scenarios.Tests;
using Xks.Operator.Support.Tests;
using Xks.Testing;
using Xunit.Abstractions;

namespace Xks.Operator.Controllers.Tests;

/// <summary>
/// No accidental loss (docs/key-custody.md), end to end on the seed scenario: a hand delete of a key-material or
/// master-key Secret is held by the custody finalizer while the key is served; a master key is never re-created over
/// the material it wrapped; material of a key pending deletion survives a KeySet pointed elsewhere.
/// </summary>
[Trait("Category", "Cluster")]
public sealed class KeyCustodyClusterTests(ITestOutputHelper output) : OperatorClusterTest("custody")
{
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(60);
    private static readonly Dictionary<string, string> Context = new(StringComparer.Ordinal) { ["aws:s3:arn"] = "arn:aws:s3:::custody/object" };

    [Fact]
    public async Task MaterialAndMasterKey_DeletedByHand_StayAndKeepServing()
    {
        await using var seed = await SeedEnvironment.StartAsync(Cluster, Ns, () => StartOperatorAsync());
        var content = RandomNumberGenerator.GetBytes(128);
        var stored = await seed.Envelope.EncryptAsync(SeedEnvironment.Alias, content, Context);
        var masterKey = SeedEnvironment.VaultName + "-master-key";
        var rootKey = Conditions.Get((await ReadVaultAsync()).Status?.Conditions, ConditionTypes.RootKeyProtected);
        Assert.Equal((ConditionStatus.False, Reasons.PlaintextRootKey), (rootKey?.Status, rootKey?.Reason));

        await seed.KubectlAsync($"delete secret {SeedEnvironment.KeyMaterialSecretName} {masterKey} --wait=false");

        await Eventually.HoldsAsync(async () => (await ReasonsOfEventsAsync()).IsSupersetOf([Reasons.KeyMaterialDeletionBlocked, Reasons.MasterKeyDeletionBlocked]),
            Within, "Warning Events KeyMaterialDeletionBlocked and MasterKeyDeletionBlocked");
        foreach (var name in new[] { SeedEnvironment.KeyMaterialSecretName, masterKey })
        {
            var secret = await seed.TrySecretAsync(name);
            Assert.NotNull(secret);
            Assert.NotNull(secret.Metadata.DeletionTimestamp);
            Assert.Contains(KeyCustody.Finalizer, secret.Metadata.Finalizers);
        }

        // Nothing stopped serving: the object encrypted before decrypts, and a new one round-trips.
        Assert.Equal(content, await seed.Envelope.DecryptAsync(stored));
        var fresh = RandomNumberGenerator.GetBytes(64);
        Assert.Equal(fresh, await seed.Envelope.DecryptAsync(await seed.Envelope.EncryptAsync(SeedEnvironment.Alias, fresh, Context)));
        await seed.WaitReadyAsync(Within);
    }

    [Fact]
    public async Task EtcdDump_PlaintextVault_HoldsAKeyThatUnwrapsTheMaterial_AndTheVaultSaysSo()
    {
        await using var seed = await SeedEnvironment.StartAsync(Cluster, Ns, () => StartOperatorAsync());
        Assert.True(KeyMaterialSecret.TryRead((await seed.TrySecretAsync(SeedEnvironment.KeyMaterialSecretName))!, out var keyId, out var versions, out _));

        // What etcdctl get --prefix /registry/secrets/<ns>/ shows: every 32-byte window is tried as a master key.
        var dump = await EtcdDump.ValuesAsync($"/registry/secrets/{Ns}/");
        var unwrapping = Enumerable.Range(0, dump.Length - ProxyLayout.MasterKeyLength + 1)
            .Where(i => KeyMaterial.CanUnwrap(dump.AsSpan(i, ProxyLayout.MasterKeyLength), keyId, versions[0]))
            .ToList();
        output.WriteLine($"etcd holds {dump.Length} bytes of Secrets in {Ns}; 32-byte windows that unwrap key {keyId} v1: {unwrapping.Count}");

        // The development mode's threat, shown: etcd alone holds a key that opens the material. The Vault says so.
        Assert.NotEmpty(unwrapping);
        var rootKey = Conditions.Get((await ReadVaultAsync()).Status?.Conditions, ConditionTypes.RootKeyProtected);
        Assert.Equal((ConditionStatus.False, Reasons.PlaintextRootKey), (rootKey?.Status, rootKey?.Reason));
    }

    [Fact]
    public async Task PendingDeletionMaterial_KeySetPointedAtAnotherRegion_IsKeptWithItsArnAndDate()
    {
        await using var seed = await SeedEnvironment.StartAsync(Cluster, Ns, () => StartOperatorAsync());
        await seed.KubectlAsync("apply -f -", """
            apiVersion: xks.dev/v1alpha1
            kind: CloudKey
            metadata: {name: scratch}
            spec: {keySetRef: {name: payments}, alias: payments/scratch, deletionPolicy: Delete, pendingWindowDays: 7}
            """);
        await seed.WaitReadyAsync(Within, "cloudkey/scratch");
        var arn = (await seed.StatusFieldAsync("cloudkey/scratch", "arn"))!;
        await seed.KubectlAsync("delete cloudkey/scratch --wait=true --timeout=60s");
        var metadata = (await seed.Admin.DescribeKeyAsync(new DescribeKeyRequest { KeyId = arn })).KeyMetadata;
        Assert.Equal(KeyState.PendingDeletion, metadata.KeyState);

        // The release records where the key lives and when AWS deletes it: what the KeySet asks about, and not before.
        var marks = KeyMaterialMarks.Of((await seed.TrySecretAsync("scratch-key-material"))!);
        Assert.True(marks.ReleasedForDeletion);
        Assert.Equal(arn, marks.KmsKeyArn);
        Assert.Equal(metadata.DeletionDate!.Value, marks.DeletionDate!.Value.UtcDateTime, TimeSpan.FromSeconds(1));

        // The KeySet moves to another region: whatever it finds there, the material of the pending key stays.
        var describesBefore = seed.Kms.CallCount("DescribeKey");
        var mutatingBefore = seed.Kms.MutatingCallsNaming(arn, metadata.KeyId).Count;
        await seed.PatchSpecAsync("keyset/" + SeedEnvironment.KeySetName, new { region = "ap-southeast-2" });
        await Eventually.HoldsAsync(async () => await seed.ReadyReasonAsync("keyset/" + SeedEnvironment.KeySetName) is { } reason && reason != Reasons.Connected,
            Within, "the KeySet reconciled in its new region");
        await Task.Delay(TimeSpan.FromSeconds(3));
        var kept = await seed.TrySecretAsync("scratch-key-material");
        Assert.NotNull(kept);
        Assert.Null(kept.Metadata.DeletionTimestamp);
        Assert.Contains(KeyCustody.Finalizer, kept.Metadata.Finalizers);
        Assert.Equal(mutatingBefore, seed.Kms.MutatingCallsNaming(arn, metadata.KeyId).Count);
        output.WriteLine($"DescribeKey calls while the KeySet pointed elsewhere: {seed.Kms.CallCount("DescribeKey") - describesBefore}");
    }

    [Fact]
    public async Task MasterKey_GoneWhileMaterialItWrappedExists_IsNotRecreated()
    {
        await using var op = await StartOperatorAsync();
        await ApplyAsync("""
            apiVersion: xks.dev/v1alpha1
            kind: Vault
            metadata: {name: lost}
            spec:
              hostname: lost.example.com
              replicas: 2
              tls:
                issuerRef: {name: letsencrypt, kind: ClusterIssuer}
              exposure:
                type: Ingress
                ingress: {className: nginx}
            """);
        await Eventually.HoldsAsync(async () => await TrySecretAsync("lost-master-key") is not null, Within, "the master key created");
        var masterKey = (await TrySecretAsync("lost-master-key"))!;
        Assert.True(KeyCustody.IsProtected(masterKey.Metadata));

        // Material wrapped by it (a CloudKey's, or one deleted with Retain), then the master key lost for good.
        var retained = new V1Alpha1CloudKey { Metadata = new V1ObjectMeta { Name = "orphan", NamespaceProperty = Ns, Uid = Guid.NewGuid().ToString() } };
        var id = CloudKeyNames.XksKeyId(retained);
        await Client.CoreV1.CreateNamespacedSecretAsync(KeyMaterialSecret.Build(retained, "lost", id, [KeyMaterial.Wrap(masterKey.Data[ProxyLayout.MasterKeyKey], id, 1, DateTimeOffset.UtcNow)]), Ns);
        await Client.CoreV1.PatchNamespacedSecretAsync(new V1Patch(new { metadata = new { finalizers = Array.Empty<string>() } }, V1Patch.PatchType.MergePatch), "lost-master-key", Ns);
        await Client.CoreV1.DeleteNamespacedSecretAsync("lost-master-key", Ns);

        await Eventually.HoldsAsync(async () => Conditions.Get((await ReadVaultAsync("lost")).Status?.Conditions, ConditionTypes.Ready) is { Reason: Reasons.MasterKeyMissing },
            Within, "the Vault Ready=False MasterKeyMissing");
        var ready = Conditions.Get((await ReadVaultAsync("lost")).Status!.Conditions, ConditionTypes.Ready)!;
        Assert.Contains("orphan-key-material", ready.Message, StringComparison.Ordinal);
        Assert.Contains(Reasons.MasterKeyMissing, await ReasonsOfEventsAsync());
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Null(await TrySecretAsync("lost-master-key"));
    }

    private async Task<V1Alpha1Vault> ReadVaultAsync(string name = SeedEnvironment.VaultName) =>
        KubernetesJson.Deserialize<V1Alpha1Vault>(KubernetesJson.Serialize(await Client.CustomObjects.GetNamespacedCustomObjectAsync("xks.dev", "v1alpha1", Ns, "vaults", name)));

    private async Task<HashSet<string>> ReasonsOfEventsAsync() =>
        [.. (await Client.CoreV1.ListNamespacedEventAsync(Ns)).Items.Where(e => e.Type == "Warning").Select(e => e.Reason)];

    private async Task<V1Secret?> TrySecretAsync(string name)
    {
        try
        {
            return await Client.CoreV1.ReadNamespacedSecretAsync(name, Ns);
        }
        catch (k8s.Autorest.HttpOperationException ex) when (ex.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }
    }
}
