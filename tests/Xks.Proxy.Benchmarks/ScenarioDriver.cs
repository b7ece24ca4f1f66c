namespace Xks.Proxy.Benchmarks;

/// <summary>
/// What every phase does with a running server: prepare a scenario's signed request (a Decrypt body from a real
/// Encrypt), check it succeeds, warm up on it and measure it with wrk.
/// </summary>
internal sealed class ScenarioDriver(ProbeClient probe, WrkRunner wrk, BenchCredentials credentials)
{
    private readonly SdkRequestSigner _signer = new(credentials);

    /// <summary>
    /// Builds each scenario's request body and sends it once; when <paramref name="responses"/> is set, the proxy's
    /// response is saved there as the baseline's fixed response for the scenario.
    /// </summary>
    public async Task<Dictionary<Scenario, (byte[] Body, int ResponseBytes)>> PrepareBodiesAsync(
        ServerProcess proxy, IEnumerable<Scenario> scenarios, string? responses, CancellationToken cancellation)
    {
        var bodies = new Dictionary<Scenario, (byte[], int)>();
        foreach (var scenario in scenarios)
        {
            byte[] body;
            if (scenario.IsEncrypt)
            {
                body = XksBodies.Encrypt(scenario.PlaintextBytes);
            }
            else
            {
                var encrypt = Sign(proxy, "Encrypt", XksBodies.Encrypt(scenario.PlaintextBytes));
                var encrypted = await SendAsync(proxy.Name, $"the Encrypt for {scenario.Title}", encrypt, cancellation).ConfigureAwait(false);
                body = XksBodies.Decrypt(encrypted.Body);
            }

            var response = await SendAsync(proxy.Name, scenario.Title, Sign(proxy, scenario.Operation, body), cancellation).ConfigureAwait(false);
            if (responses is not null)
            {
                await File.WriteAllBytesAsync(Path.Combine(responses, scenario.Id + ".json"), response.Body, cancellation).ConfigureAwait(false);
            }

            bodies[scenario] = (body, response.Body.Length);
        }

        return bodies;
    }

    /// <summary>The scenario's request to the proxy, signed now (a signature stays valid for 5 minutes).</summary>
    public PreparedRequest Sign(ServerProcess proxy, string operation, byte[] body) =>
        _signer.Sign(new Uri(proxy.BaseAddress, ProxyConfigFile.KeyPath(operation)), body);

    public async Task WarmUpAsync(string name, ServerProcess server, Scenario scenario, PreparedRequest request, CancellationToken cancellation)
    {
        await SendAsync(server.Name, scenario.Title, request, cancellation).ConfigureAwait(false);
        await wrk.WarmUpAsync(name, request, cancellation).ConfigureAwait(false);
    }

    public async Task<Measurement> MeasureAsync(string name, string phase, ServerProcess server, Scenario scenario, PreparedRequest request, CancellationToken cancellation)
    {
        await SendAsync(server.Name, scenario.Title, request, cancellation).ConfigureAwait(false);
        Console.Write($"{phase}: {server.Name}, {scenario.Title} … ");
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
    public async Task<ProbeResponse> SendAsync(string target, string what, PreparedRequest request, CancellationToken cancellation)
    {
        var response = await probe.SendAsync(request, cancellation).ConfigureAwait(false);
        return response.IsJsonOk
            ? response
            : throw new BenchmarkException($"{target} answered {what} at {request.Url} with {(int)response.Status} {response.ContentType}: {response.BodyText}");
    }
}
