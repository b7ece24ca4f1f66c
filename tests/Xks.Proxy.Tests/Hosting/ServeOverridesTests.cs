using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Xks.Proxy.Tests.Support;
using Xks.Testing;

namespace Xks.Proxy.Hosting.Tests;

/// <summary>
/// <c>xks-proxy serve … --volume-root DIR --address A --port N --metrics-port M</c> as a real process: the config a pod
/// gets (files under /var/run/xks, 0.0.0.0:8080, metrics on another port) served as a local process, from a file and
/// from a Secret.
/// </summary>
public sealed class ServeOverridesTests : IAsyncLifetime
{
    private const string Namespace = "team-a";
    private const string SecretName = "xks-proxy-config";
    private readonly string _directory = ProxyProcess.CreateDirectory();
    private readonly byte[] _masterKey = RandomNumberGenerator.GetBytes(32);
    private readonly int _documentMetricsPort = TestPorts.GetFree();
    private FakeSecretApiServer _api = null!;

    private string VolumeRoot => Path.Combine(_directory, "root");

    public async Task InitializeAsync()
    {
        _api = await FakeSecretApiServer.StartAsync();
        var masterKeyFile = Path.Combine(VolumeRoot, "var", "run", "xks", "master-key", "master.key");
        Directory.CreateDirectory(Path.GetDirectoryName(masterKeyFile)!);
        Directory.CreateDirectory(Path.Combine(VolumeRoot, "var", "log", "xks"));
        await File.WriteAllBytesAsync(masterKeyFile, _masterKey);
    }

    public async Task DisposeAsync()
    {
        await _api.DisposeAsync();
        if (Directory.Exists(_directory))
        {
            // A started proxy process removes its folder on dispose; the validation tests leave it here.
            Directory.Delete(_directory, recursive: true);
        }
    }

    /// <summary>The document a pod would get: absolute pod paths, all addresses, the pod's ports.</summary>
    private string PodConfig(params int[] versions) => new ProxyConfigBuilder { MasterKeyFile = "/var/run/xks/master-key/master.key", CreateMissingKeys = false, MetricsPort = _documentMetricsPort }
        .Key("foo", versions: [.. versions.Select(v => (v, WrappedKeyVersions.Wrap(_masterKey, "foo", v)))])
        .Build(8080, "/var/lib/xks", "/var/log/xks/audit.log")
        .Replace("address: 127.0.0.1", "address: 0.0.0.0", StringComparison.Ordinal);

    private string[] Overrides(int port) =>
        ["--volume-root", VolumeRoot, "--address", "127.0.0.1", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--metrics-port", "0"];

    private static async Task AssertRoundTripAsync(ProxyProcess proxy, string metadata)
    {
        using var client = new XksClient(proxy.BaseAddress);
        var plaintext = RandomNumberGenerator.GetBytes(32);
        var encrypted = await client.EncryptAsync("foo", plaintext);
        Assert.True(encrypted.Status == HttpStatusCode.OK, encrypted.Body + "\n" + proxy.Output);
        Assert.Equal(metadata, encrypted.MetadataSummary);
        Assert.Equal(plaintext, (await client.DecryptAsync("foo", encrypted)).Bytes("plaintext"));
    }

    private async Task AssertMetricsOffAsync(ProxyProcess proxy)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await Assert.ThrowsAsync<SocketException>(async () => await socket.ConnectAsync(IPAddress.Loopback, _documentMetricsPort));
        Assert.DoesNotContain(":" + _documentMetricsPort, proxy.Output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(VolumeRoot, "var", "lib", "xks")) && Directory.EnumerateFileSystemEntries(Path.Combine(VolumeRoot, "var", "lib", "xks")).Any());
    }

    [Fact]
    public async Task Serve_ConfigFileWithPodPaths_IsServedUnderTheVolumeRootOnTheGivenPort_WithoutMetrics()
    {
        var configPath = Path.Combine(_directory, "pod.yaml");
        await File.WriteAllTextAsync(configPath, PodConfig(1));
        var port = TestPorts.GetFree();

        await using var proxy = await ProxyProcess.StartWithArgumentsAsync(_directory, ["serve", "--config", configPath, .. Overrides(port)], port);

        await AssertRoundTripAsync(proxy, "format 2, version 1, 20 bytes");
        await AssertMetricsOffAsync(proxy);
        Assert.True(File.Exists(Path.Combine(VolumeRoot, "var", "log", "xks", "audit.log")), "the audit file is under the volume root too");

        // A reload of the file keeps the overrides (port, root): version 2 arrives without a restart.
        await AtomicFile.WriteAllTextAsync(configPath, PodConfig(1, 2));
        await Eventually.HoldsAsync(
            async () =>
            {
                using var client = new XksClient(proxy.BaseAddress);
                return (await client.EncryptAsync("foo", [1])).MetadataSummary == "format 2, version 2, 20 bytes";
            },
            TimeSpan.FromSeconds(10),
            "version 2 after the reload");
        Assert.DoesNotContain("rejected", proxy.Output, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Serve_ConfigSecretWithPodPaths_IsServedUnderTheVolumeRootOnTheGivenPort_AcrossSecretUpdates()
    {
        _api.Secret = FakeSecretApiServer.NewSecret(Namespace, SecretName, "10", PodConfig(1));
        _api.ScriptWatch([FakeSecretApiServer.Event("MODIFIED", FakeSecretApiServer.NewSecret(Namespace, SecretName, "11", PodConfig(2, 1)))]);
        var kubeconfig = Path.Combine(_directory, "kubeconfig");
        await File.WriteAllTextAsync(kubeconfig, $"apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {{server: \"{_api.Host}\"}}\nusers:\n- name: u\n  user: {{token: t}}\ncontexts:\n- name: x\n  context: {{cluster: c, user: u}}\ncurrent-context: x\n");
        var port = TestPorts.GetFree();

        await using var proxy = await ProxyProcess.StartWithArgumentsAsync(
            _directory,
            ["serve", "--config-secret", $"{Namespace}/{SecretName}", "--kubeconfig", kubeconfig, .. Overrides(port)],
            port);

        // The watch delivered version 11 (two key versions): applied with the same overrides.
        await Eventually.HoldsAsync(
            async () =>
            {
                using var client = new XksClient(proxy.BaseAddress);
                return (await client.EncryptAsync("foo", [1])).MetadataSummary == "format 2, version 2, 20 bytes";
            },
            TimeSpan.FromSeconds(10),
            "the Secret's second version applied");
        await AssertRoundTripAsync(proxy, "format 2, version 2, 20 bytes");
        await AssertMetricsOffAsync(proxy);
    }

    [Theory]
    [InlineData("--port", "0")]
    [InlineData("--port", "http")]
    [InlineData("--metrics-port", "70000")]
    [InlineData("--address", "localhost:8080")]
    [InlineData("--volume-root", "/nonexistent-volume-root")]
    public async Task Serve_BadOverride_ExitsWithTheConfigErrorCode(string flag, string value)
    {
        var configPath = Path.Combine(_directory, "pod.yaml");
        await File.WriteAllTextAsync(configPath, PodConfig(1));
        Assert.Equal(ProxyCommandLine.ExitConfigError, await ProxyCommandLine.RunAsync(["validate", "--config", configPath, flag, value]));
    }

    [Fact]
    public async Task Validate_ConfigFileWithPodPaths_IsValidOnlyUnderTheVolumeRoot()
    {
        var configPath = Path.Combine(_directory, "pod.yaml");
        await File.WriteAllTextAsync(configPath, PodConfig(1));

        Assert.Equal(ProxyCommandLine.ExitConfigError, await ProxyCommandLine.RunAsync(["validate", "--config", configPath]));
        Assert.Equal(ProxyCommandLine.ExitOk, await ProxyCommandLine.RunAsync(["validate", "--config", configPath, "--volume-root", VolumeRoot]));
    }
}
