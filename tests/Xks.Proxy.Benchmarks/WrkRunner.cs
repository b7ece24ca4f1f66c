using System.Globalization;
using Xks.Testing;

namespace Xks.Proxy.Benchmarks;

/// <summary>
/// Drives one prepared request with <c>wrk -t2 -c16 --latency</c> (HTTP/1.1, keep-alive), for warm-up or for a
/// measured run.
/// </summary>
internal sealed class WrkRunner(ChildProcesses children, BenchmarkSettings settings, string scriptDirectory)
{
    public string CommandLine => $"wrk -t{BenchmarkSettings.Threads} -c{BenchmarkSettings.Connections} -d{settings.DurationSeconds}s --latency";

    /// <summary>Load whose figures are discarded, so the server runs tier-1 code with a warmed-up thread pool.</summary>
    public async Task WarmUpAsync(string name, PreparedRequest request, CancellationToken cancellation)
    {
        var script = WrkScript.Write(Path.Combine(scriptDirectory, name + "-warmup.lua"), request);
        await RunWrkAsync(script, request.Url, settings.WarmupSeconds, cancellation).ConfigureAwait(false);
    }

    public async Task<Measurement> MeasureAsync(string name, PreparedRequest request, ServerProcess server, CancellationToken cancellation)
    {
        var script = WrkScript.Write(Path.Combine(scriptDirectory, name + ".lua"), request);
        var cpuBefore = server.CpuTime;
        var output = await RunWrkAsync(script, request.Url, settings.DurationSeconds, cancellation).ConfigureAwait(false);
        return new Measurement(WrkResult.Parse(output), server.CpuTime - cpuBefore);
    }

    /// <summary>The first line of <c>wrk -v</c>, for the report.</summary>
    public async Task<string> GetVersionAsync(CancellationToken cancellation)
    {
        var output = await ExecuteAsync(["-v"], expectSuccess: false, cancellation).ConfigureAwait(false);
        var line = output.Split('\n')[0];
        var copyright = line.IndexOf(" Copyright", StringComparison.Ordinal);
        return (copyright < 0 ? line : line[..copyright]).Trim();
    }

    private Task<string> RunWrkAsync(string script, Uri url, int seconds, CancellationToken cancellation) =>
        ExecuteAsync(
            [
                $"-t{BenchmarkSettings.Threads}",
                $"-c{BenchmarkSettings.Connections}",
                string.Create(CultureInfo.InvariantCulture, $"-d{seconds}s"),
                "--latency",
                "-s", script,
                url.AbsoluteUri,
            ],
            expectSuccess: true,
            cancellation);

    private async Task<string> ExecuteAsync(string[] arguments, bool expectSuccess, CancellationToken cancellation)
    {
        var process = children.Start(new ChildProcessOptions("wrk", arguments));
        try
        {
            await process.WaitForExitAsync(cancellation).ConfigureAwait(false);
            var output = process.StandardOutput + process.StandardError;
            if (expectSuccess && process.ExitCode != 0)
            {
                throw new BenchmarkException($"wrk {string.Join(' ', arguments)} exited with code {process.ExitCode}:\n{output}");
            }

            return output;
        }
        finally
        {
            children.Stop(process);
        }
    }
}
