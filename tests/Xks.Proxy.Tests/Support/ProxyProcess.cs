using System.Diagnostics;
using System.Security.Cryptography.X509Certificates;
using System.Text;

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
    private readonly Process _process;
    private readonly object _gate = new();
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly StringBuilder _all = new();
    private readonly TaskCompletionSource _stdoutClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stderrClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ProxyProcess(Process process, string directory, string configPath, int port, bool tls)
    {
        _process = process;
        Directory = directory;
        ConfigPath = configPath;
        Port = port;
        BaseAddress = new Uri($"{(tls ? "https" : "http")}://127.0.0.1:{port}");
        _process.OutputDataReceived += (_, e) => Append(e.Data, _stdout, _stdoutClosed);
        _process.ErrorDataReceived += (_, e) => Append(e.Data, _stderr, _stderrClosed);
    }

    /// <summary>The temporary folder of this proxy (removed on dispose).</summary>
    public string Directory { get; }

    public string ConfigPath { get; }

    public string DataDir => Path.Combine(Directory, "data");

    public int Port { get; }

    public Uri BaseAddress { get; }

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    public string StandardOutput
    {
        get
        {
            lock (_gate)
            {
                return _stdout.ToString();
            }
        }
    }

    public string StandardError
    {
        get
        {
            lock (_gate)
            {
                return _stderr.ToString();
            }
        }
    }

    /// <summary>stdout and stderr interleaved in arrival order.</summary>
    public string Output
    {
        get
        {
            lock (_gate)
            {
                return _all.ToString();
            }
        }
    }

    /// <summary>A new temporary folder for one proxy process (config, data, certificates).</summary>
    public static string CreateDirectory()
    {
        var directory = Path.Combine(Path.GetTempPath(), "xks-proc-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(directory);
        return directory;
    }

    /// <summary>
    /// Writes the YAML that <paramref name="yamlForPort"/> makes for a free port to DIRECTORY/config.yaml, starts the
    /// proxy on it and waits for <c>GET /ping</c>. Over TLS the probe trusts only <paramref name="serverCertificate"/>
    /// and presents <paramref name="clientCertificate"/> when the proxy requires one.
    /// </summary>
    public static async Task<ProxyProcess> StartAsync(
        string directory,
        Func<int, string> yamlForPort,
        IReadOnlyDictionary<string, string>? environment = null,
        X509Certificate2? serverCertificate = null,
        X509Certificate2? clientCertificate = null,
        IReadOnlyList<string>? extraArguments = null)
    {
        for (var attempt = 1; ; attempt++)
        {
            var port = TestPorts.GetFree();
            var configPath = Path.Combine(directory, "config.yaml");
            await File.WriteAllTextAsync(configPath, yamlForPort(port));
            var proxy = Launch(directory, ["--config", configPath, .. extraArguments ?? []], configPath, port, environment, serverCertificate is not null);
            try
            {
                await proxy.WaitUntilReadyAsync(serverCertificate, clientCertificate);
                return proxy;
            }
            catch (ProxyStartException ex) when (attempt < 3 && ex.Output.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            {
                await proxy.KillAsync();
                proxy._process.Dispose();
            }
            catch
            {
                await proxy.KillAsync();
                proxy._process.Dispose();
                throw;
            }
        }
    }

    /// <summary>
    /// Starts <c>xks-proxy ARGUMENTS</c> (e.g. <c>serve --config-secret ns/name --kubeconfig PATH</c>) that will listen on
    /// plain HTTP at <paramref name="port"/>, and waits for <c>GET /ping</c>.
    /// </summary>
    public static async Task<ProxyProcess> StartWithArgumentsAsync(
        string directory,
        IReadOnlyList<string> arguments,
        int port,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var proxy = Launch(directory, arguments, "", port, environment, tls: false);
        try
        {
            await proxy.WaitUntilReadyAsync(null, null);
            return proxy;
        }
        catch
        {
            await proxy.KillAsync();
            proxy._process.Dispose();
            throw;
        }
    }

    /// <summary>Runs <c>xks-proxy ARGUMENTS</c> that is expected to end by itself, and returns how it ended.</summary>
    public static async Task<ToolResult> RunToExitAsync(string directory, IReadOnlyList<string> arguments, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment = null)
    {
        var proxy = Launch(directory, arguments, "", 0, environment, tls: false);
        try
        {
            using var cancel = new CancellationTokenSource(timeout);
            try
            {
                await proxy._process.WaitForExitAsync(cancel.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"xks-proxy {string.Join(' ', arguments)} did not exit within {timeout.TotalSeconds} s\n{proxy.Output}");
            }

            await Task.WhenAny(Task.WhenAll(proxy._stdoutClosed.Task, proxy._stderrClosed.Task), Task.Delay(TimeSpan.FromSeconds(5)));
            return new ToolResult("xks-proxy " + string.Join(' ', arguments), proxy._process.ExitCode, proxy.StandardOutput, proxy.StandardError);
        }
        finally
        {
            // Not DisposeAsync: the folder belongs to the caller.
            await proxy.KillAsync();
            proxy._process.Dispose();
        }
    }

    private static ProxyProcess Launch(string directory, IReadOnlyList<string> arguments, string configPath, int port, IReadOnlyDictionary<string, string>? environment, bool tls)
    {
        var (dotnet, dll) = LocateProxy();
        var start = new ProcessStartInfo(dotnet)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = directory,
        };
        start.ArgumentList.Add(dll);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment.Remove("XKS_PROXY_CONFIG");
        start.Environment.Remove("XKS_PROXY_CONFIG_SECRET");
        start.Environment.Remove("KUBECONFIG");
        start.Environment.Remove("ASPNETCORE_URLS");
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        var process = new Process { StartInfo = start };
        var proxy = new ProxyProcess(process, directory, configPath, port, tls);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.StandardInput.Close();
        return proxy;
    }

    /// <summary>Stops the proxy like a service manager does (SIGTERM), waits for it to exit and for its output to close.</summary>
    public async Task StopAsync(TimeSpan? timeout = null)
    {
        if (!_process.HasExited)
        {
            await SendTerminateAsync();
            using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(15));
            try
            {
                await _process.WaitForExitAsync(cancel.Token);
            }
            catch (OperationCanceledException)
            {
                await KillAsync();
                Assert.Fail("the proxy did not stop within 15 s of SIGTERM\n" + Output);
            }
        }

        await Task.WhenAny(Task.WhenAll(_stdoutClosed.Task, _stderrClosed.Task), Task.Delay(TimeSpan.FromSeconds(5)));
    }

    /// <summary>Sends SIGTERM (what the kubelet sends a container) and returns at once.</summary>
    public async Task SendTerminateAsync()
    {
        // .NET has no managed SIGTERM; the shell's kill builtin sends it to this one process id.
        var kill = await ExternalTool.RunAsync("/bin/sh", ["-c", "kill -TERM " + _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        Assert.True(kill.ExitCode == 0, kill.ToString());
    }

    /// <summary>Waits until the process has exited (true) or the timeout passes (false).</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cancel.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Waits until the output holds <paramref name="needle"/> (e.g. an audit line), or the timeout passes.</summary>
    public async Task<bool> WaitForOutputAsync(string needle, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (!Output.Contains(needle, StringComparison.Ordinal))
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            await Task.Delay(50);
        }

        return true;
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private async Task KillAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _process.WaitForExitAsync(cancel.Token);
        }
        catch (InvalidOperationException)
        {
            // never started
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void Append(string? line, StringBuilder stream, TaskCompletionSource closed)
    {
        if (line is null)
        {
            closed.TrySetResult();
            return;
        }

        lock (_gate)
        {
            stream.Append(line).Append('\n');
            _all.Append(line).Append('\n');
        }
    }

    private async Task WaitUntilReadyAsync(X509Certificate2? serverCertificate, X509Certificate2? clientCertificate)
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
        var deadline = DateTime.UtcNow + StartTimeout;
        string? lastProblem = null;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                await Task.WhenAny(Task.WhenAll(_stdoutClosed.Task, _stderrClosed.Task), Task.Delay(TimeSpan.FromSeconds(2)));
                throw new ProxyStartException($"the proxy exited with code {_process.ExitCode} before answering GET /ping\n{Output}", Output);
            }

            try
            {
                using var response = await http.GetAsync(new Uri(BaseAddress, "/ping"));
                if (response.IsSuccessStatusCode)
                {
                    return;
                }

                lastProblem = $"GET /ping answered {(int)response.StatusCode}";
            }
            catch (HttpRequestException ex)
            {
                lastProblem = ex.Message;
            }
            catch (TaskCanceledException ex)
            {
                lastProblem = ex.Message;
            }

            await Task.Delay(100);
        }

        throw new ProxyStartException($"the proxy did not answer GET /ping within {StartTimeout.TotalSeconds} s ({lastProblem})\n{Output}", Output);
    }

    /// <summary>The dotnet host and xks-proxy.dll in the test output directory (the test project references the proxy).</summary>
    private static (string Dotnet, string Dll) LocateProxy()
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "xks-proxy.dll");
        var runtimeConfig = Path.Combine(AppContext.BaseDirectory, "xks-proxy.runtimeconfig.json");
        Assert.True(File.Exists(dll), $"{dll} is missing: the test project must reference proxy/Xks.Proxy.csproj so the proxy is copied next to the tests");
        Assert.True(File.Exists(runtimeConfig), $"{runtimeConfig} is missing: without it `dotnet xks-proxy.dll` cannot start");

        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (string.IsNullOrEmpty(dotnet) || !File.Exists(dotnet))
        {
            dotnet = Environment.ProcessPath is { } current && Path.GetFileNameWithoutExtension(current) == "dotnet" ? current : "dotnet";
        }

        return (dotnet, dll);
    }

    private sealed class ProxyStartException(string message, string output) : Exception(message)
    {
        public string Output { get; } = output;
    }
}
