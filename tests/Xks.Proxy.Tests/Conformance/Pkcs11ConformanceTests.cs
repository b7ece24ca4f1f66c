using System.Net;
using System.Text;
using Xks.Proxy.Tests.Support;
using Xks.Testing;

namespace Xks.Proxy.Conformance.Tests;

/// <summary>
/// The proxy as a child process on the PKCS#11 backend (SoftHSM2, a token of its own, the PIN from a file): the
/// spec-following Python client passes every case, the token then holds only sensitive, never-extractable AES-256
/// keys, and the process's whole output (Trace level) never shows the PIN. A wrong PIN or a missing library stops the
/// start with exit code 2 and a message naming the library and token.
/// </summary>
public sealed class Pkcs11ConformanceTests
{
    [Fact]
    public async Task ConformanceClient_Pkcs11Backend_PassesEveryCase_AndTheTokenHoldsOnlyNonExtractableAes256Keys()
    {
        var token = Pkcs11TestToken.Create("conformance");
        var directory = ProxyProcess.CreateDirectory();
        var pinFile = Path.Combine(directory, "pin");
        await File.WriteAllTextAsync(pinFile, token.Pin + "\n");
        var environment = new Dictionary<string, string>(Pkcs11TestToken.Environment)
        {
            ["Logging__LogLevel__Default"] = "Trace",
            ["Logging__LogLevel__Microsoft.AspNetCore"] = "Trace",
        };
        await using var proxy = await ProxyProcess.StartAsync(
            directory,
            port => ConformanceProxy.Yaml(port, Path.Combine(directory, "data"), backend: token.BackendYaml(pinFile: pinFile)),
            environment);

        var run = await ConformanceProxy.RunConformanceClientAsync(proxy);
        ConformanceClientTests.AssertPassedEveryCase(run, proxy);

        var marker = Encoding.UTF8.GetBytes("XKS-PKCS11-LEAK-CHECK-" + Guid.NewGuid().ToString("N"));
        using (var client = new XksClient(proxy.BaseAddress) { Prefix = ConformanceProxy.Prefix, AccessKeyId = ConformanceProxy.AccessKeyId, Secret = ConformanceProxy.Secret })
        {
            var encrypted = await client.EncryptAsync(ConformanceProxy.Key, marker, marker);
            Assert.Equal(HttpStatusCode.OK, encrypted.Status);
            Assert.Equal(marker, (await client.DecryptAsync(ConformanceProxy.Key, encrypted, marker)).Bytes("plaintext"));
        }

        await proxy.StopAsync();
        var output = proxy.Output;
        Assert.Contains($"PKCS#11 token {token.Label} ({token.Library}) connected: SoftHSM project SoftHSM v2 (firmware ", output, StringComparison.Ordinal);
        Assert.DoesNotContain(token.Pin, output, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes(token.Pin)), output, StringComparison.Ordinal);
        Assert.DoesNotContain(Encoding.UTF8.GetString(marker), output, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToBase64String(marker), output, StringComparison.Ordinal);

        var listing = SoftHsm.Shared.RunPkcs11Tool("--token-label", token.Label, "--login", "--pin", token.Pin, "--list-objects");
        var objects = listing.Split('\n').Where(l => l.Length > 0 && !char.IsWhiteSpace(l[0])).ToList();
        var labels = listing.Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith("label:", StringComparison.Ordinal)).Select(l => l["label:".Length..].Trim()).Order(StringComparer.Ordinal);
        Assert.Equal(
            [$"{ConformanceProxy.DecryptOnlyKey}/v1", $"{ConformanceProxy.EncryptOnlyKey}/v1", $"{ConformanceProxy.Key}/v1", $"{ConformanceProxy.NoUsageKey}/v1", $"{ConformanceProxy.DisabledKey}/v1", "xks-proxy-health"],
            labels);
        Assert.Equal(6, objects.Count);
        Assert.All(objects, o => Assert.StartsWith("Secret Key Object; AES length 32", o, StringComparison.Ordinal));
        Assert.Equal(6, listing.Split('\n').Count(l => l.Trim() == "Access:     sensitive, always sensitive, never extractable, local"));
    }

    [Fact]
    public async Task Start_WrongPin_ExitsWithCode2NamingTheTokenAndLibraryButNotThePin()
    {
        var token = Pkcs11TestToken.Create("wrong-pin");
        var directory = ProxyProcess.CreateDirectory();
        var wrongPin = "wrong-" + Guid.NewGuid().ToString("N")[..8];
        var configPath = Path.Combine(directory, "config.yaml");
        await File.WriteAllTextAsync(configPath, ConformanceProxy.Yaml(TestPorts.GetFree(), Path.Combine(directory, "data"),
            backend: (token with { Pin = wrongPin }).BackendYaml()));

        var result = await RunToExitAsync(directory, configPath);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"xks-proxy: cannot start: PKCS#11 library '{token.Library}': wrong PIN for token '{token.Label}' (CKR_PIN_INCORRECT)", result.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain(wrongPin, result.StandardOutput + result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_MissingLibrary_ExitsWithCode2NamingTheLibrary()
    {
        var directory = ProxyProcess.CreateDirectory();
        var configPath = Path.Combine(directory, "config.yaml");
        var missing = Path.Combine(directory, "no-such-libpkcs11.so");
        var backend = new Pkcs11TestToken(missing, "xks", "1234").BackendYaml();
        await File.WriteAllTextAsync(configPath, ConformanceProxy.Yaml(TestPorts.GetFree(), Path.Combine(directory, "data"), backend: backend));

        var result = await RunToExitAsync(directory, configPath);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"backend.pkcs11.library: PKCS#11 library '{missing}' does not exist", result.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("1234", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_UnknownToken_ExitsWithCode2ListingTheTokens()
    {
        var token = Pkcs11TestToken.Create("unknown-token");
        var directory = ProxyProcess.CreateDirectory();
        var configPath = Path.Combine(directory, "config.yaml");
        await File.WriteAllTextAsync(configPath, ConformanceProxy.Yaml(TestPorts.GetFree(), Path.Combine(directory, "data"),
            backend: (token with { Label = "no-such-token" }).BackendYaml()));

        var result = await RunToExitAsync(directory, configPath);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"cannot start: no PKCS#11 token can serve: PKCS#11 library '{token.Library}' has no token 'no-such-token' (tokens: ", result.StandardError, StringComparison.Ordinal);
        Assert.Contains(token.Label, result.StandardError, StringComparison.Ordinal);
    }

    private static async Task<ToolResult> RunToExitAsync(string directory, string configPath)
    {
        // ProxyProcess.RunToExitAsync passes no environment; SOFTHSM2_CONF of this process is the shared token directory.
        Assert.Equal(SoftHsm.Shared.ConfigPath, Environment.GetEnvironmentVariable("SOFTHSM2_CONF"));
        return await ProxyProcess.RunToExitAsync(directory, ["serve", "--config", configPath], TimeSpan.FromSeconds(60));
    }
}
