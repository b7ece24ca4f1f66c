using Xks.Testing;

namespace Xks.Proxy.Benchmarks;

/// <summary>
/// The key backends over plain HTTP: the software backend, then PKCS#11 on a SoftHSM2 token at each session-pool
/// size, one proxy at a time (so each has both cores to itself with wrk), on the 32-byte Encrypt and Decrypt. The key
/// is generated on the token by scripts/softhsm-token.sh (the proxy's own <c>xks-proxy keys create</c>).
/// </summary>
internal sealed class BackendPhase(ChildProcesses children, ProbeClient probe, ScenarioDriver driver, BenchCredentials credentials)
{
    public const string Title = "Key backends (plain HTTP)";

    public async Task<BackendPhaseResult> RunAsync(string directory, IReadOnlyList<int> poolSizes, CancellationToken cancellation)
    {
        var token = SoftHsmToken.In(Path.Combine(directory, "softhsm"));
        var created = false;
        var results = new List<BackendResult>
        {
            await MeasureBackendAsync("software", null, Path.Combine(directory, "software"), ProxyConfigFile.SoftwareBackend, null, cancellation).ConfigureAwait(false),
        };
        foreach (var size in poolSizes)
        {
            var name = $"pkcs11-{size}";
            results.Add(await MeasureBackendAsync(
                $"PKCS#11, {size} session{(size == 1 ? "" : "s")}", size, Path.Combine(directory, name), _ => ProxyConfigFile.Pkcs11Backend(token, size), token,
                cancellation,
                async config =>
                {
                    if (!created)
                    {
                        await token.PrepareAsync(config, cancellation).ConfigureAwait(false);
                        created = true;
                    }
                }).ConfigureAwait(false));
        }

        return new BackendPhaseResult(await HsmDescriptionAsync(token, cancellation).ConfigureAwait(false), results);
    }

    private async Task<BackendResult> MeasureBackendAsync(
        string backend, int? maxSessions, string directory, Func<string, string> backendYaml, SoftHsmToken? token, CancellationToken cancellation, Func<string, Task>? beforeStart = null)
    {
        Directory.CreateDirectory(directory);
        var port = TestPorts.GetFree();
        var config = ProxyConfigFile.Write(directory, port, credentials, null, backendYaml(directory));
        if (beforeStart is not null)
        {
            await beforeStart(config).ConfigureAwait(false);
        }

        Console.WriteLine($"{Title}: starting the proxy on {backend} ({config})");
        var proxy = await ServerProcess.StartAsync(children, probe, "proxy " + backend, [ProxyConfigFile.ProxyDll, "--config", config],
            new Uri($"http://127.0.0.1:{port}"), Path.Combine(directory, "proxy.log"), cancellation, token?.Environment).ConfigureAwait(false);
        try
        {
            var bodies = await driver.PrepareBodiesAsync(proxy, Scenario.Backends, null, cancellation).ConfigureAwait(false);
            var id = maxSessions is { } n ? $"pkcs11-{n}" : "software";
            foreach (var scenario in Scenario.Backends)
            {
                Console.WriteLine($"{Title}: warming up {backend} on {scenario.Title}");
                await driver.WarmUpAsync($"{id}-{scenario.Id}", proxy, scenario, driver.Sign(proxy, scenario.Operation, bodies[scenario].Body), cancellation).ConfigureAwait(false);
            }

            var measurements = new Dictionary<Scenario, Measurement>();
            foreach (var scenario in Scenario.Backends)
            {
                var request = driver.Sign(proxy, scenario.Operation, bodies[scenario].Body);
                measurements[scenario] = await driver.MeasureAsync($"{id}-{scenario.Id}", Title, proxy, scenario, request, cancellation).ConfigureAwait(false);
            }

            return new BackendResult(backend, maxSessions, measurements);
        }
        finally
        {
            proxy.Stop();
        }
    }

    /// <summary>"SoftHSM 2.6.1" from <c>softhsm2-util --version</c>, for the report.</summary>
    private static async Task<string> HsmDescriptionAsync(SoftHsmToken token, CancellationToken cancellation)
    {
        var info = new System.Diagnostics.ProcessStartInfo("softhsm2-util", "--version") { UseShellExecute = false, RedirectStandardOutput = true };
        info.Environment["SOFTHSM2_CONF"] = token.ConfigFile;
        using var process = System.Diagnostics.Process.Start(info);
        if (process is null)
        {
            return "SoftHSM2";
        }

        var version = (await process.StandardOutput.ReadToEndAsync(cancellation).ConfigureAwait(false)).Trim();
        await process.WaitForExitAsync(cancellation).ConfigureAwait(false);
        return string.IsNullOrEmpty(version) ? "SoftHSM2" : "SoftHSM " + version;
    }
}
