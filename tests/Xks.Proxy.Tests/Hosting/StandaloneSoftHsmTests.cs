using System.Net;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Xks.Proxy.Tests.Support;
using Xks.Testing;

namespace Xks.Proxy.Hosting.Tests;

/// <summary>
/// <c>make run BACKEND=pkcs11</c>: scripts/softhsm-token.sh and config/proxy/standalone-softhsm.yaml, copied into a
/// temporary folder laid out like the repository (so .data/softhsm lands there), then the proxy served from them.
/// </summary>
public sealed class StandaloneSoftHsmTests : IDisposable
{
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(15);
    private readonly string _root = Directory.CreateTempSubdirectory("xks-standalone-hsm-").FullName;

    public StandaloneSoftHsmTests()
    {
        var repository = FindRepository();
        foreach (var file in new[] { "scripts/softhsm-token.sh", "config/proxy/standalone-softhsm.yaml" })
        {
            var target = Path.Combine(_root, file);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(Path.Combine(repository, file), target);
        }
    }

    private string Config => Path.Combine(_root, "config", "proxy", "standalone-softhsm.yaml");

    private string SoftHsmDirectory => Path.Combine(_root, ".data", "softhsm");

    private Dictionary<string, string> Environment => new() { ["SOFTHSM2_CONF"] = Path.Combine(SoftHsmDirectory, "softhsm2.conf") };

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task Script_InitialisesTheTokenAndCreatesTheExampleKeys_ThenTheProxyServesThemFromTheDocumentedConfig()
    {
        var first = await RunScriptAsync();
        var second = await RunScriptAsync();
        var pin = (await File.ReadAllTextAsync(Path.Combine(SoftHsmDirectory, "user-pin"))).Trim();

        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Contains("initialised token 'xks-standalone'", first.StandardOutput, StringComparison.Ordinal);
        foreach (var key in new[] { "foo", "encrypt-only", "switched-off" })
        {
            Assert.Matches(new Regex($"^{key}: created version 1 ", RegexOptions.Multiline), first.StandardOutput);
            Assert.Matches(new Regex($@"^{key}\s+1\s+\S+\s+(enabled|disabled)\s+configured\s+yes\s+no", RegexOptions.Multiline), second.StandardOutput);
        }

        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Contains("token 'xks-standalone' exists", second.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("created", second.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(SoftHsmDirectory, "user-pin")));
        Assert.DoesNotContain(pin, first.StandardOutput + first.StandardError + second.StandardOutput + second.StandardError, StringComparison.Ordinal);

        var validate = await ProxyProcess.RunToExitAsync(_root, ["validate", "--config", Config], TimeSpan.FromSeconds(30));
        Assert.True(validate.ExitCode == 0, validate.ToString());

        var port = TestPorts.GetFree();
        // The proxy's own folder is removed when it is disposed: not the repository copy.
        var run = Directory.CreateDirectory(Path.Combine(_root, "run")).FullName;
        await using var proxy = await ProxyProcess.StartWithArgumentsAsync(run, ["--config", Config, "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--metrics-port", "0"], port, Environment);
        using var client = new XksClient(proxy.BaseAddress)
        {
            Prefix = "/example/uri/path/prefix",
            AccessKeyId = "BETWEEN2TENAND3TENCHARACTERS",
            Secret = "PleaseReplaceThisWithSomeSecretOfLength43To64",
        };

        var health = await client.HealthAsync();
        Assert.Equal(HttpStatusCode.OK, health.Status);
        Assert.Equal("ACTIVE", health.Json!["ekmFleetDetails"]![0]!["healthStatus"]!.GetValue<string>());
        var plaintext = RandomNumberGenerator.GetBytes(32);
        var encrypted = await client.EncryptAsync("foo", plaintext);
        Assert.Equal(HttpStatusCode.OK, encrypted.Status);
        Assert.Equal(plaintext, (await client.DecryptAsync("foo", encrypted)).Bytes("plaintext"));
        Assert.Equal("DISABLED", (await client.MetadataAsync("switched-off"))["keyStatus"]);

        // The admin command against the running proxy's token: disable switches the key off, enable back on.
        var disable = await ProxyProcess.RunToExitAsync(_root, ["keys", "disable", "foo", "--config", Config], TimeSpan.FromSeconds(30), Environment);
        Assert.True(disable.ExitCode == 0, disable.ToString());
        await Eventually.HoldsAsync(async () => (await client.MetadataAsync("foo"))["keyStatus"] == "DISABLED", Within, "foo reported DISABLED");
        Assert.Equal("InvalidStateException", (await client.DecryptAsync("foo", encrypted)).ErrorName);

        var enable = await ProxyProcess.RunToExitAsync(_root, ["keys", "enable", "foo", "--config", Config], TimeSpan.FromSeconds(30), Environment);
        Assert.True(enable.ExitCode == 0, enable.ToString());
        await Eventually.HoldsAsync(async () => (await client.DecryptAsync("foo", encrypted)).Status == HttpStatusCode.OK, Within, "foo decrypts again");
    }

    private async Task<ToolResult> RunScriptAsync()
    {
        var proxyDll = Path.Combine(AppContext.BaseDirectory, "xks-proxy.dll");
        var environment = new Dictionary<string, string>
        {
            ["XKS_PROXY"] = $"dotnet {proxyDll}",
            ["DOTNET_NOLOGO"] = "1",
        };
        return await ExternalTool.RunAsync("/bin/bash", [Path.Combine(_root, "scripts", "softhsm-token.sh"), Config], TimeSpan.FromSeconds(120), environment);
    }

    private static string FindRepository()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "XksOperator.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("the repository root (XksOperator.sln) is not above " + AppContext.BaseDirectory);
    }
}
