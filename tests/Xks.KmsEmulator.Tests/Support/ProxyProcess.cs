using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Xks.KmsEmulator.Tests.Support;

/// <summary>
/// The real XKS proxy as a child process (<c>dotnet xks-proxy.dll --config FILE</c>) serving HTTPS on 127.0.0.1 with a
/// certificate for <see cref="ProxyConfig.Host"/> from a test CA. Ready once <c>GET /ping</c> answers.
/// </summary>
public sealed class ProxyProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ProxyProcess(Process process, string directory, int port)
    {
        _process = process;
        Directory = directory;
        Port = port;
    }

    public string Directory { get; }

    public int Port { get; }

    public string ConfigFile => Path.Combine(Directory, "config.yaml");

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static async Task<ProxyProcess> StartAsync(string directory, ProxyConfig config)
    {
        var port = FreePort();
        await File.WriteAllTextAsync(Path.Combine(directory, "config.yaml"), config.Build(port, Path.Combine(directory, "data")));
        var dll = Path.Combine(AppContext.BaseDirectory, "xks-proxy.dll");
        Assert.True(File.Exists(dll), $"{dll} is missing: the test project references proxy/Xks.Proxy.csproj so the proxy is copied next to the tests");
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = directory,
        };
        start.ArgumentList.Add(dll);
        start.ArgumentList.Add("--config");
        start.ArgumentList.Add(Path.Combine(directory, "config.yaml"));
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment.Remove("ASPNETCORE_URLS");
        start.Environment.Remove("XKS_PROXY_CONFIG");
        start.Environment.Remove("KUBECONFIG");
        var process = new Process { StartInfo = start };
        var proxy = new ProxyProcess(process, directory, port);
        process.OutputDataReceived += (_, e) => proxy.Append(e.Data);
        process.ErrorDataReceived += (_, e) => proxy.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await proxy.WaitUntilReadyAsync();
            return proxy;
        }
        catch
        {
            await proxy.DisposeAsync();
            throw;
        }
    }

    /// <summary>Rewrites the config (same port); the proxy reloads it within a fraction of a second.</summary>
    public async Task ReconfigureAsync(ProxyConfig config)
    {
        var temporary = ConfigFile + ".tmp";
        await File.WriteAllTextAsync(temporary, config.Build(Port, Path.Combine(Directory, "data")));
        File.Move(temporary, ConfigFile, overwrite: true);
        await Task.Delay(TimeSpan.FromSeconds(1.5));
    }

    public async Task StopAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync();
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.Append(line).Append('\n');
            }
        }
    }

    private async Task WaitUntilReadyAsync()
    {
        using var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"the proxy exited with code {_process.ExitCode}\n{Output}");
            }

            try
            {
                using var response = await http.GetAsync(new Uri($"https://127.0.0.1:{Port}/ping"));
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"the proxy did not answer GET /ping within 60 s\n{Output}");
    }
}
