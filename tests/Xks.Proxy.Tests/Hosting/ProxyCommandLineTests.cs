using Xks.Proxy.Tests.Support;

namespace Xks.Proxy.Hosting.Tests;

public sealed class ProxyCommandLineTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("xks-cli-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string WriteConfig(string yaml)
    {
        var path = Path.Combine(_directory, "config.yaml");
        File.WriteAllText(path, yaml);
        return path;
    }

    [Fact]
    public async Task Validate_ValidConfig_ExitsZero()
    {
        var path = WriteConfig(new ProxyConfigBuilder().Key("foo").Build(8080, "data", "audit.log"));
        Assert.Equal(ProxyCommandLine.ExitOk, await ProxyCommandLine.RunAsync(["validate", "--config", path]));
    }

    [Fact]
    public async Task Serve_InvalidConfig_ExitsWithTheConfigErrorCodeBeforeListening()
    {
        var path = WriteConfig("keyStores: []\nbackend: {}\n");
        Assert.Equal(ProxyCommandLine.ExitConfigError, await ProxyCommandLine.RunAsync(["--config", path]));
    }

    [Fact]
    public async Task Serve_NoConfig_ExitsWithTheConfigErrorCode() =>
        Assert.Equal(ProxyCommandLine.ExitConfigError, await ProxyCommandLine.RunAsync(["serve", "--config", Path.Combine(_directory, "absent.yaml")]));

    [Fact]
    public async Task UnknownCommand_ExitsWithTheConfigErrorCode() =>
        Assert.Equal(ProxyCommandLine.ExitConfigError, await ProxyCommandLine.RunAsync(["frobnicate"]));

    [Fact]
    public async Task Serve_ConfigAndConfigSecretTogether_ExitsWithTheConfigErrorCode() =>
        Assert.Equal(ProxyCommandLine.ExitConfigError, await ProxyCommandLine.RunAsync(["--config", "a.yaml", "--config-secret", "ns/name"]));

    [Fact]
    public async Task Keys_InClusterMode_ExitsWithTheConfigErrorCode() =>
        Assert.Equal(ProxyCommandLine.ExitConfigError, await ProxyCommandLine.RunAsync(["keys", "list", "--config-secret", "ns/name"]));

    [Theory]
    [InlineData("-1")]
    [InlineData("soon")]
    public async Task Serve_BadStartupTimeout_ExitsWithTheConfigErrorCode(string value) =>
        Assert.Equal(ProxyCommandLine.ExitConfigError, await ProxyCommandLine.RunAsync(["--config-secret", "ns/name", "--startup-timeout", value]));

    [Theory]
    [InlineData("-1")]
    [InlineData("61")]
    [InlineData("later")]
    public async Task Serve_BadDrainSeconds_ExitsWithTheConfigErrorCode(string value) =>
        Assert.Equal(ProxyCommandLine.ExitConfigError, await ProxyCommandLine.RunAsync(["--config", "a.yaml", "--drain-seconds", value]));

    [Fact]
    public async Task Serve_ConfigSecretWithAMissingKubeconfig_ExitsWithTheConfigErrorCode() =>
        Assert.Equal(ProxyCommandLine.ExitConfigError, await ProxyCommandLine.RunAsync(["--config-secret", "ns/name", "--kubeconfig", Path.Combine(_directory, "absent")]));

    [Fact]
    public async Task Serve_MalformedConfigSecret_ExitsWithTheConfigErrorCode()
    {
        var kubeconfig = Path.Combine(_directory, "kubeconfig");
        File.WriteAllText(kubeconfig, "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: \"https://127.0.0.1:1\"}\nusers:\n- name: u\n  user: {token: t}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n");
        Assert.Equal(ProxyCommandLine.ExitConfigError, await ProxyCommandLine.RunAsync(["--config-secret", "a/b/c", "--kubeconfig", kubeconfig]));
    }

    [Fact]
    public async Task KeysRotate_ExistingKey_AddsVersionTwo()
    {
        var path = WriteConfig(new ProxyConfigBuilder().Key("foo").Build(8080, "data", "audit.log"));
        await using (var server = await ProxyServer.StartAsync(b => b.Key("foo"), directory: Path.Combine(_directory, "run")))
        {
            // the running proxy created the key; rotate it through the command, as an operator would
            var runConfig = server.ConfigPath;
            Assert.Equal(ProxyCommandLine.ExitOk, await ProxyCommandLine.RunAsync(["keys", "rotate", "foo", "--config", runConfig]));
            var file = await File.ReadAllTextAsync(Path.Combine(server.DataDir, "keys", "foo.json"));
            Assert.Contains("\"version\": 2", file, StringComparison.Ordinal);
        }

        Assert.Equal(KeyAdminCommand.ExitRefused, await ProxyCommandLine.RunAsync(["keys", "rotate", "never-created", "--config", path]));
    }

    [Fact]
    public async Task KeysList_InlineKeys_AreListedWithTheirVersions_AndCannotBeRotatedByTheCommand()
    {
        var masterKey = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);
        var masterKeyFile = Path.Combine(_directory, "master.key");
        await File.WriteAllBytesAsync(masterKeyFile, masterKey);
        var path = WriteConfig(new ProxyConfigBuilder { MasterKeyFile = masterKeyFile, CreateMissingKeys = false }
            .Key("inline", versions: [(1, WrappedKeyVersions.Wrap(masterKey, "inline", 1)), (2, WrappedKeyVersions.Wrap(masterKey, "inline", 2))])
            .Key("broken", versions: [(1, WrappedKeyVersions.Tamper(WrappedKeyVersions.Wrap(masterKey, "broken", 1)))])
            .Build(8080, Path.Combine(_directory, "data"), "audit.log"));

        var list = await ProxyProcess.RunToExitAsync(_directory, ["keys", "list", "--config", path], TimeSpan.FromSeconds(30));
        var rotate = await ProxyProcess.RunToExitAsync(_directory, ["keys", "rotate", "inline", "--config", path], TimeSpan.FromSeconds(30));

        var rows = list.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToDictionary(l => l.Split(' ')[0]);
        Assert.Equal(ProxyCommandLine.ExitOk, list.ExitCode);
        Assert.Equal(["inline", "1,2", "ENCRYPT,DECRYPT", "enabled", "inline"], rows["inline"].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("unusable  inline  key 'broken' (versions in the configuration): version 1 fails its integrity check", rows["broken"], StringComparison.Ordinal);
        Assert.Equal(KeyAdminCommand.ExitRefused, rotate.ExitCode);
        Assert.Contains("carries its versions in the configuration", rotate.StandardError, StringComparison.Ordinal);
    }
}
