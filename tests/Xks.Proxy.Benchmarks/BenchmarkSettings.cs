using System.Globalization;

namespace Xks.Proxy.Benchmarks;

/// <summary>
/// How long and how hard wrk drives each scenario: BENCH_DURATION seconds measured (default 10) after
/// BENCH_WARMUP seconds of warm-up (default 5); threads and connections are fixed so runs stay comparable.
/// </summary>
internal sealed record BenchmarkSettings(int DurationSeconds, int WarmupSeconds)
{
    public const int Threads = 2;
    public const int Connections = 16;

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

        return new BenchmarkSettings(duration, warmup);
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
