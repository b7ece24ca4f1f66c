using System.Globalization;
using Xks.Operator.Support.Tests;

namespace Xks.Operator.Benchmarks.Tests;

/// <summary>
/// What the benchmark reads off the operator process at one moment: its memory from <c>/proc/PID/status</c> (VmRSS, and
/// VmHWM, the peak so far), its CPU time, and the counters of its <c>/metrics</c> page (Prometheus text).
/// </summary>
internal sealed record OperatorGauges(double RssMb, double PeakRssMb, TimeSpan Cpu, IReadOnlyDictionary<string, double> Metrics)
{
    public static async Task<OperatorGauges> ReadAsync(OperatorProcess op)
    {
        var status = await File.ReadAllLinesAsync($"/proc/{op.ProcessId}/status");
        var metrics = await op.GetAsync("/metrics") is { } page ? ParseMetrics(page.Body) : new Dictionary<string, double>();
        return new OperatorGauges(Megabytes(status, "VmRSS:"), Megabytes(status, "VmHWM:"), op.CpuTime, metrics);
    }

    /// <summary>The sum of the series of <paramref name="name"/> whose labels contain every one of <paramref name="labels"/> (e.g. <c>controller="cloudkey"</c>).</summary>
    public double Sum(string name, params string[] labels) =>
        Metrics.Where(m => (m.Key == name || m.Key.StartsWith(name + "{", StringComparison.Ordinal)) && labels.All(l => m.Key.Contains(l, StringComparison.Ordinal)))
            .Sum(m => m.Value);

    /// <summary>The AWS calls that did not succeed, as "operation outcome" → count (xks_operator_aws_calls_total, outcome other than success).</summary>
    public Dictionary<string, double> FailedCalls() =>
        Metrics.Where(m => m.Key.StartsWith("xks_operator_aws_calls_total{", StringComparison.Ordinal) && !m.Key.Contains("outcome=\"success\"", StringComparison.Ordinal))
            .GroupBy(m => $"{Label(m.Key, "operation")} {Label(m.Key, "outcome")}", StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Sum(m => m.Value), StringComparer.Ordinal);

    /// <summary>The distinct values of <paramref name="label"/> among the series of <paramref name="name"/>.</summary>
    public IEnumerable<string> LabelValues(string name, string label) =>
        Metrics.Keys.Where(k => k.StartsWith(name + "{", StringComparison.Ordinal))
            .Select(k => Label(k, label))
            .OfType<string>()
            .Distinct(StringComparer.Ordinal);

    /// <summary>Prometheus text format: every sample line as "name{labels}" → value (comments skipped).</summary>
    public static Dictionary<string, double> ParseMetrics(string text)
    {
        var samples = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var space = line.LastIndexOf(' ');
            if (line.StartsWith('#') || space <= 0)
            {
                continue;
            }

            if (double.TryParse(line[(space + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                samples[line[..space]] = value;
            }
        }

        return samples;
    }

    private static string? Label(string series, string label) =>
        series.IndexOf(label + "=\"", StringComparison.Ordinal) is >= 0 and var at ? series[(at + label.Length + 2)..].Split('"')[0] : null;

    private static double Megabytes(string[] status, string field) =>
        status.FirstOrDefault(l => l.StartsWith(field, StringComparison.Ordinal)) is { } line
            ? double.Parse(line[field.Length..].Replace("kB", "", StringComparison.Ordinal).Trim(), CultureInfo.InvariantCulture) / 1024
            : double.NaN;
}
