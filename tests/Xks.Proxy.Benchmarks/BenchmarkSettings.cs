using System.Globalization;

namespace Xks.Proxy.Benchmarks;

/// <summary>
/// How long and how hard wrk drives each scenario: BENCH_DURATION seconds measured (default 10) after
/// BENCH_WARMUP seconds of warm-up (default 5); threads and connections are fixed so runs stay comparable.
/// BENCH_PHASES picks the parts (default <c>http,https,pkcs11</c>); BENCH_PKCS11_POOLS the PKCS#11 session-pool
/// sizes compared with the software backend (default <c>1,4,16</c>).
/// </summary>
internal sealed record BenchmarkSettings(int DurationSeconds, int WarmupSeconds, IReadOnlySet<string> Phases, IReadOnlyList<int> Pkcs11Pools)
{
    public const int Threads = 2;
    public const int Connections = 16;
    public const string Http = "http";
    public const string Https = "https";
    public const string Pkcs11 = "pkcs11";

    // Each wrk run replays a request signed just before it, and the proxy accepts a signature for 5 minutes.
    private const int MaxRunSeconds = 270;

    public static BenchmarkSettings FromEnvironment()
    {
        var duration = Read("BENCH_DURATION", 10);
        var warmup = Read("BENCH_WARMUP", 5);
        if (duration > MaxRunSeconds || warmup > MaxRunSeconds)
        {
            throw new BenchmarkException($"BENCH_DURATION and BENCH_WARMUP must be at most {MaxRunSeconds} s: a signed request is only valid for 5 minutes");
        }

        var phases = List("BENCH_PHASES", $"{Http},{Https},{Pkcs11}").ToHashSet(StringComparer.Ordinal);
        if (phases.Count == 0 || phases.Except([Http, Https, Pkcs11]).Any())
        {
            throw new BenchmarkException($"BENCH_PHASES is a comma-separated list of {Http}, {Https} and {Pkcs11}, not '{Environment.GetEnvironmentVariable("BENCH_PHASES")}'");
        }

        var pools = new List<int>();
        foreach (var text in List("BENCH_PKCS11_POOLS", "1,4,16"))
        {
            pools.Add(int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var size) && size is >= 1 and <= 1024
                ? size
                : throw new BenchmarkException($"BENCH_PKCS11_POOLS holds session-pool sizes from 1 to 1024, not '{text}'"));
        }

        if (phases.Contains(Pkcs11) && pools.Count == 0)
        {
            throw new BenchmarkException("BENCH_PKCS11_POOLS is empty: leave pkcs11 out of BENCH_PHASES instead");
        }

        return new BenchmarkSettings(duration, warmup, phases, pools);
    }

    private static string[] List(string variable, string fallback)
    {
        var text = Environment.GetEnvironmentVariable(variable);
        return (string.IsNullOrWhiteSpace(text) ? fallback : text).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    private static int Read(string variable, int fallback)
    {
        var text = Environment.GetEnvironmentVariable(variable);
        if (string.IsNullOrWhiteSpace(text))
        {
            return fallback;
        }

        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds > 0
            ? seconds
            : throw new BenchmarkException($"{variable} must be a whole number of seconds, not '{text}'");
    }
}
