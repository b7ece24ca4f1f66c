using System.Text.Json;
using Xks.Proxy.Tests.Support;
using Xks.Testing;

namespace Xks.Proxy.Conformance.Tests;

/// <summary>
/// curl's own SigV4 signer (--aws-sigv4) against the proxy started from a copy of config/proxy/standalone.yaml, with
/// the README quick-start command: same credentials, prefix, region and body; only the port and data directory differ.
/// </summary>
public sealed class CurlTests
{
    [Fact]
    public async Task Curl_ReadmeQuickStartOverHttp_ReturnsTheHealthStatus()
    {
        var curl = ExternalTool.Require("curl", "curl");
        var directory = ProxyProcess.CreateDirectory();
        await using var proxy = await ProxyProcess.StartAsync(directory, port => ConformanceProxy.StandaloneYaml(port, Path.Combine(directory, "data")));

        var result = await ExternalTool.RunAsync(curl, ConformanceProxy.ReadmeCurlArguments(proxy.BaseAddress));

        AssertHealthStatus(result, proxy);
    }

    [Fact]
    public async Task Curl_ReadmeQuickStartOverHttpsWithCacert_ReturnsTheHealthStatus()
    {
        var curl = ExternalTool.Require("curl", "curl");
        var directory = ProxyProcess.CreateDirectory();
        var server = SelfSignedCertificate.WriteServer(directory, "server");
        await using var proxy = await ProxyProcess.StartAsync(
            directory,
            port => ConformanceProxy.StandaloneYaml(port, Path.Combine(directory, "data"), ConformanceProxy.TlsBlock(server)),
            serverCertificate: server.Certificate);

        var result = await ExternalTool.RunAsync(curl, ["--cacert", server.CertificateFile, .. ConformanceProxy.ReadmeCurlArguments(proxy.BaseAddress)]);

        AssertHealthStatus(result, proxy);
    }

    [Fact]
    public async Task Curl_WithAWrongSecret_Gets401AuthenticationFailed()
    {
        var curl = ExternalTool.Require("curl", "curl");
        var directory = ProxyProcess.CreateDirectory();
        await using var proxy = await ProxyProcess.StartAsync(directory, port => ConformanceProxy.StandaloneYaml(port, Path.Combine(directory, "data")));

        var result = await ExternalTool.RunAsync(curl,
            ["-w", "\n%{http_code}", .. ConformanceProxy.ReadmeCurlArguments(proxy.BaseAddress, secret: "ThisIsNotTheSecretOfThisKeyStoreButHasLength43")]);

        Assert.True(result.ExitCode == 0, result.ToString());
        var (body, status) = SplitStatus(result.StandardOutput);
        Assert.True(status == "401", result.ToString());
        using var json = JsonDocument.Parse(body);
        Assert.Equal("AuthenticationFailedException", json.RootElement.GetProperty("errorName").GetString());
    }

    private static void AssertHealthStatus(ToolResult result, ProxyProcess proxy)
    {
        var failure = result + "\n--- proxy output ---\n" + proxy.Output;
        Assert.True(result.ExitCode == 0, failure);
        JsonDocument json;
        try
        {
            json = JsonDocument.Parse(result.StandardOutput);
        }
        catch (JsonException)
        {
            Assert.Fail("curl did not print a JSON body:\n" + failure);
            throw;
        }

        using (json)
        {
            var root = json.RootElement;
            Assert.True(root.TryGetProperty("xksProxyFleetSize", out var fleetSize), failure);
            Assert.Equal(1, fleetSize.GetInt32());
            Assert.False(string.IsNullOrEmpty(root.GetProperty("xksProxyVendor").GetString()));
            Assert.False(string.IsNullOrEmpty(root.GetProperty("ekmVendor").GetString()));
            Assert.Equal("ACTIVE", root.GetProperty("ekmFleetDetails")[0].GetProperty("healthStatus").GetString());
        }
    }

    private static (string Body, string Status) SplitStatus(string output)
    {
        var at = output.LastIndexOf('\n');
        return (output[..at], output[(at + 1)..].Trim());
    }
}
