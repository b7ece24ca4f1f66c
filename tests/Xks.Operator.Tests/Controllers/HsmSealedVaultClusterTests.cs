using System.Text;
using k8s;
using Xks.Contracts.KeyWrap;
using Xks.Operator.Entities;
using Xks.Operator.Resources;
using Xks.Operator.Scenarios.Tests;
using Xks.Operator.Support.Tests;
using Xks.Testing;
using Xunit.Abstractions;

namespace Xks.Operator.Controllers.Tests;

/// <summary>
/// A Vault on the software backend with keyProtection HsmSealed (config/samples/hsm-sealed), end to end on the seed
/// scenario: the root key generated in a SoftHSM2 token of the test's own, key versions generated and sealed inside it,
/// the proxy unwrapping them through the HSM, and etcd — read raw, as etcdctl would — holding nothing that opens them.
/// The inverse of <c>KeyCustodyClusterTests.EtcdDump_PlaintextVault_…</c>.
/// </summary>
[Trait("Category", "Cluster")]
[Collection(LatencyCollection.Name)]
public sealed class HsmSealedVaultClusterTests(ITestOutputHelper output) : OperatorClusterTest("sealed")
{
    private static readonly Dictionary<string, string> Context = new(StringComparer.Ordinal) { ["aws:s3:arn"] = "arn:aws:s3:::sealed/object" };

    [Fact]
    public async Task SeedScenario_HsmSealedVault_ServesWithNoMasterKey_AndEtcdHoldsNothingThatUnwrapsTheMaterial()
    {
        using var hsm = new SoftHsm();
        await using var seed = await SeedEnvironment.StartAsync(Cluster, Ns, () => StartOperatorAsync(environment: hsm.Environment), hsm, hsmSealed: true);

        // Served: an object encrypted through KMS and the proxy decrypts byte for byte, before and after a key rotation (below).
        var content = Encoding.UTF8.GetBytes("sealed by the HSM, " + Guid.NewGuid());
        var stored = await seed.Envelope.EncryptAsync(SeedEnvironment.Alias, content, Context);
        Assert.Equal(content, await seed.Envelope.DecryptAsync(stored));

        // The Vault says where its root of trust is; no master key exists anywhere.
        var vault = KubernetesJson.Deserialize<V1Alpha1Vault>(KubernetesJson.Serialize(
            await Client.CustomObjects.GetNamespacedCustomObjectAsync("xks.dev", "v1alpha1", Ns, "vaults", SeedEnvironment.VaultName)));
        var root = Conditions.Get(vault.Status?.Conditions, ConditionTypes.RootKeyProtected);
        Assert.Equal((ConditionStatus.True, Reasons.RootKeyInHsm), (root?.Status, root?.Reason));
        var hsmAvailable = Conditions.Get(vault.Status?.Conditions, ConditionTypes.HsmAvailable);
        Assert.Equal((ConditionStatus.True, Reasons.RootKeyReady), (hsmAvailable?.Status, hsmAvailable?.Reason));
        Assert.Null(await seed.TrySecretAsync(SeedEnvironment.VaultName + "-master-key"));
        var deployment = await Client.AppsV1.ReadNamespacedDeploymentAsync(SeedEnvironment.VaultName + "-proxy", Ns);
        Assert.DoesNotContain(deployment.Spec.Template.Spec.Volumes, v => v.Secret?.SecretName == SeedEnvironment.VaultName + "-master-key");
        Assert.Contains(deployment.Spec.Template.Spec.Volumes, v => v.Secret?.SecretName == SeedEnvironment.PinSecretName);

        // A rotation seals version 2 inside the HSM; the proxy unwraps it on its next config; old objects still decrypt.
        await seed.AnnotateAsync("cloudkey/" + SeedEnvironment.CloudKeyName, "xks.dev/rotate-key", "now");
        await Eventually.HoldsAsync(
            async () => KeyMaterialSecret.TryRead((await seed.TrySecretAsync(SeedEnvironment.KeyMaterialSecretName))!, out _, out var listed, out _) && listed.Count == 2,
            TimeSpan.FromSeconds(60), "version 2 recorded");
        var fresh = Encoding.UTF8.GetBytes("after the rotation, " + Guid.NewGuid());
        Assert.Equal(fresh, await seed.Envelope.DecryptAsync(await seed.Envelope.EncryptAsync(SeedEnvironment.Alias, fresh, Context)));
        Assert.Equal(content, await seed.Envelope.DecryptAsync(stored));

        // The material is sealed (format 3, root version 1) and recorded as such.
        var material = (await seed.TrySecretAsync(SeedEnvironment.KeyMaterialSecretName))!;
        Assert.True(KeyMaterialSecret.TryRead(material, out var keyId, out var versions, out var backend, out var problem), problem);
        Assert.Equal(KeyMaterialSecret.HsmSealedBackend, backend);
        var blobs = versions.Select(v => Convert.FromBase64String(v.WrappedMaterial!)).ToList();
        foreach (var blob in blobs)
        {
            Assert.True(SealedKey.TryParse(blob, out var rootVersion, out _));
            Assert.Equal(1, rootVersion);
        }

        // The token holds the root key and nothing else: sensitive, never extractable, local.
        var objects = seed.ListTokenObjects();
        var (header, attributes) = Assert.Single(objects);
        output.WriteLine($"pkcs11-tool: {header}; label {attributes.GetValueOrDefault("label")}; usage {attributes.GetValueOrDefault("Usage")}; access {attributes.GetValueOrDefault("Access")}");
        Assert.Equal("Secret Key Object; AES length 32", header);
        Assert.Equal($"xks-root/{Ns}/{SeedEnvironment.VaultName}/r1", attributes["label"]);
        var access = attributes["Access"].Split(", ");
        Assert.Contains("sensitive", access);
        Assert.Contains("never extractable", access);
        Assert.DoesNotContain("extractable", access);

        // etcd, read raw: every 32-byte window of the namespace's Secrets tried as the root key opens nothing.
        var dump = await EtcdDump.ValuesAsync($"/registry/secrets/{Ns}/");
        var material32 = new byte[32];
        var opening = Enumerable.Range(0, dump.Length - 32 + 1)
            .Count(i => versions.Select((v, n) => SealedKey.TryUnsealWithRoot(dump.AsSpan(i, 32), keyId, v.Version, blobs[n], material32)).Any(opened => opened));
        output.WriteLine($"etcd holds {dump.Length} bytes of Secrets in {Ns}; 32-byte windows that unseal a version of key {keyId}: {opening}");
        Assert.Equal(0, opening);
        Assert.True(dump.Length > 1000, $"the dump should hold the namespace's Secrets ({dump.Length} bytes)");
        Assert.Contains(Encoding.UTF8.GetString(material.Data["versions.json"]), Encoding.UTF8.GetString(dump), StringComparison.Ordinal);

        // Nothing the operator wrote or logged holds the PIN.
        var events = (await Cluster.KubectlAsync($"get events -n {Ns} -o json")).StandardOutput;
        foreach (var text in new[] { seed.Operator!.Output, seed.Proxy!.Output, events, KubernetesJson.Serialize(vault) })
        {
            Assert.DoesNotContain(seed.Pin!, text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task RootKeyRotation_UnderAGenerateDataKeyDecryptLoop_FailsNoRequest_ResealsEveryVersion_AndDestroysTheOldRoot()
    {
        using var hsm = new SoftHsm();
        await using var seed = await SeedEnvironment.StartAsync(Cluster, Ns, () => StartOperatorAsync(environment: hsm.Environment), hsm, hsmSealed: true);
        var content = Encoding.UTF8.GetBytes("before the root rotation, " + Guid.NewGuid());
        var stored = await seed.Envelope.EncryptAsync(SeedEnvironment.Alias, content, Context);
        await seed.AnnotateAsync("cloudkey/" + SeedEnvironment.CloudKeyName, "xks.dev/rotate-key", "v2");
        await Eventually.HoldsAsync(async () => (await VersionsAsync(seed)).Count == 2, TimeSpan.FromSeconds(60), "key version 2 recorded");
        var blobsBefore = (await VersionsAsync(seed)).Select(v => v.WrappedMaterial!).ToList();
        await seed.WarmUpAsync(); // version 2's first use; the claim below is about the root rotation

        using var stop = new CancellationTokenSource();
        var load = Task.Run(() => seed.RoundTripsAsync(Context, stop.Token));
        await Task.Delay(TimeSpan.FromSeconds(1));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await seed.AnnotateAsync("vault/" + SeedEnvironment.VaultName, RootKeyDecisions.RequestAnnotation, "incident-42");

        // Every version resealed under root 2 (new blobs), then root 1 destroyed after the grace: the token holds only r2.
        var prefix = $"xks-root/{Ns}/{SeedEnvironment.VaultName}";
        await Eventually.HoldsAsync(
            async () => (await VersionsAsync(seed)).All(v => SealedKey.TryParse(Convert.FromBase64String(v.WrappedMaterial!), out var root, out _) && root == 2),
            TimeSpan.FromSeconds(60), "every version resealed under root 2");
        var resealedAfter = clock.Elapsed;
        await Eventually.HoldsAsync(
            () => Task.FromResult(seed.ListTokenObjects().Select(o => o.Attributes["label"]).SequenceEqual([prefix + "/r2"])),
            RootKeyDecisions.RetirementGrace + TimeSpan.FromSeconds(60), "root 1 destroyed, root 2 alone in the token");
        var destroyedAfter = clock.Elapsed;
        await Task.Delay(TimeSpan.FromSeconds(2));
        await stop.CancelAsync();
        var (succeeded, failures) = await load;

        output.WriteLine($"root rotation: resealed after {resealedAfter.TotalSeconds:F1} s, old root destroyed after {destroyedAfter.TotalSeconds:F1} s; {succeeded} GenerateDataKey+Decrypt round trips meanwhile, {failures.Count} failed");
        Assert.True(failures.Count == 0, string.Join('\n', failures));
        Assert.True(succeeded > 50, $"only {succeeded} round trips");

        // The same keys: the object from before decrypts; the blobs changed; the marker records the request.
        Assert.Equal(content, await seed.Envelope.DecryptAsync(stored));
        var blobsAfter = (await VersionsAsync(seed)).Select(v => v.WrappedMaterial!).ToList();
        Assert.Equal(2, blobsAfter.Count);
        Assert.Empty(blobsAfter.Intersect(blobsBefore));
        var vault = await seed.GetAsync("vault/" + SeedEnvironment.VaultName);
        Assert.StartsWith("2;", vault["metadata"]!["annotations"]![RootKeyDecisions.MarkerAnnotation]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.EndsWith(";incident-42", vault["metadata"]!["annotations"]![RootKeyDecisions.MarkerAnnotation]!.GetValue<string>(), StringComparison.Ordinal);

        // A new version after the rotation is sealed under root 2; a proxy started now (only root 2 exists) serves both.
        await seed.AnnotateAsync("cloudkey/" + SeedEnvironment.CloudKeyName, "xks.dev/rotate-key", "v3");
        await Eventually.HoldsAsync(async () => (await VersionsAsync(seed)).Count == 3, TimeSpan.FromSeconds(60), "key version 3 recorded");
        Assert.All(await VersionsAsync(seed), v => Assert.True(SealedKey.TryParse(Convert.FromBase64String(v.WrappedMaterial!), out var root, out _) && root == 2));
        await seed.StopProxyAsync();
        await seed.RunProxyAsync();
        Assert.Equal(content, await seed.Envelope.DecryptAsync(stored));
        var fresh = Encoding.UTF8.GetBytes("after, " + Guid.NewGuid());
        Assert.Equal(fresh, await seed.Envelope.DecryptAsync(await seed.Envelope.EncryptAsync(SeedEnvironment.Alias, fresh, Context)));
        var events = (await Cluster.KubectlAsync($"get events -n {Ns} --field-selector involvedObject.kind=Vault -o jsonpath={{.items[*].reason}}")).StandardOutput;
        foreach (var reason in new[] { Reasons.RootKeyRotationStarted, Reasons.KeyVersionsResealed, Reasons.RootKeyDestroyed })
        {
            Assert.Contains(reason, events, StringComparison.Ordinal);
        }
    }

    private static async Task<IReadOnlyList<ProxyKeyVersionModel>> VersionsAsync(SeedEnvironment seed) =>
        KeyMaterialSecret.TryRead((await seed.TrySecretAsync(SeedEnvironment.KeyMaterialSecretName))!, out _, out var versions, out _) ? versions : [];
}
