using System.Globalization;
using Xks.Testing;

namespace Xks.Proxy.Benchmarks;

/// <summary>
/// One transport, plain HTTP or TLS: starts the proxy (software backend) and the bare baseline, prepares each
/// scenario's signed request, checks it succeeds, and runs wrk against the proxy and then the baseline.
/// </summary>
internal sealed class TransportPhase(ChildProcesses children, ProbeClient probe, ScenarioDriver driver, BenchCredentials credentials)
{
    private static readonly string BenchmarkDll = typeof(TransportPhase).Assembly.Location;

    public async Task<PhaseResult> RunAsync(string transport, string directory, PemFiles? tls, CancellationToken cancellation)
    {
        Directory.CreateDirectory(directory);
        var scheme = tls is null ? "http" : "https";
        var proxyPort = TestPorts.GetFree();
        var config = ProxyConfigFile.Write(directory, proxyPort, credentials, tls, ProxyConfigFile.SoftwareBackend(directory));
        Console.WriteLine($"{transport}: starting the proxy ({config})");
        var proxy = await ServerProcess.StartAsync(children, probe, "the proxy", [ProxyConfigFile.ProxyDll, "--config", config],
            new Uri($"{scheme}://127.0.0.1:{proxyPort}"), Path.Combine(directory, "proxy.log"), cancellation).ConfigureAwait(false);
        try
        {
            var responses = Directory.CreateDirectory(Path.Combine(directory, "responses")).FullName;
            var bodies = await driver.PrepareBodiesAsync(proxy, Scenario.All, responses, cancellation).ConfigureAwait(false);

            var barePort = TestPorts.GetFree();
            List<string> bareArguments = [BenchmarkDll, "--bare", "--port", barePort.ToString(CultureInfo.InvariantCulture), "--responses", responses];
            if (tls is not null)
            {
                bareArguments.AddRange(["--certificate", tls.CertificateFile, "--key", tls.KeyFile]);
            }

            var bare = await ServerProcess.StartAsync(children, probe, "the bare baseline", bareArguments,
                new Uri($"{scheme}://127.0.0.1:{barePort}"), Path.Combine(directory, "bare.log"), cancellation).ConfigureAwait(false);
            try
            {
                // A fresh server is measurably slower for its first seconds under load (tiered JIT, thread pool
                // ramp-up); warming it on every scenario first keeps that off whichever scenario is measured first.
                foreach (var scenario in Scenario.All)
                {
                    Console.WriteLine($"{transport}: warming up on {scenario.Title}");
                    var proxyRequest = driver.Sign(proxy, scenario.Operation, bodies[scenario].Body);
                    await driver.WarmUpAsync($"{scheme}-{scenario.Id}-proxy", proxy, scenario, proxyRequest, cancellation).ConfigureAwait(false);
                    await driver.WarmUpAsync($"{scheme}-{scenario.Id}-bare", bare, scenario, BareRequest(bare, scenario, proxyRequest), cancellation).ConfigureAwait(false);
                }

                var results = new List<ScenarioResult>();
                foreach (var scenario in Scenario.All)
                {
                    var proxyRequest = driver.Sign(proxy, scenario.Operation, bodies[scenario].Body);
                    var proxyResult = await driver.MeasureAsync($"{scheme}-{scenario.Id}-proxy", transport, proxy, scenario, proxyRequest, cancellation).ConfigureAwait(false);
                    var bareResult = await driver.MeasureAsync($"{scheme}-{scenario.Id}-bare", transport, bare, scenario, BareRequest(bare, scenario, proxyRequest), cancellation).ConfigureAwait(false);
                    results.Add(new ScenarioResult(scenario, bodies[scenario].ResponseBytes, proxyResult, bareResult));
                }

                return new PhaseResult(transport, results);
            }
            finally
            {
                bare.Stop();
            }
        }
        finally
        {
            proxy.Stop();
        }
    }

    /// <summary>The proxy's request, headers and body unchanged, sent to the baseline's fixed response for the scenario.</summary>
    private static PreparedRequest BareRequest(ServerProcess bare, Scenario scenario, PreparedRequest proxyRequest) =>
        proxyRequest.RetargetTo(new Uri(bare.BaseAddress, "/bare/" + scenario.Id));
}
