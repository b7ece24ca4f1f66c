using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Xks.Proxy.Benchmarks;

/// <summary>
/// The printed result: one Markdown table per transport (req/s, p50, p99, failures, proxy/bare ratio and the
/// targets) and one for the key backends (software vs PKCS#11 per session-pool size), also saved as <c>artifacts/bench/latest.md</c> for docs/performance.md to quote.
/// </summary>
internal static class BenchmarkReport
{
    public const double RatioTarget = 0.6;
    public const double P99TargetMs = 2.0;

    public static string Format(BenchmarkSettings settings, string wrkCommand, string wrkVersion, IReadOnlyList<PhaseResult> phases, BackendPhaseResult? backends)
    {
        var md = new StringBuilder();
        md.AppendLine("# XKS proxy benchmark").AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture,
            $"{DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC · {Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription} · .NET {Environment.Version} · {wrkVersion}");
        md.AppendLine().AppendLine(CultureInfo.InvariantCulture,
            $"`{wrkCommand}` per row, after {settings.WarmupSeconds} s of warm-up per scenario on each server: HTTP/1.1 keep-alive over loopback, wrk and the server on the same machine.");
        md.AppendLine("Encrypt carries a 100-byte AAD and asks for the CDIV (SHA_256); Decrypt undoes a 32-byte Encrypt. Each request is signed once with the AWS SDK's SigV4 signer and replayed; the proxy verifies it and writes an audit line every time.");
        md.AppendLine("The baseline is bare Kestrel with the proxy's runtime settings and, over TLS, the same certificate (ECDSA P-256) and cipher suites, answering with a recorded proxy response (same bytes).");
        md.AppendLine("Server CPU is the user + system time of the server process during the measured run, per request: the cost of a request without wrk's share of the cores.");
        md.AppendLine(CultureInfo.InvariantCulture, $"Targets: proxy/bare req/s ≥ {RatioTarget:0.0#}, proxy p99 < {P99TargetMs:0.#} ms. Figures are from a single run; repeat it to judge the machine's noise.");

        foreach (var phase in phases)
        {
            md.AppendLine().AppendLine(CultureInfo.InvariantCulture, $"## {phase.Transport}").AppendLine();
            md.AppendLine("| scenario | req/s | p50 ms | p99 ms | server CPU µs/req | non-2xx | socket errors | proxy/bare req/s | ratio target | p99 target |");
            md.AppendLine("|---|--:|--:|--:|--:|--:|--:|--:|---|---|");
            foreach (var result in phase.Scenarios)
            {
                Row(md, $"proxy {result.Scenario.Title}", result.Proxy,
                    result.Ratio.ToString("0.00", CultureInfo.InvariantCulture),
                    Mark(result.Ratio >= RatioTarget),
                    Mark(result.Proxy.Load.P99Ms < P99TargetMs));
                Row(md, $"bare, {result.ResponseBytes}-byte response", result.Bare, "", "", "");
            }
        }

        if (backends is not null)
        {
            FormatBackends(md, backends);
        }

        return md.ToString();
    }

    /// <summary>
    /// The backend table: every backend on each scenario, with req/s relative to the software backend measured in
    /// the same run.
    /// </summary>
    private static void FormatBackends(StringBuilder md, BackendPhaseResult backends)
    {
        md.AppendLine().AppendLine(CultureInfo.InvariantCulture, $"## {BackendPhase.Title}: software vs PKCS#11 on {backends.Hsm}").AppendLine();
        md.AppendLine("One proxy at a time, same requests. PKCS#11: one token, AES-256 key generated on it (sensitive, not extractable), IV from C_GenerateRandom, C_EncryptInit/C_Encrypt per call on a pooled logged-in session; Encrypt includes the CDIV's verifying decrypt (two HSM calls).");
        md.AppendLine().AppendLine("| backend | scenario | req/s | p50 ms | p99 ms | server CPU µs/req | non-2xx | socket errors | req/s vs software |");
        md.AppendLine("|---|---|--:|--:|--:|--:|--:|--:|--:|");
        foreach (var scenario in Scenario.Backends)
        {
            var software = backends.Software.Measurements[scenario].Load.RequestsPerSecond;
            foreach (var backend in backends.Backends)
            {
                var measurement = backend.Measurements[scenario];
                var load = measurement.Load;
                var ratio = software > 0 ? load.RequestsPerSecond / software : 0;
                md.AppendLine(CultureInfo.InvariantCulture,
                    $"| {backend.Backend} | {scenario.Title} | {load.RequestsPerSecond:N0} | {load.P50Ms:F2} | {load.P99Ms:F2} | {measurement.ServerCpuMicrosecondsPerRequest:F1} | {load.Non2xx} | {load.SocketErrors} | {(backend.MaxSessions is null ? "1.00" : ratio.ToString("0.00", CultureInfo.InvariantCulture))} |");
            }
        }
    }

    /// <summary>Writes the report to artifacts/bench/latest.md in the repository and returns the path.</summary>
    public static string Save(string report)
    {
        var directory = Directory.CreateDirectory(Path.Combine(FindRepositoryRoot(), "artifacts", "bench"));
        var path = Path.Combine(directory.FullName, "latest.md");
        File.WriteAllText(path, report);
        return path;
    }

    private static void Row(StringBuilder md, string scenario, Measurement measurement, string ratio, string ratioTarget, string p99Target)
    {
        var load = measurement.Load;
        md.AppendLine(CultureInfo.InvariantCulture,
            $"| {scenario} | {load.RequestsPerSecond:N0} | {load.P50Ms:F2} | {load.P99Ms:F2} | {measurement.ServerCpuMicrosecondsPerRequest:F1} | {load.Non2xx} | {load.SocketErrors} | {ratio} | {ratioTarget} | {p99Target} |");
    }

    private static string Mark(bool met) => met ? "met" : "not met";

    internal static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "XksOperator.sln")))
            {
                return directory.FullName;
            }
        }

        return Environment.CurrentDirectory;
    }
}
