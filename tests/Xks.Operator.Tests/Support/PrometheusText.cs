using System.Globalization;
using System.Text.RegularExpressions;
using Prometheus;

namespace Xks.Operator.Support.Tests;

/// <summary>
/// The Prometheus text exposition format as a scrape reads it: the metric families (<c># TYPE</c>) and the samples
/// (<c>name{labels} value</c>, keyed by the series exactly as printed).
/// </summary>
internal sealed partial class PrometheusText
{
    private PrometheusText(IReadOnlyDictionary<string, string> families, IReadOnlyDictionary<string, double> samples)
    {
        Families = families;
        Samples = samples;
    }

    /// <summary>Metric family name → type (counter, gauge, histogram, summary, untyped).</summary>
    public IReadOnlyDictionary<string, string> Families { get; }

    /// <summary>Series (<c>name</c> or <c>name{a="x",b="y"}</c>) → value.</summary>
    public IReadOnlyDictionary<string, double> Samples { get; }

    /// <summary>The metric names a query may use: every family, plus _bucket, _sum and _count of each histogram and _sum and _count of each summary.</summary>
    public IReadOnlySet<string> QueryableNames =>
        Families.SelectMany(f => f.Value switch
        {
            "histogram" => new[] { f.Key + "_bucket", f.Key + "_sum", f.Key + "_count" },
            "summary" => [f.Key, f.Key + "_sum", f.Key + "_count"],
            _ => [f.Key],
        }).ToHashSet(StringComparer.Ordinal);

    public static PrometheusText Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var families = new Dictionary<string, string>(StringComparer.Ordinal);
        var samples = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            if (TypeLine().Match(line) is { Success: true } type)
            {
                families[type.Groups[1].Value] = type.Groups[2].Value;
            }
            else if (SampleLine().Match(line) is { Success: true } sample)
            {
                samples[sample.Groups[1].Value] = double.Parse(sample.Groups[2].Value, NumberStyles.Float, CultureInfo.InvariantCulture);
            }
        }

        return new PrometheusText(families, samples);
    }

    /// <summary>What <paramref name="registry"/> serves at <c>/metrics</c>.</summary>
    public static async Task<PrometheusText> ScrapeAsync(CollectorRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        using var stream = new MemoryStream();
        await registry.CollectAndExportAsTextAsync(stream);
        return Parse(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
    }

    /// <summary>The value of <paramref name="series"/>, or null when the scrape does not have it.</summary>
    public double? Sample(string series) => Samples.TryGetValue(series, out var value) ? value : null;

    /// <summary>The series of metric <paramref name="name"/> (any labels).</summary>
    public IReadOnlyList<string> SeriesOf(string name) =>
        [.. Samples.Keys.Where(k => k == name || k.StartsWith(name + "{", StringComparison.Ordinal)).Order(StringComparer.Ordinal)];

    [GeneratedRegex(@"^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (\w+)")]
    private static partial Regex TypeLine();

    [GeneratedRegex(@"^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{.*\})?) (\S+)")]
    private static partial Regex SampleLine();
}
