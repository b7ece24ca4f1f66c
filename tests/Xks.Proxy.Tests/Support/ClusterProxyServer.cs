using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Xks.Contracts.ProxyConfig;
using Xks.Proxy.Cluster;
using Xks.Proxy.Crypto.Software;
using Xks.Proxy.Options;
using Xks.Testing;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Xks.Proxy.Tests.Support;

/// <summary>
/// The proxy in cluster mode on Kestrel at 127.0.0.1 (in this process), configured by a Secret in a fresh namespace
/// of the real control plane (<see cref="LocalCluster"/>). Laid out as a pod would be: the master key in a read-only
/// file of its own (the mounted Secret), <c>createMissingKeys: false</c>, and key material written by a stand-in for
/// the operator. Every log line is captured.
/// </summary>
public sealed class ClusterProxyServer : IAsyncDisposable
{
    public const string SecretName = "xks-proxy-config";

    private WebApplication _app = null!;

    private ClusterProxyServer(string ns, string directory, ProxyConfigBuilder builder)
    {
        Namespace = ns;
        Directory = directory;
        Builder = builder;
    }

    public static LocalCluster Cluster => LocalCluster.Instance;

    public string Namespace { get; }

    public ConfigSecretReference Secret => new(Namespace, SecretName);

    public string Directory { get; }

    public string DataDir => Path.Combine(Directory, "data");

    public string MasterKeyFile => Path.Combine(Directory, "master-key", "master.key");

    public string AuditFile => Path.Combine(Directory, "audit.log");

    public int Port { get; private set; }

    public ProxyConfigBuilder Builder { get; }

    public CapturingLoggerProvider Logs { get; } = new();

    public IServiceProvider Services => _app.Services;

    public Uri BaseAddress => new($"http://127.0.0.1:{Port}");

    /// <summary>
    /// Creates the namespace, the master key, key material for <paramref name="keyMaterial"/> and the Secret, then
    /// starts the proxy with <c>--config-secret</c> semantics. <paramref name="connection"/> may change how the proxy
    /// reaches the API server (e.g. through a <see cref="TcpRelay"/>).
    /// </summary>
    public static async Task<ClusterProxyServer> StartAsync(
        Action<ProxyConfigBuilder>? configure = null,
        string[]? keyMaterial = null,
        Action<KubernetesClientConfiguration>? connection = null)
    {
        var server = await PrepareAsync(configure, keyMaterial);
        await server.StartProxyAsync(connection);
        return server;
    }

    /// <summary>Namespace, master key and key material, without a Secret or a running proxy (for start-up tests).</summary>
    public static async Task<ClusterProxyServer> PrepareAsync(Action<ProxyConfigBuilder>? configure = null, string[]? keyMaterial = null)
    {
        await EnsureClusterAsync();
        var ns = await Cluster.CreateNamespaceAsync("xksp");
        return Prepare(ns, configure, keyMaterial);
    }

    /// <summary>The pod-like layout (folders, master key, key material, port) without a cluster, for a fake API server.</summary>
    public static ClusterProxyServer PrepareLocal(Action<ProxyConfigBuilder>? configure = null, string[]? keyMaterial = null) =>
        Prepare("", configure, keyMaterial);

    private static ClusterProxyServer Prepare(string ns, Action<ProxyConfigBuilder>? configure, string[]? keyMaterial)
    {
        var directory = Path.Combine(Path.GetTempPath(), "xks-cluster-" + Guid.NewGuid().ToString("N"));
        var builder = new ProxyConfigBuilder { CreateMissingKeys = false };
        var server = new ClusterProxyServer(ns, directory, builder);
        builder.MasterKeyFile = server.MasterKeyFile;
        configure?.Invoke(builder);

        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(server.MasterKeyFile)!);
        File.WriteAllBytes(server.MasterKeyFile, RandomNumberGenerator.GetBytes(32));
        File.SetUnixFileMode(server.MasterKeyFile, UnixFileMode.UserRead);
        if (keyMaterial is { Length: > 0 })
        {
            server.WriteKeyMaterial(keyMaterial);
        }

        server.Port = TestPorts.GetFree();
        return server;
    }

    /// <summary>
    /// Brings the control plane up off xunit's synchronisation context: the fixture blocks on its start script, and
    /// several test classes blocking their xunit threads at once must not starve its continuations.
    /// </summary>
    public static Task EnsureClusterAsync() => Task.Run(() => LocalCluster.Instance);

    /// <summary>Options as the command line builds them, with short retry delays so tests need not wait.</summary>
    public ClusterModeOptions Options(Action<KubernetesClientConfiguration>? connection = null, string? secretName = null)
    {
        var kubernetes = KubernetesClientConfiguration.BuildConfigFromConfigFile(Cluster.KubeconfigPath);
        connection?.Invoke(kubernetes);
        return new ClusterModeOptions
        {
            Secret = new ConfigSecretReference(Namespace, secretName ?? SecretName),
            Kubernetes = kubernetes,
            StartupTimeout = TimeSpan.FromSeconds(20),
            RetryInitialDelay = TimeSpan.FromMilliseconds(200),
            RetryMaxDelay = TimeSpan.FromSeconds(1),
        };
    }

    public async Task StartProxyAsync(Action<KubernetesClientConfiguration>? connection = null)
    {
        if (!await SecretExistsAsync())
        {
            await WriteSecretAsync(Render());
        }

        for (var attempt = 1; ; attempt++)
        {
            var app = await ClusterProxyApplication.BuildAsync(
                Options(connection),
                logging => logging.AddProvider(Logs).SetMinimumLevel(LogLevel.Trace));
            try
            {
                await app.StartAsync();
                _app = app;
                return;
            }
            catch (IOException) when (attempt < 3)
            {
                // The port was taken meanwhile: render the Secret with another one.
                await app.DisposeAsync();
                Port = TestPorts.GetFree();
                await WriteSecretAsync(Render());
            }
        }
    }

    /// <summary>The YAML the builder makes for this proxy's port and folders.</summary>
    public string Render() => Builder.Build(Port, DataDir, AuditFile);

    /// <summary>Changes the builder (changes add up), then renders.</summary>
    public string Render(Action<ProxyConfigBuilder> change)
    {
        change(Builder);
        return Render();
    }

    /// <summary>Changes the builder and writes the result into the Secret (what the Vault reconciler does on a change).</summary>
    public Task RewriteSecretAsync(Action<ProxyConfigBuilder> change)
    {
        change(Builder);
        return WriteSecretAsync(Render());
    }

    /// <summary>Creates or replaces the Secret with <paramref name="yaml"/> under proxy.yaml (or other keys).</summary>
    public async Task WriteSecretAsync(string? yaml, string name = SecretName, string key = ConfigSecretReference.ConfigKey)
    {
        var data = yaml is null ? new Dictionary<string, byte[]>() : new Dictionary<string, byte[]> { [key] = Encoding.UTF8.GetBytes(yaml) };
        try
        {
            var existing = await Cluster.Client.CoreV1.ReadNamespacedSecretAsync(name, Namespace);
            existing.Data = data;
            await Cluster.Client.CoreV1.ReplaceNamespacedSecretAsync(existing, name, Namespace);
        }
        catch (HttpOperationException ex) when (ex.Response.StatusCode == HttpStatusCode.NotFound)
        {
            await Cluster.Client.CoreV1.CreateNamespacedSecretAsync(
                new V1Secret { Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = Namespace }, Data = data },
                Namespace);
        }
    }

    public Task DeleteSecretAsync() => Cluster.Client.CoreV1.DeleteNamespacedSecretAsync(SecretName, Namespace);

    /// <summary>What the operator will do for a CloudKey: write wrapped material under the master key.</summary>
    public void WriteKeyMaterial(params string[] keyIds)
    {
        var builder = new ProxyConfigBuilder();
        foreach (var id in keyIds)
        {
            builder.Key(id);
        }

        var loaded = ProxyConfigurationLoader.LoadText(builder.Build(8080, DataDir, AuditFile), Directory);
        Assert.True(loaded.Succeeded, string.Join("; ", loaded.Problems));
        using var standIn = new SoftwareKeyBackend(
            new SoftwareBackendOptions { DataDir = DataDir, MasterKeyFile = MasterKeyFile, CreateMissingKeys = true },
            NullLogger<SoftwareKeyBackend>.Instance,
            TimeProvider.System);
        standIn.Apply(loaded.Configuration!);
    }

    /// <summary>Waits until a captured log line contains <paramref name="needle"/>.</summary>
    public async Task<string> WaitForLogAsync(string needle, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        while (true)
        {
            var line = Logs.Lines.FirstOrDefault(l => l.Contains(needle, StringComparison.Ordinal));
            if (line is not null)
            {
                return line;
            }

            Assert.True(DateTime.UtcNow < deadline, $"no log line with '{needle}' within the timeout:\n{Logs.AllText}");
            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        if (Namespace.Length > 0)
        {
            try
            {
                await Cluster.Client.CoreV1.DeleteNamespaceAsync(Namespace);
            }
            catch (HttpOperationException)
            {
            }
        }

        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private async Task<bool> SecretExistsAsync()
    {
        try
        {
            await Cluster.Client.CoreV1.ReadNamespacedSecretAsync(SecretName, Namespace);
            return true;
        }
        catch (HttpOperationException ex) when (ex.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }
    }
}
