using System.Net;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Xks.Proxy.Options;
using Xks.Proxy.Tests.Support;
using Xks.Testing;

namespace Xks.Proxy.Hosting.Tests;

/// <summary><c>xks-proxy keys …</c> on the software backend: key files under the data directory.</summary>
public sealed class KeyAdminCommandTests : IDisposable
{
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(10);
    private readonly string _directory = Directory.CreateTempSubdirectory("xks-keys-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string KeyFile(string id) => Path.Combine(_directory, "data", "keys", id + ".json");

    private ProxyConfiguration Config(Action<ProxyConfigBuilder> configure)
    {
        var builder = new ProxyConfigBuilder();
        configure(builder);
        var path = Path.Combine(_directory, "config.yaml");
        File.WriteAllText(path, builder.Build(8080, Path.Combine(_directory, "data"), Path.Combine(_directory, "audit.log")));
        var loaded = ProxyConfigurationLoader.LoadFile(path);
        Assert.True(loaded.Succeeded, string.Join("; ", loaded.Problems));
        return loaded.Configuration!;
    }

    private static (int ExitCode, string Output, string Error) Run(ProxyConfiguration configuration, params string[] args)
    {
        var request = KeyAdminCommand.Parse(args, out var problem);
        Assert.True(request is not null, problem);
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exitCode = KeyAdminCommand.Run(configuration, request, output, error);
        return (exitCode, output.ToString(), error.ToString());
    }

    [Fact]
    public void Create_NewKey_WritesVersionOne_AndASecondCreateIsRefusedWithoutTouchingTheFile()
    {
        var config = Config(b => b.Key("foo"));

        var created = Run(config, "create", "foo");
        var before = File.ReadAllBytes(KeyFile("foo"));
        var again = Run(config, "create", "foo");

        Assert.Equal(ProxyCommandLine.ExitOk, created.ExitCode);
        Assert.Contains("foo: created with version 1", created.Output, StringComparison.Ordinal);
        var file = JsonNode.Parse(before)!;
        Assert.Equal(1, file["versions"]!.AsArray().Single()!["version"]!.GetValue<int>());
        Assert.True(file["enabled"]!.GetValue<bool>());
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(KeyFile("foo")));
        Assert.Equal(KeyAdminCommand.ExitRefused, again.ExitCode);
        Assert.Contains("already exists", again.Error, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(KeyFile("foo")));
    }

    [Fact]
    public void Create_UnconfiguredKey_SaysHowToServeIt()
    {
        var result = Run(Config(b => b.Key("foo")), "create", "spare");

        Assert.Equal(ProxyCommandLine.ExitOk, result.ExitCode);
        Assert.Contains("not in the configuration yet", result.Output, StringComparison.Ordinal);
        Assert.True(File.Exists(KeyFile("spare")));
    }

    [Fact]
    public void DisableEnable_SetTheKeyFilesSwitch_AndRepeatingOneIsANoOp()
    {
        var config = Config(b => b.Key("foo"));
        Run(config, "create", "foo");

        var disabled = Run(config, "disable", "foo");
        var enabledInFile = JsonNode.Parse(File.ReadAllText(KeyFile("foo")))!["enabled"]!.GetValue<bool>();
        var disabledAgain = Run(config, "disable", "foo");
        var enabled = Run(config, "enable", "foo");

        Assert.Equal(ProxyCommandLine.ExitOk, disabled.ExitCode);
        Assert.False(enabledInFile);
        Assert.Contains("already disabled", disabledAgain.Output, StringComparison.Ordinal);
        Assert.Equal(ProxyCommandLine.ExitOk, enabled.ExitCode);
        Assert.True(JsonNode.Parse(File.ReadAllText(KeyFile("foo")))!["enabled"]!.GetValue<bool>());
    }

    [Theory]
    [InlineData("rotate")]
    [InlineData("disable")]
    [InlineData("enable")]
    public void Change_KeyWithoutAFile_IsRefused(string verb)
    {
        var result = Run(Config(b => b.Key("foo")), verb, "foo");

        Assert.Equal(KeyAdminCommand.ExitRefused, result.ExitCode);
        Assert.Contains("has no key file", result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("create")]
    [InlineData("rotate")]
    [InlineData("disable")]
    [InlineData("enable")]
    public void Change_KeyWithVersionsInTheConfiguration_IsRefusedAndWritesNothing(string verb)
    {
        var masterKey = RandomNumberGenerator.GetBytes(32);
        var masterKeyFile = Path.Combine(_directory, "master.key");
        File.WriteAllBytes(masterKeyFile, masterKey);
        var config = Config(b =>
        {
            b.MasterKeyFile = masterKeyFile;
            b.CreateMissingKeys = false;
            b.Key("inline", versions: [(1, WrappedKeyVersions.Wrap(masterKey, "inline", 1))]);
        });

        var result = Run(config, verb, "inline");

        Assert.Equal(KeyAdminCommand.ExitRefused, result.ExitCode);
        Assert.Contains("carries its versions in the configuration", result.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(KeyFile("inline")));
    }

    [Fact]
    public void List_ShowsVersionsUsageStateAndWhereEachKeyComesFrom()
    {
        var config = Config(b => b.Key("foo").Key("enc", usage: "[ENCRYPT]").Key("off", enabled: false).Key("later"));
        Run(config, "create", "foo");
        Run(config, "rotate", "foo");
        Run(config, "disable", "foo");
        Run(config, "create", "enc");
        Run(config, "create", "off");
        Run(config, "create", "spare");
        File.WriteAllText(KeyFile("broken"), "{ not json");

        var result = Run(config, "list");
        var rows = result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .ToDictionary(cells => cells[0]);

        Assert.Equal(ProxyCommandLine.ExitOk, result.ExitCode);
        Assert.Equal(["ID", "VERSIONS", "USAGE", "STATE", "CONFIG", "NOTE"], rows["ID"]);
        Assert.Equal(["foo", "1,2", "ENCRYPT,DECRYPT", "disabled", "configured"], rows["foo"][..5]);
        Assert.Equal(["enc", "1", "ENCRYPT", "enabled", "configured"], rows["enc"]);
        Assert.Equal(["off", "1", "ENCRYPT,DECRYPT", "disabled", "configured"], rows["off"][..5]);
        Assert.Contains("enabled: false in the configuration", string.Join(' ', rows["off"]), StringComparison.Ordinal);
        Assert.Equal(["spare", "1", "-", "enabled", "not-configured"], rows["spare"]);
        Assert.Equal(["later", "-", "ENCRYPT,DECRYPT", "missing", "configured"], rows["later"][..5]);
        Assert.Equal(["broken", "-", "-", "unusable", "not-configured"], rows["broken"][..5]);
        Assert.Contains("not valid JSON", string.Join(' ', rows["broken"]), StringComparison.Ordinal);
        Assert.DoesNotContain("wrappedMaterial", result.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new string[0], "needs a subcommand")]
    [InlineData(new[] { "create" }, "needs a key id")]
    [InlineData(new[] { "create", "bad id" }, "is not a key id")]
    [InlineData(new[] { "delete", "foo" }, "unknown keys command")]
    [InlineData(new[] { "list", "extra" }, "unknown keys command")]
    public void Parse_BadUsage_SaysWhat(string[] args, string problem)
    {
        Assert.Null(KeyAdminCommand.Parse(args, out var message));
        Assert.Contains(problem, message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CommandLine_BadUsage_ExitsTwoBeforeReadingAnyConfiguration() =>
        Assert.Equal(ProxyCommandLine.ExitConfigError, await ProxyCommandLine.RunAsync(["keys", "create", "--config", Path.Combine(_directory, "absent.yaml")]));

    [Fact]
    public async Task DisableThroughTheCommand_RunningProxy_ReportsDisabledAndRefusesCrypto_EnableServesOldCiphertextsAgain()
    {
        await using var server = await ProxyServer.StartAsync(b => b.Key("foo"), directory: Path.Combine(_directory, "run"));
        using var client = new XksClient(server.BaseAddress);
        var encrypted = await client.EncryptAsync("foo", RandomNumberGenerator.GetBytes(32));
        Assert.Equal(HttpStatusCode.OK, encrypted.Status);

        var disable = await ProxyCommandLine.RunAsync(["keys", "disable", "foo", "--config", server.ConfigPath]);
        await Eventually.HoldsAsync(async () => (await client.MetadataAsync("foo"))["keyStatus"] == "DISABLED", Within, "metadata reports DISABLED");
        var decrypt = await client.DecryptAsync("foo", encrypted);
        var encrypt = await client.EncryptAsync("foo", RandomNumberGenerator.GetBytes(32));

        Assert.Equal(ProxyCommandLine.ExitOk, disable);
        Assert.Equal("InvalidStateException", decrypt.ErrorName);
        Assert.Equal("InvalidStateException", encrypt.ErrorName);

        Assert.Equal(ProxyCommandLine.ExitOk, await ProxyCommandLine.RunAsync(["keys", "enable", "foo", "--config", server.ConfigPath]));
        await Eventually.HoldsAsync(async () => (await client.DecryptAsync("foo", encrypted)).Status == HttpStatusCode.OK, Within, "decrypt works again");
        Assert.Equal("ENABLED", (await client.MetadataAsync("foo"))["keyStatus"]);
    }

    [Fact]
    public async Task List_AsAProcess_PrintsTheTableAndNoKeyMaterial()
    {
        var config = Config(b => b.Key("foo"));
        Run(config, "create", "foo");

        var list = await ProxyProcess.RunToExitAsync(_directory, ["keys", "list", "--config", config.SourcePath!], TimeSpan.FromSeconds(30));

        Assert.Equal(ProxyCommandLine.ExitOk, list.ExitCode);
        Assert.Contains("ENCRYPT,DECRYPT", list.StandardOutput, StringComparison.Ordinal);
        var wrapped = JsonNode.Parse(File.ReadAllText(KeyFile("foo")))!["versions"]![0]!["wrappedMaterial"]!.GetValue<string>();
        Assert.DoesNotContain(wrapped, list.StandardOutput + list.StandardError, StringComparison.Ordinal);
    }
}
