using System.Globalization;
using System.Text;
using Xks.Operator.Aws;
using Xks.Operator.Options;
using Xks.Testing;

namespace Xks.Operator.Benchmarks.Tests;

/// <summary>
/// XKS_BENCH_KEYS (N values, default "100,1000"), XKS_BENCH_KEYSETS (key stores, default 10), XKS_BENCH_REST_MINUTES
/// (default 10), XKS_BENCH_TIMEOUT_MINUTES (for all N Ready; default 5 + 1.5 s per key, e.g. 30 at 1,000).
/// </summary>
/// <param name="Keys">The Ns to run.</param>
/// <param name="KeyStores">The KeySets the keys are spread over.</param>
/// <param name="Rest">The window at rest.</param>
/// <param name="Timeout">How long N keys may take to turn Ready (null: 5 min + 1.5 s per key).</param>
/// <param name="AwsResync">The operator's --aws-resync-period in the run: shorter than the default, so that the window sees drift checks.</param>
/// <param name="Resync">The operator's --resync-period in the run, likewise.</param>
internal sealed record OperatorScaleSettings(IReadOnlyList<int> Keys, int KeyStores, TimeSpan Rest, TimeSpan? Timeout, TimeSpan AwsResync, TimeSpan Resync)
{
    /// <summary>The operator's command line for the run: its defaults but the two periods.</summary>
    public string OperatorArguments => $"--aws-resync-period {AwsResync.TotalSeconds:0}s --resync-period {Resync.TotalSeconds:0}s";

    /// <summary>
    /// How often <paramref name="operation"/> runs at the operator's defaults compared with this run: the CloudKey drift
    /// reads follow --aws-resync-period, everything else (the KeySets' key store reads) at most the resync.
    /// </summary>
    public double ToDefaults(string operation)
    {
        var defaults = new OperatorOptions();
        return operation is "DescribeKey" or "GetKeyPolicy" or "ListAliases"
            ? AwsResync / defaults.AwsResyncPeriod
            : Resync / defaults.ResyncPeriod;
    }

    /// <summary>After all Ready and before the rest window: the last status writes and config renders settle.</summary>
    public static readonly TimeSpan Settle = TimeSpan.FromSeconds(30);

    public static OperatorScaleSettings FromEnvironment()
    {
        var keys = Variable("XKS_BENCH_KEYS", "100,1000").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(n => int.Parse(n.Replace("_", "", StringComparison.Ordinal), CultureInfo.InvariantCulture)).ToList();
        var keyStores = int.Parse(Variable("XKS_BENCH_KEYSETS", "10"), CultureInfo.InvariantCulture);
        var rest = TimeSpan.FromMinutes(double.Parse(Variable("XKS_BENCH_REST_MINUTES", "10"), CultureInfo.InvariantCulture));
        var awsResync = TimeSpan.FromMinutes(double.Parse(Variable("XKS_BENCH_AWS_RESYNC_MINUTES", "5"), CultureInfo.InvariantCulture));
        var resync = TimeSpan.FromMinutes(double.Parse(Variable("XKS_BENCH_RESYNC_MINUTES", "5"), CultureInfo.InvariantCulture));
        var timeout = Environment.GetEnvironmentVariable("XKS_BENCH_TIMEOUT_MINUTES") is { Length: > 0 } minutes
            ? TimeSpan.FromMinutes(double.Parse(minutes, CultureInfo.InvariantCulture))
            : (TimeSpan?)null;
        Assert.True(keys.Count > 0 && keys.All(n => n > 0), "XKS_BENCH_KEYS: comma-separated numbers of CloudKeys, e.g. 100,1000");
        Assert.True(keyStores >= 1, "XKS_BENCH_KEYSETS: at least 1 (the sample's KeySet)");
        return new OperatorScaleSettings(keys, keyStores, rest, timeout, awsResync, resync);
    }

    /// <summary>How long N CloudKeys may take to turn Ready.</summary>
    public TimeSpan TimeoutFor(int keys) => Timeout ?? TimeSpan.FromMinutes(5) + (keys * TimeSpan.FromSeconds(1.5));

    private static string Variable(string name, string fallback) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : fallback;
}

/// <summary>What the operator did over one stretch of time (apply → all Ready, or the rest window).</summary>
/// <param name="Duration">How long the stretch lasted.</param>
/// <param name="Calls">AWS calls the emulator received, by operation.</param>
/// <param name="Reconciles">Reconciles by controller (the operator's metrics).</param>
/// <param name="Failed">AWS calls that failed, "operation outcome" → count (the operator's metrics; Throttled: refused by its own rate limiter).</param>
/// <param name="ReconcileErrors">Reconciles that ended in an error.</param>
/// <param name="Cpu">CPU time (user and system) of the operator process.</param>
internal sealed record PhaseFigures(TimeSpan Duration, IReadOnlyDictionary<string, int> Calls, IReadOnlyDictionary<string, double> Reconciles, IReadOnlyDictionary<string, double> Failed, double ReconcileErrors, TimeSpan Cpu)
{
    public static PhaseFigures Between(TimeSpan duration, OperatorGauges from, OperatorGauges to, IReadOnlyDictionary<string, int> callsFrom, IReadOnlyDictionary<string, int> callsTo)
    {
        var failedBefore = from.FailedCalls();
        return new PhaseFigures(
            duration,
            CallsSince(callsFrom, callsTo),
            to.LabelValues("xks_operator_reconcile_total", "controller").ToDictionary(
                c => c, c => to.Sum("xks_operator_reconcile_total", $"controller=\"{c}\"") - from.Sum("xks_operator_reconcile_total", $"controller=\"{c}\""), StringComparer.Ordinal),
            to.FailedCalls().Select(f => (f.Key, Count: f.Value - failedBefore.GetValueOrDefault(f.Key))).Where(f => f.Count > 0).ToDictionary(f => f.Key, f => f.Count, StringComparer.Ordinal),
            to.Sum("xks_operator_reconcile_total", "result=\"error\"") - from.Sum("xks_operator_reconcile_total", "result=\"error\""),
            to.Cpu - from.Cpu);
    }

    public static Dictionary<string, int> CallsSince(IReadOnlyDictionary<string, int> before, IReadOnlyDictionary<string, int> now) =>
        now.Select(c => (c.Key, Calls: c.Value - before.GetValueOrDefault(c.Key))).Where(c => c.Calls > 0).ToDictionary(c => c.Key, c => c.Calls, StringComparer.Ordinal);

    public int TotalCalls => Calls.Values.Sum();

    /// <summary>The calls that pass the operator's rate limiter (AssumeRole is the credential provider's own, outside it).</summary>
    public int LimitedCalls => Calls.Where(c => c.Key != "AssumeRole").Sum(c => c.Value);

    /// <summary>Describe*, List* and Get* calls.</summary>
    public int Reads => Calls.Where(c => IsRead(c.Key)).Sum(c => c.Value);

    public static bool IsRead(string operation) =>
        operation.StartsWith("Describe", StringComparison.Ordinal) || operation.StartsWith("List", StringComparison.Ordinal) || operation.StartsWith("Get", StringComparison.Ordinal);
}

/// <summary>The figures of one N.</summary>
/// <param name="Keys">N: the CloudKeys applied.</param>
/// <param name="KeyStores">The KeySets they are spread over (one external key store each).</param>
/// <param name="Apply">How long the one <c>kubectl apply</c> took.</param>
/// <param name="KeySetsReady">From the start of the apply until every KeySet was Ready.</param>
/// <param name="ReadyTimes">When each CloudKey was first seen Ready (from the start of the apply), in order.</param>
/// <param name="Stragglers">CloudKeys still not Ready at the timeout, with their Ready reason (empty: all Ready).</param>
/// <param name="PeakQueue">The longest CloudKey work queue seen (scraped every 5 s).</param>
/// <param name="Burst">From the apply until all N CloudKeys Ready.</param>
/// <param name="Rest">The window at rest.</param>
/// <param name="BeforeRssMb">The operator's RSS just before the apply (the seed samples Ready): the baseline.</param>
/// <param name="ReadyRssMb">The operator's RSS when all were Ready.</param>
/// <param name="RestRssMb">The operator's RSS at the end of the rest window.</param>
/// <param name="PeakRssMb">The operator's peak RSS (VmHWM) over its life.</param>
internal sealed record ScaleRun(int Keys, int KeyStores, TimeSpan Apply, TimeSpan KeySetsReady, IReadOnlyList<TimeSpan> ReadyTimes, IReadOnlyList<string> Stragglers, double PeakQueue, PhaseFigures Burst, PhaseFigures Rest, double BeforeRssMb, double ReadyRssMb, double RestRssMb, double PeakRssMb)
{
    /// <summary>All CloudKeys at rest: the N and the sample's payments-db.</summary>
    public int CloudKeys => Keys + 1;

    /// <summary>From the apply until all N were Ready, or until the timeout when not <see cref="Complete"/>.</summary>
    public TimeSpan AllReady => Burst.Duration;

    public bool Complete => ReadyTimes.Count == Keys;

    /// <summary>When the fraction <paramref name="q"/> of the N was Ready; null if that many never were.</summary>
    public TimeSpan? ReadyQuantile(double q) => Math.Max(0, (int)Math.Ceiling(q * Keys) - 1) is var i && i < ReadyTimes.Count ? ReadyTimes[i] : null;

    /// <summary>AWS calls at rest per CloudKey per hour (all, or only <see cref="PhaseFigures.Reads"/>).</summary>
    public double PerKeyHour(int calls) => calls / (double)CloudKeys / Rest.Duration.TotalHours;

    /// <summary>The reads at rest per CloudKey per hour at the operator's default periods: each operation's measured rate scaled by how much less often it runs there.</summary>
    public double ReadsPerKeyHourAtDefaults(OperatorScaleSettings settings) =>
        Rest.Calls.Where(c => PhaseFigures.IsRead(c.Key)).Sum(c => PerKeyHour(c.Value) * settings.ToDefaults(c.Key));
}

/// <summary>The markdown report of <see cref="OperatorScaleBenchmark"/> (artifacts/bench/operator.md).</summary>
internal static class OperatorScaleReport
{
    private const double RssTargetMb = 250;
    private const int RssTargetKeys = 1000;
    private const double ReadsPerKeyHourTarget = 1;

    public static string Directory => Path.Combine(LocalCluster.RepositoryRoot, "artifacts", "bench");

    public static string Save(string report)
    {
        System.IO.Directory.CreateDirectory(Directory);
        var path = Path.Combine(Directory, "operator.md");
        File.WriteAllText(path, report);
        return path;
    }

    public static string Format(OperatorScaleSettings settings, IReadOnlyList<ScaleRun> runs)
    {
        var aws = new AwsClientOptions();
        var options = new OperatorOptions();
        var md = new StringBuilder();
        md.AppendLine("# Operator at scale");
        md.AppendLine();
        md.Append(CultureInfo.InvariantCulture, $"{DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC; {Environment.ProcessorCount} cores; .NET {Environment.Version}; load average at the end {LoadAverage()}. ")
            .Append(Environment.GetEnvironmentVariable("XKS_OPERATOR_PUBLISHED") is { Length: > 0 } ? "The operator as the image ships it (Release, self-contained, ReadyToRun), " : "The operator as the tests' Debug build, ")
            .Append(CultureInfo.InvariantCulture, $"a process with its defaults (--workers {options.Workers}, AWS rate limit {aws.RequestsPerSecond:0.#} calls/s per account and region, burst {aws.Burst}) ")
            .Append(CultureInfo.InvariantCulture, $"but two periods shortened so that the rest window sees them: `{settings.OperatorArguments}` (defaults --aws-resync-period {Minutes(options.AwsResyncPeriod)}, --resync-period {Minutes(options.ResyncPeriod)}); ")
            .Append("log level Information. AWS is the KMS emulator (in the test process), the Vault's proxy a local process, the control plane etcd + ")
            .Append("kube-apiserver + kube-controller-manager: all on this machine. Per N: the seed samples Ready, then one `kubectl apply` of ")
            .Append(CultureInfo.InvariantCulture, $"{settings.KeyStores - 1} more KeySets ({settings.KeyStores} external key stores in all) and N CloudKeys spread across them; ")
            .AppendLine(CultureInfo.InvariantCulture, $"at rest: {Minutes(settings.Rest)} starting {OperatorScaleSettings.Settle.TotalSeconds:0} s after all Ready.");
        md.AppendLine();
        md.Append("| | ").AppendJoin(" | ", runs.Select(r => $"N = {r.Keys:N0}")).AppendLine(" | target |");
        md.Append("|---|").AppendJoin("", runs.Select(_ => "--:|")).AppendLine("---|");
        Row(md, runs, "CloudKeys Ready / external key stores", r => $"{r.ReadyTimes.Count:N0} / {r.KeyStores}");
        Row(md, runs, "`kubectl apply` (KeySets + CloudKeys)", r => Seconds(r.Apply));
        Row(md, runs, "apply → all KeySets Ready", r => Seconds(r.KeySetsReady));
        Row(md, runs, "apply → first / 50 % / 90 % / 99 % CloudKeys Ready", r => string.Join(" / ", new[] { 0, 0.5, 0.9, 0.99 }.Select(q => r.ReadyQuantile(q) is { } t ? Seconds(t) : "—")));
        Row(md, runs, "**apply → all CloudKeys Ready**", r => r.Complete ? $"**{Seconds(r.AllReady)}**" : $"**not within {Seconds(r.AllReady)}: {r.ReadyTimes.Count:N0} of {r.Keys:N0}**");
        Row(md, runs, "AWS calls apply → all Ready (per CloudKey)", r => $"{r.Burst.LimitedCalls:N0} ({(double)r.Burst.LimitedCalls / r.Keys:F1})");
        Row(md, runs, "baseline: (calls − burst) ÷ rate", r => Seconds(Bound(r, aws)));
        Row(md, runs, "**all Ready ÷ baseline**", r => r.Complete ? $"**{r.AllReady / Bound(r, aws):F2}**" : $"(not all Ready; time so far ÷ its calls' bound {r.AllReady / Bound(r, aws):F2})", "≈ 1 (bounded only by the AWS rate)");
        Row(md, runs, "AWS calls/s achieved (÷ configured rate)", r => Rate(r.Burst, aws));
        Row(md, runs, "failed AWS calls / reconcile errors", r => $"{Failures(r.Burst.Failed)} / {r.Burst.ReconcileErrors:N0}");
        Row(md, runs, "reconciles/s apply → all Ready", r => PerSecond(r.Burst));
        Row(md, runs, "peak CloudKey work queue", r => $"{r.PeakQueue:N0}");
        Row(md, runs, "operator CPU apply → all Ready (cores)", r => $"{r.Burst.Cpu.TotalSeconds:F0} s ({r.Burst.Cpu / r.AllReady:F2})");
        Row(md, runs, "at rest: AWS calls in the window", r => $"{r.Rest.TotalCalls:N0} in {Minutes(r.Rest.Duration)}");
        Row(md, runs, "at rest: AWS calls/s (÷ configured rate)", r => Rate(r.Rest, aws));
        Row(md, runs, "at rest: failed AWS calls", r => Failures(r.Rest.Failed));
        Row(md, runs, "at rest: AWS calls per CloudKey per hour", r => $"{r.PerKeyHour(r.Rest.TotalCalls):F1}");
        Row(md, runs, $"at rest: AWS reads per CloudKey per hour, measured with `{settings.OperatorArguments}`", r => $"{r.PerKeyHour(r.Rest.Reads):F1}");
        Row(md, runs, "**at rest: AWS reads per CloudKey per hour at the default periods** (each operation's measured rate × its period here ÷ its default period)", r => $"**{r.ReadsPerKeyHourAtDefaults(settings):F2}** ({Verdict(r.ReadsPerKeyHourAtDefaults(settings) <= ReadsPerKeyHourTarget)})", $"≤ {ReadsPerKeyHourTarget:0}");
        Row(md, runs, "at rest: reconciles/s", r => PerSecond(r.Rest));
        Row(md, runs, "at rest: operator CPU (cores)", r => $"{r.Rest.Cpu / r.Rest.Duration:F3}");
        Row(md, runs, "operator RSS before the apply / at all Ready / at rest", r => $"{r.BeforeRssMb:F0} / {r.ReadyRssMb:F0} / {r.RestRssMb:F0} MB");
        Row(md, runs, "**operator peak RSS (VmHWM)**", r => $"**{r.PeakRssMb:F0} MB**" + (r.Keys >= RssTargetKeys ? $" ({Verdict(r.PeakRssMb < RssTargetMb)})" : ""), $"< {RssTargetMb:0} MB at {RssTargetKeys:N0} keys");
        foreach (var run in runs)
        {
            if (!run.Complete)
            {
                md.AppendLine();
                md.AppendLine(CultureInfo.InvariantCulture, $"N = {run.Keys:N0}: not Ready at the timeout ({run.Keys - run.ReadyTimes.Count:N0}, the first 5): {string.Join("; ", run.Stragglers)}.");
            }

            md.AppendLine();
            md.AppendLine(CultureInfo.InvariantCulture, $"AWS calls by operation, N = {run.Keys:N0} (\"per CloudKey\": apply → all Ready ÷ N; at rest ÷ {run.CloudKeys:N0} CloudKeys ÷ hours):");
            md.AppendLine();
            md.AppendLine("| operation | apply → all Ready | per CloudKey | at rest | per CloudKey per hour | × period here ÷ default | per CloudKey per hour at the defaults |");
            md.AppendLine("|---|--:|--:|--:|--:|--:|--:|");
            foreach (var operation in run.Burst.Calls.Keys.Union(run.Rest.Calls.Keys).Order(StringComparer.Ordinal))
            {
                var burst = run.Burst.Calls.GetValueOrDefault(operation);
                var rest = run.Rest.Calls.GetValueOrDefault(operation);
                md.AppendLine(CultureInfo.InvariantCulture, $"| {operation} | {burst:N0} | {(double)burst / run.Keys:F2} | {rest:N0} | {run.PerKeyHour(rest):F2} | {settings.ToDefaults(operation):F3} | {run.PerKeyHour(rest) * settings.ToDefaults(operation):F3} |");
            }
        }

        return md.ToString();
    }

    private static TimeSpan Bound(ScaleRun run, AwsClientOptions aws) =>
        TimeSpan.FromSeconds(Math.Max(0, run.Burst.LimitedCalls - aws.Burst) / aws.RequestsPerSecond);

    private static void Row(StringBuilder md, IReadOnlyList<ScaleRun> runs, string name, Func<ScaleRun, string> value, string target = "") =>
        md.Append(CultureInfo.InvariantCulture, $"| {name} | ").AppendJoin(" | ", runs.Select(value)).AppendLine(CultureInfo.InvariantCulture, $" | {target} |");

    private static string PerSecond(PhaseFigures phase) =>
        $"{phase.Reconciles.Values.Sum() / phase.Duration.TotalSeconds:F2} (" + string.Join(", ", phase.Reconciles.Where(r => r.Value > 0).OrderByDescending(r => r.Value).Select(r => $"{r.Key} {r.Value / phase.Duration.TotalSeconds:F2}")) + ")";

    private static string Rate(PhaseFigures phase, AwsClientOptions aws) =>
        $"{phase.LimitedCalls / phase.Duration.TotalSeconds:F2} ({phase.LimitedCalls / phase.Duration.TotalSeconds / aws.RequestsPerSecond:F2})";

    private static string Failures(IReadOnlyDictionary<string, double> failed) =>
        failed.Count == 0 ? "0" : $"{failed.Values.Sum():N0} (" + string.Join(", ", failed.OrderByDescending(f => f.Value).Select(f => $"{f.Key} {f.Value:N0}")) + ")";

    private static string Seconds(TimeSpan? t) => t is { } value ? value.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture) + " s" : "—";

    private static string Minutes(TimeSpan t) => t.TotalMinutes.ToString("0.#", CultureInfo.InvariantCulture) + "m";

    private static string Verdict(bool met) => met ? "met" : "not met";

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";
}
