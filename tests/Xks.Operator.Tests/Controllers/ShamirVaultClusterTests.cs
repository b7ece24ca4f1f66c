using System.Text;
using System.Text.Json.Nodes;
using k8s;
using Xks.Contracts.KeyCustody;
using Xks.Contracts.KeyWrap;
using Xks.Operator.Entities;
using Xks.Operator.Resources;
using Xks.Operator.Scenarios.Tests;
using Xks.Operator.Support.Tests;
using Xks.Testing;
using Xunit.Abstractions;

namespace Xks.Operator.Controllers.Tests;

/// <summary>
/// A Vault with keyProtection Shamir (config/samples/shamir) on the seed scenario: the custodians' ceremony run with
/// <c>xks-operator shamir init</c>, a proxy that starts sealed (not ready, GetHealthStatus UNAVAILABLE), unsealed only by
/// k of the custodians' shares through its unseal API (k-1 leave it sealed; a share of another ceremony is detected and
/// never used), key versions the operator records as derivation salts, and etcd — read raw — holding neither the
/// unseal key nor the root.
/// </summary>
[Trait("Category", "Cluster")]
[Collection(LatencyCollection.Name)]
public sealed class ShamirVaultClusterTests(ITestOutputHelper output) : OperatorClusterTest("shamir")
{
    private static readonly Dictionary<string, string> Context = new(StringComparer.Ordinal) { ["aws:s3:arn"] = "arn:aws:s3:::shamir/object" };

    [Fact]
    public async Task SeedScenario_ShamirVault_SealedUntilKSharesThenServes_AndEtcdHoldsNoKey()
    {
        await using var seed = await SeedEnvironment.CreateAsync(Cluster, Ns, () => StartOperatorAsync(), shamir: true);
        await seed.StartOperatorAsync();

        // Before the ceremony the Vault says what is missing; the CloudKey waits for the keyring.
        await Eventually.HoldsAsync(async () => await seed.ReadyReasonAsync("vault/" + SeedEnvironment.VaultName) == Reasons.KeyringMissing, TimeSpan.FromSeconds(60), "Vault Ready=False KeyringMissing");
        Assert.Contains("xks-operator shamir init", (await seed.ReadyMessageAsync("vault/" + SeedEnvironment.VaultName))!, StringComparison.Ordinal);
        Assert.Null(await seed.TrySecretAsync(SeedEnvironment.KeyMaterialSecretName));

        await seed.InitShamirAsync();
        var again = await OperatorCli.RunAsync("shamir", "init", "--namespace", Ns, "--vault", SeedEnvironment.VaultName, "--threshold", "2", "--shares", "3", "--out-dir", Path.Combine(Path.GetTempPath(), "xks-shares-" + Guid.NewGuid().ToString("N")));
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("the ceremony runs once per Vault", again.Output, StringComparison.Ordinal);

        // The proxy starts sealed: not ready, health UNAVAILABLE.
        await seed.RunProxyAsync(unseal: false);
        Assert.Equal(503, await ReadyzAsync(seed));
        var (status, body) = await SealStatusAsync(seed);
        Assert.Equal(200, status);
        Assert.Equal((true, SeedEnvironment.ShamirThreshold, 0), Seal(body));

        // One share of two: still sealed. A share from another ceremony for this Vault: the set fails its check, progress resets.
        var (otherKeyring, otherShares) = ShamirCeremony.Initialize(CustodianShare.VaultIdFor(Ns, SeedEnvironment.VaultName), SeedEnvironment.ShamirThreshold, SeedEnvironment.ShamirShares);
        Assert.NotEqual(otherKeyring.UnsealKeyCheckValue, ShamirKeyring.Parse(Encoding.UTF8.GetString((await seed.TrySecretAsync(SeedEnvironment.VaultName + "-keyring"))!.Data["keyring.json"])).UnsealKeyCheckValue);
        var first = await seed.UnsealAsync(seed.ShareTexts[0]);
        Assert.Equal((200, (true, 2, 1)), (first.Status, Seal(first.Body)));
        Assert.Equal(503, await ReadyzAsync(seed));
        var wrong = await seed.UnsealAsync(otherShares[1]);
        output.WriteLine($"a share of another ceremony: {wrong.Status} {wrong.Body}");
        Assert.Equal(422, wrong.Status);
        Assert.Contains("WrongShares", wrong.Body, StringComparison.Ordinal);
        Assert.Equal((true, 2, 0), Seal((await SealStatusAsync(seed)).Body));
        var malformed = await seed.UnsealAsync(seed.ShareTexts[0][..^1] + (seed.ShareTexts[0][^1] == 'a' ? 'b' : 'a'));
        Assert.Equal(400, malformed.Status);
        Assert.Equal(503, await ReadyzAsync(seed));

        // k shares: unsealed, ready, the seed scenario runs.
        foreach (var share in seed.ShareTexts.Skip(1).Take(SeedEnvironment.ShamirThreshold))
        {
            var answer = await seed.UnsealAsync(share);
            Assert.Equal(200, answer.Status);
        }

        await seed.Proxy!.WaitReadyAsync(seed.CaFile, TimeSpan.FromSeconds(30));
        Assert.False(Seal((await SealStatusAsync(seed)).Body).Sealed);
        await seed.WaitReadyAsync();
        await seed.WarmUpAsync();
        var content = Encoding.UTF8.GetBytes("split among custodians, " + Guid.NewGuid());
        var stored = await seed.Envelope.EncryptAsync(SeedEnvironment.Alias, content, Context);
        Assert.Equal(content, await seed.Envelope.DecryptAsync(stored));
        var root = Conditions.Get(KubernetesJson.Deserialize<V1Alpha1Vault>((await seed.GetAsync("vault/" + SeedEnvironment.VaultName)).ToJsonString()).Status?.Conditions, ConditionTypes.RootKeyProtected);
        Assert.Equal((ConditionStatus.True, Reasons.RootKeySplitAmongCustodians), (root?.Status, root?.Reason));
        Assert.Null(await seed.TrySecretAsync(SeedEnvironment.VaultName + "-master-key"));

        // The material holds derivation salts only (format 4), recorded as backend shamir.
        Assert.True(KeyMaterialSecret.TryRead((await seed.TrySecretAsync(SeedEnvironment.KeyMaterialSecretName))!, out _, out var versions, out var backend, out var problem), problem);
        Assert.Equal(KeyMaterialSecret.ShamirBackend, backend);
        Assert.True(DerivedKey.TryParse(Convert.FromBase64String(Assert.Single(versions).WrappedMaterial!), out _, out _));

        // etcd, read raw: no 32-byte window is the unseal key or a root key (their key-check values match none).
        var keyring = ShamirKeyring.Parse(Encoding.UTF8.GetString((await seed.TrySecretAsync(SeedEnvironment.VaultName + "-keyring"))!.Data["keyring.json"]));
        var checkValues = keyring.Roots.Select(r => r.KeyCheckValue).Append(keyring.UnsealKeyCheckValue).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var dump = await EtcdDump.ValuesAsync($"/registry/secrets/{Ns}/");
        var matching = Enumerable.Range(0, dump.Length - 32 + 1).Count(i => checkValues.Contains(WrappedKey.KeyCheckValue(dump.AsSpan(i, 32))));
        output.WriteLine($"etcd holds {dump.Length} bytes of Secrets in {Ns}; 32-byte windows whose key-check value is the unseal key's or a root's: {matching}");
        Assert.Equal(0, matching);
        Assert.Contains(keyring.UnsealKeyCheckValue, Encoding.UTF8.GetString(dump), StringComparison.OrdinalIgnoreCase);

        // A restarted proxy is sealed again (no custodian, no peer yet): the object decrypts once k custodians unseal it.
        await seed.StopProxyAsync();
        await seed.RunProxyAsync(unseal: false);
        Assert.Equal(503, await ReadyzAsync(seed));
        foreach (var share in seed.ShareTexts.Take(SeedEnvironment.ShamirThreshold))
        {
            Assert.Equal(200, (await seed.UnsealAsync(share)).Status);
        }

        await seed.Proxy!.WaitReadyAsync(seed.CaFile, TimeSpan.FromSeconds(30));
        Assert.Equal(content, await seed.Envelope.DecryptAsync(stored));

        foreach (var text in new[] { seed.Operator!.Output, seed.Proxy.Output, (await Cluster.KubectlAsync($"get events -n {Ns} -o json")).StandardOutput })
        {
            foreach (var share in seed.ShareTexts)
            {
                Assert.DoesNotContain(share, text, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public async Task RootRotation_KCustodiansUnderAGenerateDataKeyDecryptLoop_FailsNoRequest_AndTheOldRootRetires()
    {
        await using var seed = await SeedEnvironment.StartAsync(Cluster, Ns, () => StartOperatorAsync(), shamir: true);
        var content = Encoding.UTF8.GetBytes("before the Shamir root rotation, " + Guid.NewGuid());
        var stored = await seed.Envelope.EncryptAsync(SeedEnvironment.Alias, content, Context);
        await seed.AnnotateAsync("cloudkey/" + SeedEnvironment.CloudKeyName, "xks.dev/rotate-key", "v2");
        await Eventually.HoldsAsync(async () => (await VersionsAsync(seed)).Count == 2, TimeSpan.FromSeconds(60), "key version 2 recorded");
        await seed.WarmUpAsync(); // version 2's first use; the claim below is about the root rotation
        var shareFiles = seed.ShareTexts.Skip(1).Take(SeedEnvironment.ShamirThreshold).Select(text =>
        {
            var file = Path.Combine(Path.GetTempPath(), "xks-share-" + Guid.NewGuid().ToString("N") + ".txt");
            File.WriteAllText(file, text + "\n");
            return file;
        }).ToList();

        using var stop = new CancellationTokenSource();
        var load = Task.Run(() => seed.RoundTripsAsync(Context, stop.Token));
        await Task.Delay(TimeSpan.FromSeconds(1));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var rotation = await OperatorCli.RunAsync(["shamir", "rotate-root", "--namespace", Ns, "--vault", SeedEnvironment.VaultName, .. shareFiles.SelectMany(f => new[] { "--share-file", f })]);
        var took = clock.Elapsed;
        await Task.Delay(TimeSpan.FromSeconds(2));
        await stop.CancelAsync();
        var (succeeded, failures) = await load;
        foreach (var file in shareFiles)
        {
            File.Delete(file);
        }

        output.WriteLine($"shamir rotate-root ({took.TotalSeconds:F1} s):\n{rotation.Output}\n{succeeded} GenerateDataKey+Decrypt round trips meanwhile, {failures.Count} failed");
        Assert.True(rotation.ExitCode == 0, rotation.Output);
        Assert.True(failures.Count == 0, string.Join('\n', failures));
        Assert.True(succeeded > 20, $"only {succeeded} round trips");

        // One root left, version 2; every key version wrapped under it (format 2); the same keys.
        var keyring = ShamirKeyring.Parse(Encoding.UTF8.GetString((await seed.TrySecretAsync(SeedEnvironment.VaultName + "-keyring"))!.Data["keyring.json"]));
        Assert.Equal([2], keyring.RootVersions);
        Assert.Equal(2, keyring.CurrentRoot);
        Assert.All(await VersionsAsync(seed), v => Assert.Equal(2, Custody.ShamirRotation.RootOf(v.WrappedMaterial)));
        Assert.Equal(content, await seed.Envelope.DecryptAsync(stored));

        // A proxy started now has only root 2 to open: unsealed by k custodians, it serves the old object; a new version derives under root 2.
        await seed.StopProxyAsync();
        await seed.RunProxyAsync();
        Assert.Equal(content, await seed.Envelope.DecryptAsync(stored));
        await seed.AnnotateAsync("cloudkey/" + SeedEnvironment.CloudKeyName, "xks.dev/rotate-key", "v3");
        await Eventually.HoldsAsync(async () => (await VersionsAsync(seed)).Count == 3, TimeSpan.FromSeconds(60), "key version 3 recorded");
        Assert.True(DerivedKey.TryParse(Convert.FromBase64String((await VersionsAsync(seed)).Single(v => v.Version == 3).WrappedMaterial!), out var root, out _) && root == 2);
        var fresh = Encoding.UTF8.GetBytes("after, " + Guid.NewGuid());
        await Eventually.HoldsAsync(async () =>
        {
            try
            {
                return (await seed.Envelope.DecryptAsync(await seed.Envelope.EncryptAsync(SeedEnvironment.Alias, fresh, Context))).AsSpan().SequenceEqual(fresh);
            }
            catch (Amazon.KeyManagementService.AmazonKeyManagementServiceException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(30), "a round trip under version 3");

        // Run again: one root, nothing to do; the wrong shares are refused before anything changes.
        var again = await OperatorCli.RunAsync(["shamir", "rotate-root", "--namespace", Ns, "--vault", SeedEnvironment.VaultName, .. WriteShares(seed.ShareTexts.Take(1).Append(ShamirCeremony.Initialize(CustodianShare.VaultIdFor(Ns, SeedEnvironment.VaultName), 2, 3).ShareTexts[2]))]);
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("do not reconstruct", again.Output, StringComparison.Ordinal);
        Assert.Equal([2], ShamirKeyring.Parse(Encoding.UTF8.GetString((await seed.TrySecretAsync(SeedEnvironment.VaultName + "-keyring"))!.Data["keyring.json"])).RootVersions);
    }

    private static string[] WriteShares(IEnumerable<string> texts) =>
        [.. texts.SelectMany(text =>
        {
            var file = Path.Combine(Path.GetTempPath(), "xks-share-" + Guid.NewGuid().ToString("N") + ".txt");
            File.WriteAllText(file, text + "\n");
            return new[] { "--share-file", file };
        })];

    private static async Task<IReadOnlyList<ProxyKeyVersionModel>> VersionsAsync(SeedEnvironment seed) =>
        KeyMaterialSecret.TryRead((await seed.TrySecretAsync(SeedEnvironment.KeyMaterialSecretName))!, out _, out var versions, out _) ? versions : [];

    private static (bool Sealed, int Threshold, int Progress) Seal(string body)
    {
        var json = JsonNode.Parse(body)!;
        return (json["sealed"]!.GetValue<bool>(), json["threshold"]?.GetValue<int>() ?? 0, json["progress"]?.GetValue<int>() ?? 0);
    }

    private static async Task<(int Status, string Body)> SealStatusAsync(SeedEnvironment seed)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{seed.Proxy!.AdminPort}/admin/v1/seal-status"));
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static async Task<int> ReadyzAsync(SeedEnvironment seed)
    {
        using var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true; // status only; TLS is tested elsewhere
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(10) };
        using var response = await http.GetAsync(new Uri($"https://127.0.0.1:{seed.Proxy!.Port}{ProxyLayout.ReadinessPath}"));
        return (int)response.StatusCode;
    }
}
