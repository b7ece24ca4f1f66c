using Xks.Proxy.Tests.Support;

using Xks.Contracts.ProxyConfig;

namespace Xks.Proxy.Options.Tests;

public sealed class ProxyConfigurationLoaderTests
{
    [Fact]
    public void LoadText_TheStandaloneSample_IsValid()
    {
        var path = Path.Combine(RepositoryRoot(), "config", "proxy", "standalone.yaml");
        var result = ProxyConfigurationLoader.LoadFile(path);
        Assert.True(result.Succeeded, string.Join("; ", result.Problems));
        Assert.Equal(["foo", "encrypt-only", "switched-off"], result.Configuration!.KeyIds);
    }

    [Fact]
    public void LoadText_DocumentWithManyMistakes_ListsEveryProblem()
    {
        const string yaml = """
            regions: [US_EAST]
            server: { port: 70000, metricsPort: 8080, maxConnections: 0 }
            limits: { maxPlaintextBytes: 100, maxAadBytes: 70000 }
            health: { fleetSize: 0, cacheSeconds: 120 }
            keyStores:
              - name: Bad_Name
                uriPathPrefix: "no-leading-slash"
                credentials:
                  - accessKeyId: short
                    secretAccessKey: tooShortSecretValue
                keys:
                  - id: "has space"
                    usage: [ENCRYPT, SIGN]
                  - id: dup
                  - id: dup
              - name: second
                uriPathPrefix: ""
                credentials: []
            backend: {}
            """;

        var result = ProxyConfigurationLoader.LoadText(yaml, "/tmp");

        Assert.False(result.Succeeded);
        string[] expectedFields =
        [
            "regions[0]", "server.port", "server.maxConnections", "health.fleetSize", "health.cacheSeconds", "limits.maxPlaintextBytes", "limits.maxAadBytes",
            "keyStores[0].name", "keyStores[0].uriPathPrefix", "keyStores[0].credentials[0].accessKeyId",
            "keyStores[0].credentials[0].secretAccessKey", "keyStores[0].keys[0].id", "keyStores[0].keys[0].usage",
            "keyStores[0].keys[2].id", "keyStores[1].credentials", "backend",
        ];
        foreach (var field in expectedFields)
        {
            Assert.Contains(result.Problems, p => p.StartsWith(field, StringComparison.Ordinal));
        }
    }

    [Fact]
    public void LoadText_InvalidSecret_NeverEchoesTheSecret()
    {
        const string secret = "this-secret-has-dashes-which-are-not-allowed-at-all";
        var yaml = new ProxyConfigBuilder().Credential("AKIDSECONDSECONDSECOND7", secret).Build(8080, "/tmp/d", "/tmp/a");
        var result = ProxyConfigurationLoader.LoadText(yaml.Replace("AKIDSECONDSECONDSECOND7", "AKIDSECONDSECONDSECOND2", StringComparison.Ordinal), "/tmp");
        Assert.False(result.Succeeded);
        Assert.DoesNotContain(result.Problems, p => p.Contains(secret, StringComparison.Ordinal));
    }

    [Fact]
    public void LoadText_UnknownField_NamesItsLine()
    {
        var result = ProxyConfigurationLoader.LoadText("regions: []\nsevrer:\n  port: 1\n", "/tmp");
        Assert.False(result.Succeeded);
        Assert.Contains("line 2", result.Problems[0], StringComparison.Ordinal);
    }

    [Fact]
    public void LoadText_SameAccessKeyIdInTwoKeyStores_IsRefused()
    {
        var yaml = new ProxyConfigBuilder().ExtraKeyStore($"""
              - name: other
                uriPathPrefix: /other
                credentials:
                  - accessKeyId: {TestCredentials.AccessKeyId}
                    secretAccessKey: "{TestCredentials.SecondSecret}"
            """).Build(8080, "/tmp/d", "/tmp/a");
        var result = ProxyConfigurationLoader.LoadText(yaml, "/tmp");
        Assert.Contains(result.Problems, p => p.Contains("must select exactly one secret", StringComparison.Ordinal));
    }

    [Fact]
    public void LoadText_SecretFromFile_IsReadRelativeToTheConfig()
    {
        var directory = Directory.CreateTempSubdirectory("xks-config-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(directory, "secret.txt"), TestCredentials.SecondSecret + "\n");
            var yaml = new ProxyConfigBuilder().Build(8080, "data", "audit.log")
                .Replace($"secretAccessKey: \"{TestCredentials.Secret}\"", "secretAccessKeyFile: secret.txt", StringComparison.Ordinal);
            var result = ProxyConfigurationLoader.LoadText(yaml, directory);
            Assert.True(result.Succeeded, string.Join("; ", result.Problems));
            Assert.Equal(Path.Combine(directory, "data"), result.Configuration!.Options.Backend.Software!.DataDir);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void LoadText_ZeroKeyStores_IsRefusedStandaloneButValidInClusterMode()
    {
        var yaml = new ProxyConfigBuilder { NoKeyStores = true }.Build(8080, "/tmp/d", "/tmp/a");

        var standalone = ProxyConfigurationLoader.LoadText(yaml, "/tmp");
        Assert.Equal("keyStores: configure at least one key store", Assert.Single(standalone.Problems));

        var cluster = ProxyConfigurationLoader.LoadText(yaml, "/tmp", mode: ConfigurationMode.Cluster, source: "Secret ns/name");
        Assert.True(cluster.Succeeded, string.Join("; ", cluster.Problems));
        Assert.Empty(cluster.Configuration!.KeyStores);
        Assert.Equal("Secret ns/name", cluster.Configuration.Source);
        Assert.Null(cluster.Configuration.SourcePath);
    }

    [Fact]
    public void LoadText_ClusterMode_StillValidatesEverythingElse()
    {
        var yaml = new ProxyConfigBuilder { NoKeyStores = true }.Build(8080, "/tmp/d", "/tmp/a").Replace("fleetSize: 2", "fleetSize: 0", StringComparison.Ordinal);
        var result = ProxyConfigurationLoader.LoadText(yaml, "/tmp", mode: ConfigurationMode.Cluster);
        Assert.StartsWith("health.fleetSize", Assert.Single(result.Problems), StringComparison.Ordinal);
    }

    [Fact]
    public void LoadText_MasterKeyFileThatDoesNotExist_IsAProblem_AndRelativeIsResolved()
    {
        var yaml = new ProxyConfigBuilder { MasterKeyFile = "mk/master.key", CreateMissingKeys = false }.Key("foo").Build(8080, "/tmp/d", "/tmp/a");
        var result = ProxyConfigurationLoader.LoadText(yaml, "/nonexistent-base");
        Assert.Equal("backend.software.masterKeyFile: file '/nonexistent-base/mk/master.key' does not exist (the proxy never creates it)", Assert.Single(result.Problems));
    }

    internal static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "XksOperator.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("repository root not found");
    }
}
