using Xks.Proxy.Conformance.Tests;
using Xks.Proxy.Tests.Support;
using Xks.Testing;

namespace Xks.Proxy.Hosting.Tests;

/// <summary>
/// SIGTERM on a real proxy process (what the kubelet sends when a pod is deleted or a node drained): with
/// --drain-seconds the proxy reports not ready but keeps answering XKS requests, then stops by itself.
/// </summary>
public sealed class ShutdownDrainTests
{
    [Fact]
    public async Task Sigterm_WithDrainSeconds_ReadyzAnswers503WhileSignedRequestsStillSucceedAndCloseTheirConnection()
    {
        var curl = ExternalTool.Require("curl", "curl");
        var directory = ProxyProcess.CreateDirectory();
        await using var proxy = await ProxyProcess.StartAsync(
            directory,
            port => ConformanceProxy.StandaloneYaml(port, Path.Combine(directory, "data")),
            extraArguments: ["--drain-seconds", "4"]);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var readyz = new Uri(proxy.BaseAddress, "/readyz");
        Assert.Equal(System.Net.HttpStatusCode.OK, (await http.GetAsync(readyz)).StatusCode);

        await proxy.SendTerminateAsync();

        HttpResponseMessage? draining = null;
        await Eventually.HoldsAsync(async () => (draining = await http.GetAsync(readyz)).StatusCode == System.Net.HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(3), "/readyz answers 503 after SIGTERM");
        Assert.Contains("shutting down", await draining!.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var health = await ExternalTool.RunAsync(curl, ["-D", "-", "-w", "\n%{http_code}", .. ConformanceProxy.ReadmeCurlArguments(proxy.BaseAddress)]);
        Assert.True(health.StandardOutput.EndsWith("\n200", StringComparison.Ordinal), health + "\n" + proxy.Output);
        Assert.Contains("Connection: close", health.StandardOutput, StringComparison.OrdinalIgnoreCase);
        Assert.False(proxy.HasExited, "the proxy stopped before its drain time\n" + proxy.Output);
        Assert.True(await proxy.WaitForExitAsync(TimeSpan.FromSeconds(30)), "the proxy did not stop after draining\n" + proxy.Output);
        Assert.Contains("Stopping: /readyz answers 503", proxy.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sigterm_WithoutDrainSeconds_StopsWithoutDraining()
    {
        var directory = ProxyProcess.CreateDirectory();
        await using var proxy = await ProxyProcess.StartAsync(directory, port => ConformanceProxy.StandaloneYaml(port, Path.Combine(directory, "data")));

        await proxy.StopAsync();

        Assert.True(proxy.HasExited);
        Assert.DoesNotContain("Stopping: /readyz answers 503", proxy.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sigterm_KeepAliveConnectionOpenBefore_ServesItsNextRequestThenCloses()
    {
        var directory = ProxyProcess.CreateDirectory();
        await using var proxy = await ProxyProcess.StartAsync(
            directory,
            port => ConformanceProxy.StandaloneYaml(port, Path.Combine(directory, "data")),
            extraArguments: ["--drain-seconds", "8"]);
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(proxy.BaseAddress.Host, proxy.BaseAddress.Port);
        var stream = tcp.GetStream();
        var buffer = new byte[4096];
        await stream.WriteAsync("GET /ping HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());
        Assert.Contains("pong", System.Text.Encoding.ASCII.GetString(buffer, 0, await stream.ReadAsync(buffer)), StringComparison.Ordinal);

        await proxy.SendTerminateAsync();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        await Eventually.HoldsAsync(async () => (await http.GetAsync(new Uri(proxy.BaseAddress, "/readyz"))).StatusCode == System.Net.HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(3), "/readyz answers 503 after SIGTERM");

        // The idle connection was left open (closing it would race a client reusing it): its next request is served
        // and the response tells the client to close it.
        await stream.WriteAsync("GET /ping HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());
        var response = System.Text.Encoding.ASCII.GetString(buffer, 0, await stream.ReadAsync(buffer));
        Assert.Contains("pong", response, StringComparison.Ordinal);
        Assert.Contains("Connection: close", response, StringComparison.OrdinalIgnoreCase);
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        Assert.Equal(0, await stream.ReadAsync(buffer, cancel.Token));
    }
}
