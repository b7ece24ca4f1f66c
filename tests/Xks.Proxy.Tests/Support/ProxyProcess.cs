using System.Security.Cryptography.X509Certificates;
using Xks.Testing;

namespace Xks.Proxy.Tests.Support;

/// <summary>
/// The proxy as a REAL CHILD PROCESS: <c>dotnet xks-proxy.dll --config &lt;temp yaml&gt;</c> from the test output
/// directory, with its own temporary folder (config, data directory, certificates). Ready once <c>GET /ping</c>
/// answers; every line of its stdout and stderr is kept; stopped with SIGTERM (so it flushes its logs) and killed
/// on dispose.
/// </summary>
public sealed class ProxyProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(45);
    private readonly ChildProcess _process;

    private ProxyProcess(ChildProcess process, string directory, string configPath, int port, Uri baseAddress)
    {
        _process = process;
        Directory = directory;
        ConfigPath = configPath;
        Port = port;
        BaseAddress = baseAddress;
    }

    /// <summary>The temporary folder of this proxy (removed on dispose).</summary>
    public string Directory { get; }

    public string ConfigPath { get; }

    public string DataDir => Path.Combine(Directory, "data");

    public int Port { get; }

    public Uri BaseAddress { get; }

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    public string StandardOutput => _process.StandardOutput;

    public string StandardError => _process.StandardError;

    /// <summary>stdout and stderr interleaved in arrival order.</summary>
    public string Output => _process.Output;

    /// <summary>A new temporary folder for one proxy process (config, data, certificates).</summary>
    public static string CreateDirectory() => TemporaryDirectory.Create("xks-proc");

    /// <summary>
    /// Writes the YAML that <paramref name="yamlForPort"/> makes for a free port to DIRECTORY/config.yaml, starts the
    /// proxy on it and waits for <c>GET /ping</c>. Over TLS the probe trusts only <paramref name="serverCertificate"/>
    /// and presents <paramref name="clientCertificate"/> when the proxy requires one.
    /// </summary>
    public static Task<ProxyProcess> StartAsync(
        string directory,
        Func<int, string> yamlForPort,
        IReadOnlyDictionary<string, string>? environment = null,
        X509Certificate2? serverCertificate = null,
        X509Certificate2? clientCertificate = null,
        IReadOnlyList<string>? extraArguments = null) =>
        ChildProcess.StartWithPortRetryAsync(async port =>
        {
            var configPath = Path.Combine(directory, "config.yaml");
            await File.WriteAllTextAsync(configPath, yamlForPort(port));
            return await LaunchAsync(directory, ["--config", configPath, .. extraArguments ?? []], configPath, port, environment, serverCertificate, clientCertificate);
        });

    /// <summary>
    /// Starts <c>xks-proxy ARGUMENTS</c> (e.g. <c>serve --config-secret ns/name --kubeconfig PATH</c>) that will listen on
    /// plain HTTP at <paramref name="port"/>, and waits for <c>GET /ping</c>.
    /// </summary>
    public static Task<ProxyProcess> StartWithArgumentsAsync(
        string directory,
        IReadOnlyList<string> arguments,
        int port,
        IReadOnlyDictionary<string, string>? environment = null) =>
        LaunchAsync(directory, arguments, "", port, environment, null, null);

    /// <summary>Runs <c>xks-proxy ARGUMENTS</c> that is expected to end by itself, and returns how it ended.</summary>
    public static async Task<ToolResult> RunToExitAsync(string directory, IReadOnlyList<string> arguments, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment = null)
    {
        // Not a ProxyProcess: the folder belongs to the caller.
        await using var proxy = ChildProcess.Start(ProxyCommand.Options(arguments, directory, environment));
        if (!await proxy.WaitForExitAsync(timeout))
        {
            Assert.Fail($"xks-proxy {string.Join(' ', arguments)} did not exit within {timeout.TotalSeconds} s\n{proxy.Output}");
        }

        return new ToolResult("xks-proxy " + string.Join(' ', arguments), proxy.ExitCode, proxy.StandardOutput, proxy.StandardError);
    }

    /// <summary>Stops the proxy like a service manager does (SIGTERM), waits for it to exit and for its output to close.</summary>
    public async Task StopAsync(TimeSpan? timeout = null)
    {
        if (!await _process.TerminateAsync(timeout ?? TimeSpan.FromSeconds(15)))
        {
            Assert.Fail("the proxy did not stop within 15 s of SIGTERM\n" + Output);
        }
    }

    /// <summary>Sends SIGTERM (what the kubelet sends a container) and returns at once.</summary>
    public Task SendTerminateAsync()
    {
        Assert.True(_process.SendTerminate(), $"could not send SIGTERM to the proxy (process {ProcessId})");
        return Task.CompletedTask;
    }

    /// <summary>Waits until the process has exited (true) or the timeout passes (false).</summary>
    public Task<bool> WaitForExitAsync(TimeSpan timeout) => _process.WaitForExitAsync(timeout);

    /// <summary>Waits until the output holds <paramref name="needle"/> (e.g. an audit line), or the timeout passes.</summary>
    public Task<bool> WaitForOutputAsync(string needle, TimeSpan? timeout = null) =>
        _process.WaitForOutputAsync(output => output.Contains(needle, StringComparison.Ordinal), timeout ?? TimeSpan.FromSeconds(10));

    public async ValueTask DisposeAsync()
    {
        await _process.DisposeAsync();
        TemporaryDirectory.TryDelete(Directory);
    }

    private static async Task<ProxyProcess> LaunchAsync(
        string directory,
        IReadOnlyList<string> arguments,
        string configPath,
        int port,
        IReadOnlyDictionary<string, string>? environment,
        X509Certificate2? serverCertificate,
        X509Certificate2? clientCertificate)
    {
        var baseAddress = new Uri($"{(serverCertificate is null ? "http" : "https")}://127.0.0.1:{port}");
        var process = await ChildProcess.StartAsync(
            ProxyCommand.Options(arguments, directory, environment),
            started => WaitUntilReadyAsync(started, baseAddress, serverCertificate, clientCertificate));
        return new ProxyProcess(process, directory, configPath, port, baseAddress);
    }

    private static async Task WaitUntilReadyAsync(ChildProcess process, Uri baseAddress, X509Certificate2? serverCertificate, X509Certificate2? clientCertificate)
    {
        using var handler = new SocketsHttpHandler();
        if (serverCertificate is not null)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                certificate is not null && certificate.GetRawCertData().AsSpan().SequenceEqual(serverCertificate.RawData);
            if (clientCertificate is not null)
            {
                handler.SslOptions.ClientCertificates = [clientCertificate];
                handler.SslOptions.LocalCertificateSelectionCallback = (_, _, _, _, _) => clientCertificate;
            }
        }

        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(5) };
        await process.WaitForHttpAsync(http, new Uri(baseAddress, "/ping"), StartTimeout);
    }
}
