using Xks.Testing;

namespace Xks.KmsEmulator.Tests.Support;

/// <summary>
/// The real XKS proxy as a child process (<c>dotnet xks-proxy.dll --config FILE</c>) serving HTTPS on 127.0.0.1 with a
/// certificate for <see cref="ProxyConfig.Host"/> from a test CA. Ready once <c>GET /ping</c> answers.
/// </summary>
public sealed class ProxyProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private readonly ChildProcess _process;

    private ProxyProcess(ChildProcess process, string directory, int port)
    {
        _process = process;
        Directory = directory;
        Port = port;
    }

    public string Directory { get; }

    public int Port { get; }

    public string ConfigFile => Path.Combine(Directory, "config.yaml");

    public string Output => _process.Output;

    public static Task<ProxyProcess> StartAsync(string directory, ProxyConfig config) =>
        ChildProcess.StartWithPortRetryAsync(async port =>
        {
            var configFile = Path.Combine(directory, "config.yaml");
            await File.WriteAllTextAsync(configFile, config.Build(port, Path.Combine(directory, "data")));
            var process = await ChildProcess.StartAsync(ProxyCommand.Options(["--config", configFile], directory), started => WaitUntilReadyAsync(started, port));
            return new ProxyProcess(process, directory, port);
        });

    /// <summary>Rewrites the config (same port); the proxy reloads it within a fraction of a second.</summary>
    public async Task ReconfigureAsync(ProxyConfig config)
    {
        await AtomicFile.WriteAllTextAsync(ConfigFile, config.Build(Port, Path.Combine(Directory, "data")));
        await Task.Delay(TimeSpan.FromSeconds(1.5));
    }

    public Task StopAsync() => _process.KillAsync();

    public ValueTask DisposeAsync() => _process.DisposeAsync();

    private static async Task WaitUntilReadyAsync(ChildProcess process, int port)
    {
        using var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(5) };
        await process.WaitForHttpAsync(http, new Uri($"https://127.0.0.1:{port}/ping"), StartTimeout);
    }
}
