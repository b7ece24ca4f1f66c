using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Xks.Testing;

namespace Xks.Operator.Support.Tests;

/// <summary>
/// The operator as a real child process (<c>xks-operator run</c>, the build output copied next to the tests), watching
/// one test namespace against the local control plane. <see cref="KillAsync"/> simulates a crash (SIGKILL, no
/// lease release, no cleanup); <see cref="DisposeAsync"/> stops it cleanly.
/// </summary>
internal sealed class OperatorProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private OperatorProcess(Process process, int httpPort, string identity)
    {
        _process = process;
        HttpPort = httpPort;
        Identity = identity;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { _output.Enqueue(e.Data); } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { _output.Enqueue(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int HttpPort { get; }

    /// <summary>The host name the process reports (its Lease holder identity starts with it).</summary>
    public string Identity { get; }

    public bool HasExited => _process.HasExited;

    /// <summary>Everything the process printed so far.</summary>
    public string Output => string.Join('\n', _output);

    /// <summary>Starts the operator; <c>environment</c>: extra variables (e.g. SOFTHSM2_CONF when Vaults use the PKCS#11 backend).</summary>
    public static Task<OperatorProcess> StartAsync(string @namespace, bool leaderElect = false, string? extraArguments = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var port = FreePort();
        var dll = Path.Combine(AppContext.BaseDirectory, "xks-operator.dll");
        var identity = $"op-{Guid.NewGuid():N}"[..11];
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
                 {
                     dll, "run", "--kubeconfig", LocalCluster.Instance.KubeconfigPath, "--namespace", @namespace,
                     "--leader-elect", leaderElect ? "true" : "false", "--leader-election-namespace", @namespace,
                     "--http-address", "127.0.0.1", "--http-port", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                     "--proxy-image", "registry.test/xks-proxy:test",
                 })
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var arg in (extraArguments ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["POD_NAME"] = identity;
        info.Environment["Logging__LogLevel__Default"] = "Debug";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start xks-operator");
        return Task.FromResult(new OperatorProcess(process, port, identity));
    }

    /// <summary>GET on the operator's HTTP port (/healthz, /readyz, /metrics); null while it does not answer.</summary>
    public async Task<(HttpStatusCode Status, string Body)?> GetAsync(string path)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        try
        {
            using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{HttpPort}{path}"));
            return (response.StatusCode, await response.Content.ReadAsStringAsync());
        }
        catch (HttpRequestException)
        {
            return null;
        }
        catch (TaskCanceledException)
        {
            return null;
        }
    }

    public async Task WaitReadyAsync(TimeSpan within)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < within)
        {
            Assert.False(_process.HasExited, "the operator exited:\n" + Output);
            if (await GetAsync("/readyz") is { Status: HttpStatusCode.OK })
            {
                return;
            }

            await Task.Delay(100);
        }

        Assert.Fail($"the operator was not ready within {within.TotalSeconds} s:\n{Output}");
    }

    /// <summary>A crash: SIGKILL, nothing runs on the way out.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            // SIGTERM: the host stops the controllers and hands the lease back.
            using (var term = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await term.WaitForExitAsync();
            }

            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            try
            {
                await _process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
            }
        }

        _process.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
