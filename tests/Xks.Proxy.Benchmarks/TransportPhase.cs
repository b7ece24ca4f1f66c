using System.Globalization;

namespace Xks.Proxy.Benchmarks;

/// <summary>
/// One transport, plain HTTP or TLS: starts the proxy and the bare baseline, prepares each scenario's signed
/// request, checks it succeeds, and runs wrk against the proxy and then the baseline.
/// </summary>
internal sealed class TransportPhase(ChildProcesses children, ProbeClient probe, WrkRunner wrk, BenchCredentials credentials)
{
    private static readonly string ProxyDll = Path.Combine(AppContext.BaseDirectory, "xks-proxy.dll");
    private static readonly string BenchmarkDll = typeof(TransportPhase).Assembly.Location;

    private readonly SdkRequestSigner _signer = new(credentials);

    public async Task<PhaseResult> RunAsync(string transport, string directory, CertificateFiles? tls, CancellationToken cancellation)
    {
        Directory.CreateDirectory(directory);
        var scheme = tls is null ? "http" : "https";
        var proxyPort = FreePort.Get();
        var config = ProxyConfigFile.Write(directory, proxyPort, credentials, tls);
        Console.WriteLine($"{transport}: starting the proxy ({config})");
        var proxy = await ServerProcess.StartAsync(children, probe, "the proxy", [ProxyDll, "--config", config],
            new Uri($"{scheme}://127.0.0.1:{proxyPort}"), Path.Combine(directory, "proxy.log"), cancellation).ConfigureAwait(false);
        try
        {
            var responses = Directory.CreateDirectory(Path.Combine(directory, "responses")).FullName;
            var bodies = await PrepareBodiesAsync(proxy, responses, cancellation).ConfigureAwait(false);

            var barePort = FreePort.Get();
            List<string> bareArguments = [BenchmarkDll, "--bare", "--port", barePort.ToString(CultureInfo.InvariantCulture), "--responses", responses];
            if (tls is not null)
            {
                bareArguments.AddRange(["--certificate", tls.CertificateFile, "--key", tls.PrivateKeyFile]);
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
                    var proxyRequest = _signer.Sign(ProxyUrl(proxy, scenario.Operation), bodies[scenario].Body);
                    await WarmUpAsync($"{scheme}-{scenario.Id}-proxy", proxy, scenario, proxyRequest, cancellation).ConfigureAwait(false);
                    await WarmUpAsync($"{scheme}-{scenario.Id}-bare", bare, scenario, BareRequest(bare, scenario, proxyRequest), cancellation).ConfigureAwait(false);
                }

                var results = new List<ScenarioResult>();
                foreach (var scenario in Scenario.All)
                {
                    var proxyRequest = _signer.Sign(ProxyUrl(proxy, scenario.Operation), bodies[scenario].Body);
                    var proxyResult = await MeasureAsync($"{scheme}-{scenario.Id}-proxy", transport, proxy, scenario, proxyRequest, cancellation).ConfigureAwait(false);
                    var bareResult = await MeasureAsync($"{scheme}-{scenario.Id}-bare", transport, bare, scenario, BareRequest(bare, scenario, proxyRequest), cancellation).ConfigureAwait(false);
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

    /// <summary>
    /// Builds each scenario's request body (a Decrypt body from a real Encrypt) and records the proxy's response to
    /// it, which becomes the baseline's fixed response.
    /// </summary>
    private async Task<Dictionary<Scenario, (byte[] Body, int ResponseBytes)>> PrepareBodiesAsync(ServerProcess proxy, string responses, CancellationToken cancellation)
    {
        var bodies = new Dictionary<Scenario, (byte[], int)>();
        foreach (var scenario in Scenario.All)
        {
            byte[] body;
            if (scenario.IsEncrypt)
            {
                body = XksBodies.Encrypt(scenario.PlaintextBytes);
            }
            else
            {
                var encrypt = _signer.Sign(ProxyUrl(proxy, "Encrypt"), XksBodies.Encrypt(scenario.PlaintextBytes));
                var encrypted = await SendAsync(proxy.Name, $"the Encrypt for {scenario.Title}", encrypt, cancellation).ConfigureAwait(false);
                body = XksBodies.Decrypt(encrypted.Body);
            }

            var response = await SendAsync(proxy.Name, scenario.Title, _signer.Sign(ProxyUrl(proxy, scenario.Operation), body), cancellation).ConfigureAwait(false);
            await File.WriteAllBytesAsync(Path.Combine(responses, scenario.Id + ".json"), response.Body, cancellation).ConfigureAwait(false);
            bodies[scenario] = (body, response.Body.Length);
        }

        return bodies;
    }

    private async Task WarmUpAsync(string name, ServerProcess server, Scenario scenario, PreparedRequest request, CancellationToken cancellation)
    {
        await SendAsync(server.Name, scenario.Title, request, cancellation).ConfigureAwait(false);
        await wrk.WarmUpAsync(name, request, cancellation).ConfigureAwait(false);
    }

    private async Task<Measurement> MeasureAsync(string name, string transport, ServerProcess server, Scenario scenario, PreparedRequest request, CancellationToken cancellation)
    {
        await SendAsync(server.Name, scenario.Title, request, cancellation).ConfigureAwait(false);
        Console.Write($"{transport}: {server.Name}, {scenario.Title} … ");
        var measurement = await wrk.MeasureAsync(name, request, server, cancellation).ConfigureAwait(false);
        var load = measurement.Load;
        Console.WriteLine($"{load.RequestsPerSecond:N0} req/s, p50 {load.P50Ms:F2} ms, p99 {load.P99Ms:F2} ms, server CPU {measurement.ServerCpuMicrosecondsPerRequest:F1} µs/request");
        if (load.Non2xx > 0 || load.SocketErrors > 0)
        {
            Console.WriteLine($"  warning: {load.Non2xx} non-2xx responses and {load.SocketErrors} socket errors out of {load.Requests} requests");
        }

        return measurement;
    }

    /// <summary>One request, which must succeed: figures measured on error responses would be worthless.</summary>
    private async Task<ProbeResponse> SendAsync(string target, string what, PreparedRequest request, CancellationToken cancellation)
    {
        var response = await probe.SendAsync(request, cancellation).ConfigureAwait(false);
        return response.IsJsonOk
            ? response
            : throw new BenchmarkException($"{target} answered {what} at {request.Url} with {(int)response.Status} {response.ContentType}: {response.BodyText}");
    }

    /// <summary>The proxy's request, headers and body unchanged, sent to the baseline's fixed response for the scenario.</summary>
    private static PreparedRequest BareRequest(ServerProcess bare, Scenario scenario, PreparedRequest proxyRequest) =>
        proxyRequest.RetargetTo(new Uri(bare.BaseAddress, "/bare/" + scenario.Id));

    private static Uri ProxyUrl(ServerProcess proxy, string operation) => new(proxy.BaseAddress, ProxyConfigFile.KeyPath(operation));
}
