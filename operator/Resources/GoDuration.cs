using System.Globalization;
using System.Text.RegularExpressions;

namespace Xks.Operator.Resources;

/// <summary>Parses Go durations as the CRDs accept them (e.g. 720h, 1h30m, 90s, 1.5h): sums of number+unit.</summary>
public static partial class GoDuration
{
    public static bool TryParse(string? text, out TimeSpan duration) => TryParse(text, allowDays: false, out duration);

    /// <summary>As <see cref="TryParse(string?, out TimeSpan)"/>; with <paramref name="allowDays"/> also d (24h), e.g. 90d.</summary>
    public static bool TryParse(string? text, bool allowDays, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        if (string.IsNullOrEmpty(text) || !(allowDays ? WholePatternWithDays() : WholePattern()).IsMatch(text))
        {
            return false;
        }

        double ticks = 0;
        foreach (Match part in PartPattern().Matches(text))
        {
            var value = double.Parse(part.Groups[1].Value, CultureInfo.InvariantCulture);
            ticks += value * part.Groups[2].Value switch
            {
                "d" => TimeSpan.TicksPerDay,
                "h" => TimeSpan.TicksPerHour,
                "m" => TimeSpan.TicksPerMinute,
                "s" => TimeSpan.TicksPerSecond,
                "ms" => TimeSpan.TicksPerMillisecond,
                "us" or "µs" => TimeSpan.TicksPerMicrosecond,
                _ => TimeSpan.TicksPerMicrosecond / 1000.0,
            };
        }

        if (ticks >= TimeSpan.MaxValue.Ticks)
        {
            return false;
        }

        duration = TimeSpan.FromTicks((long)ticks);
        return true;
    }

    [GeneratedRegex(@"^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$")]
    private static partial Regex WholePattern();

    [GeneratedRegex(@"^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h|d))+$")]
    private static partial Regex WholePatternWithDays();

    [GeneratedRegex(@"([0-9]+(?:\.[0-9]+)?)(ns|us|µs|ms|s|m|h|d)")]
    private static partial Regex PartPattern();
}
