using Xks.Proxy.Tests.Support;
using Xks.Testing;

namespace Xks.Proxy.Conformance.Tests;

/// <summary>The spec-following Python client (tests/conformance/xks_conformance.py) against the proxy as a child process.</summary>
public sealed class ConformanceClientTests
{
    [Fact]
    public async Task ConformanceClient_OverHttp_PassesEveryCase()
    {
        var directory = ProxyProcess.CreateDirectory();
        await using var proxy = await ProxyProcess.StartAsync(directory, port => ConformanceProxy.Yaml(port, Path.Combine(directory, "data")));

        var run = await ConformanceProxy.RunConformanceClientAsync(proxy);

        AssertPassedEveryCase(run, proxy);
    }

    [Fact]
    public async Task ConformanceClient_OverHttpsWithCaFile_PassesEveryCase()
    {
        var directory = ProxyProcess.CreateDirectory();
        var server = SelfSignedCertificate.WriteServer(directory, "server");
        await using var proxy = await ProxyProcess.StartAsync(
            directory,
            port => ConformanceProxy.Yaml(port, Path.Combine(directory, "data"), ConformanceProxy.TlsBlock(server)),
            serverCertificate: server.Certificate);
        Assert.Equal("https", proxy.BaseAddress.Scheme);

        var run = await ConformanceProxy.RunConformanceClientAsync(proxy, server.CertificateFile);

        AssertPassedEveryCase(run, proxy);
    }

    internal static void AssertPassedEveryCase(ToolResult run, ProxyProcess proxy)
    {
        var failure = $"{run}\n--- proxy output (last 4000 chars) ---\n{Tail(proxy.Output, 4000)}";
        Assert.True(run.ExitCode == 0, failure);
        Assert.Contains("PASS ", run.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("FAIL ", run.StandardOutput, StringComparison.Ordinal);
        Assert.True(!run.StandardOutput.Contains("SKIP ", StringComparison.Ordinal), "every case must run (all special keys passed):\n" + failure);
        Assert.Matches(@"\d+ cases: \d+ passed, 0 failed, 0 skipped", run.StandardOutput);
    }

    private static string Tail(string text, int length) => text.Length <= length ? text : text[^length..];
}
