using System.Security.Cryptography;
using Xks.Proxy.Tests.Support;

using Xks.Contracts.ProxyConfig;

namespace Xks.Proxy.Options.Tests;

/// <summary>The serve flags --volume-root, --address, --port and --metrics-port as the loader applies them.</summary>
public sealed class ConfigurationOverridesTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("xks-overrides-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <summary>A document with the paths a pod gets (absolute, under /var/run/xks), like the operator renders it.</summary>
    private static string PodConfig() => """
        server:
          address: 0.0.0.0
          port: 8443
          metricsPort: 9090
          tls:
            certificateFile: /var/run/xks/tls/tls.crt
            privateKeyFile: /var/run/xks/tls/tls.key
            clientCertificate:
              caFile: /var/run/xks/tls/ca.crt
              allowedSubjects: [cks.kms.us-east-1.amazonaws.com]
        audit:
          file: /var/log/xks/audit.log
        keyStores:
          - name: s
            uriPathPrefix: /s
            credentials:
              - accessKeyId: AAAAAAAAAAAAAAAAAAAAAAAAAA
                secretAccessKeyFile: /var/run/xks/credentials/secret
        backend:
          software:
            masterKeyFile: /var/run/xks/master-key/master.key
            dataDir: /var/lib/xks
            createMissingKeys: false
        """;

    private void WritePodFiles()
    {
        foreach (var file in new[] { "tls/tls.crt", "tls/tls.key", "tls/ca.crt", "master-key/master.key", "credentials/secret" })
        {
            var path = Path.Combine(_root, "var", "run", "xks", file);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, file == "credentials/secret" ? System.Text.Encoding.ASCII.GetBytes(TestCredentials.Secret) : RandomNumberGenerator.GetBytes(32));
        }
    }

    [Fact]
    public void LoadText_VolumeRoot_ResolvesEveryAbsolutePathUnderIt()
    {
        WritePodFiles();

        var result = ProxyConfigurationLoader.LoadText(PodConfig(), "/nonexistent", mode: ConfigurationMode.Cluster, overrides: new ConfigurationOverrides { VolumeRoot = _root });

        Assert.True(result.Succeeded, string.Join("; ", result.Problems));
        var options = result.Configuration!.Options;
        Assert.Equal(_root + "/var/run/xks/tls/tls.crt", options.Server.Tls!.CertificateFile);
        Assert.Equal(_root + "/var/run/xks/tls/tls.key", options.Server.Tls.PrivateKeyFile);
        Assert.Equal(_root + "/var/run/xks/tls/ca.crt", options.Server.Tls.ClientCertificate!.CaFile);
        Assert.Equal(_root + "/var/log/xks/audit.log", options.Audit.File);
        Assert.Equal(_root + "/var/run/xks/credentials/secret", options.KeyStores[0].Credentials[0].SecretAccessKeyFile);
        Assert.Equal(_root + "/var/run/xks/master-key/master.key", options.Backend.Software!.MasterKeyFile);
        Assert.Equal(_root + "/var/lib/xks", options.Backend.Software.DataDir);
        Assert.NotNull(result.Configuration.Overrides);
    }

    [Fact]
    public void LoadText_WithoutVolumeRoot_ThePodPathsAreProblems()
    {
        // Guards the test above: without the root, the same document names files that do not exist here.
        WritePodFiles();

        var result = ProxyConfigurationLoader.LoadText(PodConfig(), "/nonexistent", mode: ConfigurationMode.Cluster);

        Assert.Contains("backend.software.masterKeyFile: file '/var/run/xks/master-key/master.key' does not exist (the proxy never creates it)", result.Problems);
    }

    [Fact]
    public void LoadText_VolumeRoot_LeavesRelativePathsToTheBaseDirectory()
    {
        var yaml = new ProxyConfigBuilder().Key("foo").Build(8080, "data", "audit.log");

        var result = ProxyConfigurationLoader.LoadText(yaml, "/base", overrides: new ConfigurationOverrides { VolumeRoot = _root });

        Assert.Equal("/base/data", result.Configuration!.Options.Backend.Software!.DataDir);
        Assert.Equal("/base/audit.log", result.Configuration.Options.Audit.File);
    }

    [Fact]
    public void LoadText_AddressAndPorts_ReplaceTheDocumentsBeforeValidation()
    {
        var yaml = new ProxyConfigBuilder { MetricsPort = 9090 }.Key("foo").Build(9091, "/tmp/d", "/tmp/a");
        var overrides = new ConfigurationOverrides { Address = "127.0.0.2", Port = 9090, MetricsPort = 0 };

        var result = ProxyConfigurationLoader.LoadText(yaml, "/tmp", overrides: overrides);

        // Port 9090 would clash with metricsPort 9090 of the document: valid because metrics are off.
        Assert.True(result.Succeeded, string.Join("; ", result.Problems));
        var server = result.Configuration!.Options.Server;
        Assert.Equal(("127.0.0.2", 9090, 0), (server.Address, server.Port, server.MetricsPort));
        Assert.Same(overrides, result.Configuration.Overrides);
    }

    [Fact]
    public void LoadFile_Overrides_AreKeptForTheNextReload()
    {
        var path = Path.Combine(_root, "config.yaml");
        File.WriteAllText(path, new ProxyConfigBuilder { MetricsPort = 9090 }.Key("foo").Build(8080, "/tmp/d", "/tmp/a"));
        var overrides = new ConfigurationOverrides { MetricsPort = 0 };

        var first = ProxyConfigurationLoader.LoadFile(path, overrides).Configuration!;
        var reloaded = ProxyConfigurationLoader.LoadFile(first.SourcePath!, first.Overrides).Configuration!;

        Assert.Equal(0, reloaded.Options.Server.MetricsPort);
    }
}
