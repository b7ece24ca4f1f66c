using System.Globalization;
using System.Text.RegularExpressions;

namespace Xks.Proxy.Benchmarks;

/// <summary>The figures of one wrk run (its <c>--latency</c> output): throughput, median and 99th percentile, failures.</summary>
internal sealed partial record WrkResult(double RequestsPerSecond, double P50Ms, double P99Ms, long Requests, long Non2xx, long SocketErrors)
{
    public static WrkResult Parse(string output)
    {
        var requestsPerSecond = Number(RequestsPerSecondLine(), output, "Requests/sec");
        var p50 = Latency(output, "50");
        var p99 = Latency(output, "99");
        var requests = (long)Number(RequestsLine(), output, "requests in");
        var non2xx = Non2xxLine().Match(output) is { Success: true } n ? long.Parse(n.Groups[1].ValueSpan, CultureInfo.InvariantCulture) : 0;
        long socketErrors = 0;
        if (SocketErrorsLine().Match(output) is { Success: true } errors)
        {
            for (var i = 1; i <= 4; i++)
            {
                socketErrors += long.Parse(errors.Groups[i].ValueSpan, CultureInfo.InvariantCulture);
            }
        }

        return new WrkResult(requestsPerSecond, p50, p99, requests, non2xx, socketErrors);
    }

    private static double Number(Regex line, string output, string what)
    {
        var match = line.Match(output);
        return match.Success
            ? double.Parse(match.Groups[1].ValueSpan, CultureInfo.InvariantCulture)
            : throw new BenchmarkException($"wrk output has no '{what}' figure:\n{output}");
    }

    private static double Latency(string output, string percentile)
    {
        var match = Regex.Match(output, $@"^\s*{percentile}%\s+([\d.]+)(us|ms|s|m)\s*$", RegexOptions.Multiline, TimeSpan.FromSeconds(1));
        if (!match.Success)
        {
            throw new BenchmarkException($"wrk output has no {percentile}% latency:\n{output}");
        }

        var value = double.Parse(match.Groups[1].ValueSpan, CultureInfo.InvariantCulture);
        return match.Groups[2].Value switch
        {
            "us" => value / 1000,
            "ms" => value,
            "s" => value * 1000,
            _ => value * 60_000,
        };
    }

    [GeneratedRegex(@"^Requests/sec:\s+([\d.]+)", RegexOptions.Multiline)]
    private static partial Regex RequestsPerSecondLine();

    [GeneratedRegex(@"^\s*(\d+) requests in ", RegexOptions.Multiline)]
    private static partial Regex RequestsLine();

    [GeneratedRegex(@"Non-2xx or 3xx responses:\s+(\d+)")]
    private static partial Regex Non2xxLine();

    [GeneratedRegex(@"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")]
    private static partial Regex SocketErrorsLine();
}
