using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Xks.Operator.Crds.Tests;
using Xks.Operator.Entities;
using Xks.Operator.Scenarios.Tests;
using Xks.Operator.Support.Tests;
using Xks.Testing;
using Xunit.Abstractions;

namespace Xks.Operator.Benchmarks.Tests;

/// <summary>
/// The operator at scale (<c>make bench-operator</c>): for each N of XKS_BENCH_KEYS (default 100 and 1,000), the seed
/// scenario's world (<see cref="SeedEnvironment"/>: Vault, CspAccount, KeySet payments, CloudKey payments-db, all Ready,
/// the KMS emulator standing in for AWS, the operator as a process with its default settings), then more KeySets (one
/// external key store each, same Vault and CspAccount; XKS_BENCH_KEYSETS key stores in all, default 10) and N CloudKeys
/// spread across them in ONE <c>kubectl apply</c>. Measured: apply → all N Ready (one LIST per second), the AWS calls the
/// emulator received by operation against the lower bound calls ÷ the operator's configured AWS rate (the baseline of
/// the same run), the calls at rest over XKS_BENCH_REST_MINUTES (default 10; the operator runs with --aws-resync-period
/// and --resync-period of XKS_BENCH_AWS_RESYNC_MINUTES and XKS_BENCH_RESYNC_MINUTES, default 5, so that the window sees
/// two of each; the report scales each operation's rate to the default periods), reconciles per second from the operator's /metrics, and the operator process's RSS and CPU
/// from /proc. Printed and saved to artifacts/bench/operator.md after each N; asserted, once everything is measured and
/// saved, is only that every key turned Ready within XKS_BENCH_TIMEOUT_MINUTES (default 5 min + 1.5 s per key; a run past
/// that is measured as it stands).
/// </summary>
[Trait("Category", "Benchmark")]
public sealed class OperatorScaleBenchmark(ITestOutputHelper output) : IAsyncLifetime
{
    private const string KeySetPrefix = "bench-ks-";
    private const string CloudKeyPrefix = "bench-key-";
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan ScrapeEvery = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan ProgressEvery = TimeSpan.FromSeconds(30);

    private readonly LocalCluster _cluster = LocalCluster.Instance;
    private readonly List<string> _namespaces = [];
    private readonly string _log = Path.Combine(OperatorScaleReport.Directory, "operator.log");

    public async Task InitializeAsync()
    {
        await ClusterCrds.InstallAsync();
        Directory.CreateDirectory(OperatorScaleReport.Directory);
        await File.WriteAllTextAsync(_log, "");
    }

    public async Task DisposeAsync()
    {
        foreach (var ns in _namespaces)
        {
            // The operator is gone: without their finalizers the 1,000s of objects leave with the namespace.
            foreach (var plural in new[] { "cloudkeys", "keysets", "vaults", "cspaccounts" })
            {
                var list = await _cluster.Client.CustomObjects.ListNamespacedCustomObjectAsync("xks.dev", "v1alpha1", ns, plural);
                foreach (var item in JsonNode.Parse(KubernetesJson.Serialize(list))!["items"]!.AsArray())
                {
                    await _cluster.Client.CustomObjects.PatchNamespacedCustomObjectAsync(
                        new V1Patch("""{"metadata":{"finalizers":null}}""", V1Patch.PatchType.MergePatch), "xks.dev", "v1alpha1", ns, plural, item!["metadata"]!["name"]!.GetValue<string>());
                }
            }

            await _cluster.Client.CoreV1.DeleteNamespaceAsync(ns);
        }
    }

    [Fact]
    public async Task Operator_ThousandsOfCloudKeysAppliedAtOnce_AllTurnReadyAndTheFiguresArePrinted()
    {
        var settings = OperatorScaleSettings.FromEnvironment();
        var runs = new List<ScaleRun>();
        foreach (var keys in settings.Keys)
        {
            runs.Add(await RunAsync(keys, settings));
            var report = OperatorScaleReport.Format(settings, runs);
            var path = OperatorScaleReport.Save(report);
            output.WriteLine(report);
            Console.WriteLine(report);
            Progress($"report saved as {path}");
        }

        var incomplete = runs.Where(r => !r.Complete).Select(r => $"N={r.Keys}: {r.ReadyTimes.Count} Ready after {r.AllReady.TotalMinutes:F1} min; not Ready: {string.Join("; ", r.Stragglers)}");
        Assert.True(runs.All(r => r.Complete), string.Join("\n", incomplete));
    }

    private async Task<ScaleRun> RunAsync(int keys, OperatorScaleSettings settings)
    {
        var ns = await _cluster.CreateNamespaceAsync("bench");
        _namespaces.Add(ns);
        Progress($"N={keys}: namespace {ns}; starting the seed scenario (Vault, CspAccount, KeySet, CloudKey)");
        await using var seed = await SeedEnvironment.StartAsync(_cluster, ns, () => StartOperatorAsync(ns, settings));
        var op = seed.Operator!;
        var keySets = KeySetNames(settings.KeyStores);
        var before = await OperatorGauges.ReadAsync(op);
        var callsBefore = seed.Kms.CallCounts();
        var clock = Stopwatch.StartNew();
        var apply = ApplyAsync(seed, Manifest(keys, keySets), clock);
        var burst = await WaitAllReadyAsync(seed, settings, keys, keySets, apply, clock, callsBefore);
        var allReady = clock.Elapsed;
        var applied = await apply;
        var atReady = await OperatorGauges.ReadAsync(op);
        var callsAtReady = seed.Kms.CallCounts();
        Progress($"N={keys}: {burst.ReadyAt.Count}/{keys} Ready after {allReady.TotalSeconds:F1} s ({PhaseFigures.CallsSince(callsBefore, callsAtReady).Values.Sum()} AWS calls); settling {OperatorScaleSettings.Settle.TotalSeconds:F0} s, then {settings.Rest.TotalMinutes:F1} min at rest");

        await Task.Delay(OperatorScaleSettings.Settle);
        var restStart = await OperatorGauges.ReadAsync(op);
        var callsRestStart = seed.Kms.CallCounts();
        var rest = Stopwatch.StartNew();
        while (rest.Elapsed < settings.Rest)
        {
            await Task.Delay(Min(ProgressEvery * 2, settings.Rest - rest.Elapsed));
            Progress($"N={keys}: at rest {rest.Elapsed.TotalMinutes:F1} min: {PhaseFigures.CallsSince(callsRestStart, seed.Kms.CallCounts()).Values.Sum()} AWS calls");
        }

        var restEnd = await OperatorGauges.ReadAsync(op);
        return new ScaleRun(
            keys, keySets.Count, applied, burst.KeySetsReady ?? allReady, [.. burst.ReadyAt.Values.Order()], burst.Stragglers, burst.PeakQueue,
            Burst: PhaseFigures.Between(allReady, before, atReady, callsBefore, callsAtReady),
            Rest: PhaseFigures.Between(rest.Elapsed, restStart, restEnd, callsRestStart, seed.Kms.CallCounts()),
            BeforeRssMb: before.RssMb, ReadyRssMb: atReady.RssMb, RestRssMb: restEnd.RssMb, PeakRssMb: restEnd.PeakRssMb);
    }

    /// <summary>
    /// One LIST of the CloudKeys a second (and of the KeySets until all are Ready) until the N are Ready and the apply is
    /// done, or the timeout; the operator's metrics every 5 s (work queue), progress every 30 s.
    /// </summary>
    private async Task<BurstProgress> WaitAllReadyAsync(SeedEnvironment seed, OperatorScaleSettings settings, int keys, List<string> keySets, Task apply, Stopwatch clock, IReadOnlyDictionary<string, int> callsBefore)
    {
        var timeout = settings.TimeoutFor(keys);
        var progress = new BurstProgress();
        var nextScrape = TimeSpan.Zero;
        var nextProgress = ProgressEvery;
        while (progress.ReadyAt.Count < keys || !apply.IsCompleted)
        {
            var cloudKeys = (await ListAsync<V1Alpha1CloudKey>(seed.Ns, "cloudkeys")).Where(k => k.Metadata.Name.StartsWith(CloudKeyPrefix, StringComparison.Ordinal)).ToList();
            foreach (var key in cloudKeys.Where(k => Conditions.IsTrue(k.Status?.Conditions, ConditionTypes.Ready)))
            {
                progress.ReadyAt.TryAdd(key.Metadata.Name, clock.Elapsed);
            }

            if (progress.KeySetsReady is null && (await ListAsync<V1Alpha1KeySet>(seed.Ns, "keysets")).Count(k => keySets.Contains(k.Metadata.Name) && Conditions.IsTrue(k.Status?.Conditions, ConditionTypes.Ready)) == keySets.Count)
            {
                progress.KeySetsReady = clock.Elapsed;
            }

            if (clock.Elapsed > timeout)
            {
                progress.Stragglers = [.. cloudKeys.Where(k => !progress.ReadyAt.ContainsKey(k.Metadata.Name)).Take(5)
                    .Select(k => Conditions.Get(k.Status?.Conditions, ConditionTypes.Ready) is { } ready ? $"{k.Metadata.Name} {ready.Reason} since {ready.LastTransitionTime:HH:mm:ss}: {ready.Message}" : $"{k.Metadata.Name} no Ready condition")];
                Progress($"N={keys}: {progress.ReadyAt.Count}/{keys} Ready at the timeout ({timeout.TotalMinutes:F0} min); measuring on. Not Ready: {string.Join("; ", progress.Stragglers)}");
                return progress;
            }

            if (clock.Elapsed >= nextScrape)
            {
                var now = await OperatorGauges.ReadAsync(seed.Operator!);
                var queue = now.Sum("xks_operator_workqueue_depth", "controller=\"cloudkey\"");
                progress.PeakQueue = Math.Max(progress.PeakQueue, queue);
                nextScrape = clock.Elapsed + ScrapeEvery;
                if (clock.Elapsed >= nextProgress)
                {
                    Progress($"N={keys}: {clock.Elapsed.TotalSeconds:F0} s: {progress.ReadyAt.Count}/{keys} Ready, KeySets {(progress.KeySetsReady is null ? "not all" : "all")} Ready, apply {(apply.IsCompleted ? "done" : "running")}, "
                        + $"{PhaseFigures.CallsSince(callsBefore, seed.Kms.CallCounts()).Values.Sum()} AWS calls, cloudkey queue {queue}, RSS {now.RssMb:F0} MB");
                    nextProgress = clock.Elapsed + ProgressEvery;
                }
            }

            await Task.Delay(Poll);
        }

        return progress;
    }

    private static async Task<OperatorProcess> StartOperatorAsync(string ns, OperatorScaleSettings settings)
    {
        // The operator's defaults but the two periods, with the production log level (OperatorProcess turns Debug on for the tests).
        var op = await OperatorProcess.StartAsync(ns, extraArguments: settings.OperatorArguments, environment: new Dictionary<string, string> { ["Logging__LogLevel__Default"] = "Information" });
        await op.WaitReadyAsync(TimeSpan.FromSeconds(60));
        return op;
    }

    private static async Task<TimeSpan> ApplyAsync(SeedEnvironment seed, string manifest, Stopwatch clock)
    {
        await seed.KubectlAsync("apply -f -", manifest);
        return clock.Elapsed;
    }

    private async Task<IList<T>> ListAsync<T>(string ns, string plural)
        where T : IKubernetesObject
    {
        var list = await _cluster.Client.CustomObjects.ListNamespacedCustomObjectAsync("xks.dev", "v1alpha1", ns, plural);
        return KubernetesJson.Deserialize<CustomResourceList<T>>(KubernetesJson.Serialize(list)).Items;
    }

    /// <summary>The KeySets the CloudKeys are spread over: the sample's payments and <paramref name="keyStores"/> − 1 more.</summary>
    private static List<string> KeySetNames(int keyStores) =>
        [SeedEnvironment.KeySetName, .. Enumerable.Range(1, keyStores - 1).Select(i => KeySetPrefix + i.ToString("D2", CultureInfo.InvariantCulture))];

    /// <summary>One multi-document YAML: the new KeySets (own key store and URI path each), then N CloudKeys shaped like the sample, round-robin.</summary>
    private static string Manifest(int keys, List<string> keySets)
    {
        var yaml = new StringBuilder();
        foreach (var name in keySets.Where(k => k != SeedEnvironment.KeySetName))
        {
            yaml.Append(CultureInfo.InvariantCulture, $$"""
                apiVersion: xks.dev/v1alpha1
                kind: KeySet
                metadata: {name: {{name}}}
                spec:
                  vaultRef: {name: {{SeedEnvironment.VaultName}}}
                  cspAccountRef: {name: {{SeedEnvironment.CspAccountName}}}
                  externalKeyStore: {name: {{name}}-xks, connectivity: PublicEndpoint}
                  uriPathPrefix: /{{name}}
                ---

                """);
        }

        for (var i = 0; i < keys; i++)
        {
            var name = CloudKeyPrefix + i.ToString("D4", CultureInfo.InvariantCulture);
            yaml.Append(CultureInfo.InvariantCulture, $$"""
                apiVersion: xks.dev/v1alpha1
                kind: CloudKey
                metadata: {name: {{name}}}
                spec:
                  keySetRef: {name: {{keySets[i % keySets.Count]}}}
                  alias: bench/{{name}}
                  administrators: [arn:aws:iam::111122223333:role/kms-admin]
                  users: [arn:aws:iam::111122223333:role/payments-app]
                  rotation: {every: 8760h}
                ---

                """);
        }

        return yaml.ToString();
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private sealed class BurstProgress
    {
        public Dictionary<string, TimeSpan> ReadyAt { get; } = new(StringComparer.Ordinal);

        public TimeSpan? KeySetsReady { get; set; }

        public double PeakQueue { get; set; }

        /// <summary>The first CloudKeys not Ready at the timeout, with their Ready reason and message (empty: all Ready).</summary>
        public IReadOnlyList<string> Stragglers { get; set; } = [];
    }

    private void Progress(string line)
    {
        var stamped = $"{DateTimeOffset.UtcNow:HH:mm:ss} {line}";
        Console.WriteLine(stamped);
        File.AppendAllText(_log, stamped + "\n");
    }
}
