using System.Globalization;
using System.Net;
using Xks.Testing;

namespace Xks.Operator.Support.Tests;

/// <summary>
/// The operator as a real child process (<c>xks-operator run</c>, the build output copied next to the tests), watching
/// one test namespace against the local control plane. <see cref="KillAsync"/> simulates a crash (SIGKILL, no
/// lease release, no cleanup); <see cref="DisposeAsync"/> stops it cleanly.
/// </summary>
internal sealed class OperatorProcess : IAsyncDisposable
{
    private readonly ChildProcess _process;

    private OperatorProcess(ChildProcess process, int httpPort, string identity)
    {
        _process = process;
        HttpPort = httpPort;
        Identity = identity;
    }

    public int HttpPort { get; }

    /// <summary>The host name the process reports (its Lease holder identity starts with it).</summary>
    public string Identity { get; }

    public bool HasExited => _process.HasExited;

    /// <summary>The operator's process id (the dotnet host running xks-operator.dll: /proc/ID/status has its memory).</summary>
    public int ProcessId => _process.Id;

    /// <summary>CPU time (user and system) the operator has used so far.</summary>
    public TimeSpan CpuTime => _process.TotalProcessorTime;

    /// <summary>Everything the process printed so far.</summary>
    public string Output => _process.Output;

    /// <summary>Starts the operator; <c>environment</c>: extra variables (e.g. SOFTHSM2_CONF when Vaults use the PKCS#11 backend).</summary>
    public static Task<OperatorProcess> StartAsync(string @namespace, bool leaderElect = false, string? extraArguments = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var port = TestPorts.GetFree();
        var identity = $"op-{Guid.NewGuid():N}"[..11];
        List<string> arguments =
        [
            "run", "--kubeconfig", LocalCluster.Instance.KubeconfigPath, "--namespace", @namespace,
            "--leader-elect", leaderElect ? "true" : "false", "--leader-election-namespace", @namespace,
            "--http-address", "127.0.0.1", "--http-port", port.ToString(CultureInfo.InvariantCulture),
            "--proxy-image", "registry.test/xks-proxy:test",
            .. (extraArguments ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries),
        ];
        var variables = new Dictionary<string, string> { ["POD_NAME"] = identity, ["Logging__LogLevel__Default"] = "Debug" };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            variables[name] = value;
        }

        // XKS_OPERATOR_PUBLISHED: a directory with the operator published as the image ships it (self-contained,
        // ReadyToRun); the scale benchmark measures that build's memory rather than the tests' Debug build.
        var published = Environment.GetEnvironmentVariable("XKS_OPERATOR_PUBLISHED") is { Length: > 0 } directory ? Path.Combine(directory, "xks-operator") : null;
        var command = published is null
            ? DotnetApp.Command("xks-operator", arguments, environment: variables)
            : new ChildProcessOptions(published, arguments) { Environment = variables };
        var process = ChildProcess.Start(command);
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

    public Task WaitReadyAsync(TimeSpan within) =>
        _process.WaitUntilAsync(async () => await GetAsync("/readyz") is { Status: HttpStatusCode.OK }, within, "answering GET /readyz with 200");

    /// <summary>A crash: SIGKILL, nothing runs on the way out.</summary>
    public Task KillAsync() => _process.KillAsync();

    public async ValueTask DisposeAsync()
    {
        // SIGTERM: the host stops the controllers and hands the lease back.
        await _process.TerminateAsync(TimeSpan.FromSeconds(15));
        await _process.DisposeAsync();
    }
}
