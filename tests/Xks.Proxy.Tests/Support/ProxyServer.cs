using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Xks.Proxy.Hosting;
using Xks.Proxy.Options;
using Xks.Testing;

namespace Xks.Proxy.Tests.Support;

/// <summary>
/// The real proxy on Kestrel at 127.0.0.1 (in this process), with its config file, data directory and audit file in
/// a temporary folder, and every log line captured.
/// </summary>
public sealed class ProxyServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private ProxyServer(WebApplication app, string directory, string configPath, int port, CapturingLoggerProvider logs, ProxyConfigBuilder builder)
    {
        _app = app;
        Directory = directory;
        ConfigPath = configPath;
        Port = port;
        Logs = logs;
        Builder = builder;
    }

    public string Directory { get; }

    public string ConfigPath { get; }

    public string DataDir => Path.Combine(Directory, "data");

    public string AuditFile => Path.Combine(Directory, "audit.log");

    public int Port { get; }

    public ProxyConfigBuilder Builder { get; }

    public CapturingLoggerProvider Logs { get; }

    public IServiceProvider Services => _app.Services;

    public Uri BaseAddress => new(Builder.Tls is null ? $"http://127.0.0.1:{Port}" : $"https://127.0.0.1:{Port}");

    /// <summary>The unseal API (Shamir mode): plain HTTP on 127.0.0.1:adminPort.</summary>
    public Uri AdminAddress => new($"http://127.0.0.1:{Builder.ShamirAdminPort}");

    public static async Task<ProxyServer> StartAsync(Action<ProxyConfigBuilder>? configure = null, TimeProvider? time = null, string? directory = null)
    {
        var builder = new ProxyConfigBuilder();
        configure?.Invoke(builder);
        directory ??= Path.Combine(Path.GetTempPath(), "xks-test-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(directory);
        for (var attempt = 0; ; attempt++)
        {
            // Two ports picked free one after the other can be the same one: never the test's metrics port.
            var port = TestPorts.GetFree();
            while (port == builder.MetricsPort)
            {
                port = TestPorts.GetFree();
            }

            if (builder.ShamirKeyring is not null && (attempt > 0 || builder.ShamirAdminPort == 0))
            {
                do
                {
                    builder.ShamirAdminPort = TestPorts.GetFree();
                }
                while (builder.ShamirAdminPort == port || builder.ShamirAdminPort == builder.MetricsPort);
            }

            var configPath = Path.Combine(directory, "config.yaml");
            await File.WriteAllTextAsync(configPath, builder.Build(port, Path.Combine(directory, "data"), Path.Combine(directory, "audit.log")));
            var loaded = ProxyConfigurationLoader.LoadFile(configPath);
            if (!loaded.Succeeded)
            {
                throw new InvalidOperationException("test config invalid: " + string.Join("; ", loaded.Problems));
            }

            var logs = new CapturingLoggerProvider();
            var app = ProxyApplication.Build(
                loaded.Configuration!,
                logging => logging.AddProvider(logs).SetMinimumLevel(LogLevel.Trace),
                services =>
                {
                    if (time is not null)
                    {
                        services.Replace(ServiceDescriptor.Singleton(time));
                    }
                });
            try
            {
                await app.StartAsync();
                return new ProxyServer(app, directory, configPath, port, logs, builder);
            }
            catch (IOException) when (attempt < 3)
            {
                await app.DisposeAsync();
            }
        }
    }

    /// <summary>Rewrites the config file from the (changed) builder; the proxy reloads it within a fraction of a second.</summary>
    public Task RewriteConfigAsync(Action<ProxyConfigBuilder> change)
    {
        change(Builder);
        return WriteConfigAsync(Builder.Build(Port, DataDir, AuditFile));
    }

    /// <summary>
    /// Replaces the config file in one step (write aside, then rename), as a Kubernetes volume update does, so the
    /// reloader never reads a half-written file.
    /// </summary>
    public Task WriteConfigAsync(string yaml) => AtomicFile.WriteAllTextAsync(ConfigPath, yaml);

    public T GetRequiredService<T>()
        where T : notnull => _app.Services.GetRequiredService<T>();

    /// <summary>Waits until the audit file holds a line that contains <paramref name="needle"/>.</summary>
    public async Task<string[]> WaitForAuditAsync(string needle, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            var lines = File.Exists(AuditFile) ? await ReadSharedAsync(AuditFile) : [];
            if (lines.Any(l => l.Contains(needle, StringComparison.Ordinal)) || DateTime.UtcNow > deadline)
            {
                return lines;
            }

            await Task.Delay(50);
        }
    }

    private static async Task<string[]> ReadSharedAsync(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        var text = await reader.ReadToEndAsync();
        return text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
