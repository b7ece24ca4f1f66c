using System.Security.Cryptography;
using Amazon.KeyManagementService;
using Amazon.KeyManagementService.Model;
using k8s;
using k8s.Models;
using Xks.Operator.Resources;
using Xks.Operator.Scenarios.Tests;
using Xks.Operator.Support.Tests;
using Xks.Testing;
using Xunit.Abstractions;

namespace Xks.Operator.Backup.Tests;

/// <summary>
/// The disaster drill in one namespace (docs/key-custody.md): the seed scenario encrypts an object; <c>xks-operator
/// backup</c> seals everything to a passphrase; the namespace loses every object (finalizers stripped, as when a
/// cluster is gone); a tampered bundle is refused and writes nothing; <c>xks-operator restore</c> brings the Secrets and
/// resources back; the operator adopts the key store and the KMS key AWS still holds — no new ones — and the object
/// encrypted before the disaster decrypts byte for byte.
/// </summary>
[Trait("Category", "Cluster")]
public sealed class BackupRestoreClusterTests(ITestOutputHelper output) : OperatorClusterTest("restore")
{
    private static readonly Dictionary<string, string> Context = new(StringComparer.Ordinal) { ["aws:s3:arn"] = "arn:aws:s3:::drill/object" };
    private static readonly string[] Kinds = ["cloudkeys", "keysets", "vaults", "cspaccounts"];

    [Fact]
    public async Task Backup_LoseEverything_Restore_TheOldObjectDecrypts()
    {
        await using var seed = await SeedEnvironment.StartAsync(Cluster, Ns, () => StartOperatorAsync());
        var content = RandomNumberGenerator.GetBytes(4096);
        var stored = await seed.Envelope.EncryptAsync(SeedEnvironment.Alias, content, Context);
        var keyId = (await seed.StatusFieldAsync("cloudkey/" + SeedEnvironment.CloudKeyName, "keyId"))!;
        var storeId = (await seed.StatusFieldAsync("keyset/" + SeedEnvironment.KeySetName, "customKeyStoreId"))!;
        var files = TemporaryDirectory.Create("xks-drill");
        try
        {
            await DrillAsync(seed, files, stored, content, keyId, storeId);
        }
        finally
        {
            TemporaryDirectory.TryDelete(files);
        }
    }

    private async Task DrillAsync(SeedEnvironment seed, string files, EnvelopeObject stored, byte[] content, string keyId, string storeId)
    {
        var passphrase = Path.Combine(files, "passphrase");
        await File.WriteAllTextAsync(passphrase, "correct horse battery staple\n");
        var bundle = Path.Combine(files, "xks.bundle");

        var backup = await OperatorCli.RunAsync("backup", "--namespace", Ns, "--vault", SeedEnvironment.VaultName, "--out", bundle, "--passphrase-file", passphrase);
        Assert.True(backup.ExitCode == 0, backup.Output);
        Assert.Contains($"{SeedEnvironment.VaultName}-master-key", backup.Output, StringComparison.Ordinal);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(bundle));
        var bytes = await File.ReadAllBytesAsync(bundle);
        var masterKey = (await seed.TrySecretAsync($"{SeedEnvironment.VaultName}-master-key"))!.Data[ProxyLayout.MasterKeyKey];
        Assert.Equal(-1, bytes.AsSpan().IndexOf(masterKey));

        // The disaster: no operator, no proxy, no objects.
        await seed.KillOperatorAsync();
        await seed.StopProxyAsync();
        await LoseEverythingAsync();

        // A tampered bundle is refused and writes nothing.
        var tampered = Path.Combine(files, "tampered.bundle");
        bytes[bytes.Length / 2] ^= 0x01;
        await File.WriteAllBytesAsync(tampered, bytes);
        var refused = await OperatorCli.RunAsync("restore", "--in", tampered, "--passphrase-file", passphrase);
        Assert.True(refused.ExitCode == 1, refused.Output);
        Assert.Contains("altered", refused.Output, StringComparison.Ordinal);
        Assert.DoesNotContain((await Client.CoreV1.ListNamespacedSecretAsync(Ns)).Items, s => s.Type != "kubernetes.io/service-account-token");

        var restored = await OperatorCli.RunAsync("restore", "--in", bundle, "--passphrase-file", passphrase);
        Assert.True(restored.ExitCode == 0, restored.Output);
        output.WriteLine(restored.Output);

        var createKeysBefore = seed.Kms.CallCount("CreateKey");
        var createStoresBefore = seed.Kms.CallCount("CreateCustomKeyStore");
        await seed.StartOperatorAsync();
        await seed.RunProxyAsync();
        await seed.WaitReadyAsync(TimeSpan.FromSeconds(120));
        await seed.WarmUpAsync(); // a fresh (Debug, JIT-cold) proxy; only KMS's 250 ms timeout is retried, twice at most

        Assert.Equal(keyId, await seed.StatusFieldAsync("cloudkey/" + SeedEnvironment.CloudKeyName, "keyId"));
        Assert.Equal(storeId, await seed.StatusFieldAsync("keyset/" + SeedEnvironment.KeySetName, "customKeyStoreId"));
        Assert.Equal((createKeysBefore, createStoresBefore), (seed.Kms.CallCount("CreateKey"), seed.Kms.CallCount("CreateCustomKeyStore")));
        Assert.Equal(content, await seed.Envelope.DecryptAsync(stored));
        Assert.Equal(KeyState.Enabled, (await seed.Admin.DescribeKeyAsync(new DescribeKeyRequest { KeyId = keyId })).KeyMetadata.KeyState);
    }

    /// <summary>Every resource and Secret of the namespace gone, finalizers and all, as if its cluster were lost.</summary>
    private async Task LoseEverythingAsync()
    {
        foreach (var plural in Kinds)
        {
            var list = await Client.CustomObjects.ListNamespacedCustomObjectAsync("xks.dev", "v1alpha1", Ns, plural);
            foreach (var name in KubernetesJson.Deserialize<V1Alpha1ObjectList>(KubernetesJson.Serialize(list)).Items.Select(i => i.Metadata.Name))
            {
                await TryAsync(() => Client.CustomObjects.PatchNamespacedCustomObjectAsync(new V1Patch(new { metadata = new { finalizers = Array.Empty<string>() } }, V1Patch.PatchType.MergePatch), "xks.dev", "v1alpha1", Ns, plural, name));
                await TryAsync(() => Client.CustomObjects.DeleteNamespacedCustomObjectAsync("xks.dev", "v1alpha1", Ns, plural, name));
            }
        }

        foreach (var secret in (await Client.CoreV1.ListNamespacedSecretAsync(Ns)).Items.Where(s => s.Type != "kubernetes.io/service-account-token"))
        {
            // The garbage collector may delete a Secret owned by a resource deleted above between the list and here.
            await TryAsync(() => Client.CoreV1.PatchNamespacedSecretAsync(new V1Patch(new { metadata = new { finalizers = Array.Empty<string>() } }, V1Patch.PatchType.MergePatch), secret.Metadata.Name, Ns));
            await TryAsync(() => Client.CoreV1.DeleteNamespacedSecretAsync(secret.Metadata.Name, Ns));
        }

        await Eventually.HoldsAsync(async () => (await Client.CoreV1.ListNamespacedSecretAsync(Ns)).Items.All(s => s.Type == "kubernetes.io/service-account-token"), TimeSpan.FromSeconds(30), "every Secret gone");
    }

    private sealed class V1Alpha1ObjectList
    {
        [System.Text.Json.Serialization.JsonPropertyName("items")]
        public List<V1Alpha1Named> Items { get; set; } = [];
    }

    private sealed class V1Alpha1Named
    {
        [System.Text.Json.Serialization.JsonPropertyName("metadata")]
        public V1ObjectMeta Metadata { get; set; } = new();
    }
}
