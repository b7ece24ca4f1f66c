using System.Net;
using Microsoft.Extensions.Logging;
using Xks.Proxy.Hosting;
using Xks.Proxy.Tests.Support;
using Xks.Testing;

namespace Xks.Proxy.Cluster.Tests;

/// <summary>
/// Start-up in cluster mode against the real control plane: the proxy waits (bounded) for a readable, valid
/// configuration, then serves; otherwise the process exits with code 2 and a message that says what is wrong.
/// </summary>
public sealed class ClusterStartupClusterTests
{
    [Fact]
    public async Task Serve_SecretMissing_ExitsWithCode2AndAClearMessageAfterTheStartupTimeout()
    {
        await using var server = await ClusterProxyServer.PrepareAsync(b => b.Key("foo"));
        var result = await ProxyProcess.RunToExitAsync(
            server.Directory,
            ["serve", "--config-secret", $"{server.Namespace}/{ClusterProxyServer.SecretName}", "--kubeconfig", ClusterProxyServer.Cluster.KubeconfigPath, "--startup-timeout", "2"],
            TimeSpan.FromSeconds(30));

        Assert.Equal(ProxyCommandLine.ExitConfigError, result.ExitCode);
        Assert.Contains($"cannot start: no valid configuration from Secret {server.Namespace}/{ClusterProxyServer.SecretName} (key proxy.yaml) within 2 s", result.StandardError, StringComparison.Ordinal);
        Assert.Contains("does not exist", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_InvalidSecretAtStart_ExitsListingEveryProblem_WithoutTheSecrets()
    {
        await using var server = await ClusterProxyServer.PrepareAsync(b => b.Key("foo"));
        await server.WriteSecretAsync(server.Render()
            .Replace("fleetSize: 2", "fleetSize: 0", StringComparison.Ordinal)
            .Replace("id: foo", "id: \"bad id\"", StringComparison.Ordinal));

        var result = await ProxyProcess.RunToExitAsync(
            server.Directory,
            ["--config-secret", $"{server.Namespace}/{ClusterProxyServer.SecretName}", "--kubeconfig", ClusterProxyServer.Cluster.KubeconfigPath, "--startup-timeout", "1"],
            TimeSpan.FromSeconds(30));

        Assert.Equal(ProxyCommandLine.ExitConfigError, result.ExitCode);
        Assert.Contains("health.fleetSize", result.StandardError, StringComparison.Ordinal);
        Assert.Contains("keyStores[0].keys[0].id", result.StandardError, StringComparison.Ordinal);
        ConfigSecretWatcherClusterTests.AssertNoSecretsIn(result.StandardOutput + result.StandardError);
    }

    [Fact]
    public async Task Serve_SecretCreatedWhileWaiting_StartsServingIt()
    {
        await using var server = await ClusterProxyServer.PrepareAsync(b => b.Key("foo"), keyMaterial: ["foo"]);
        var logs = new CapturingLoggerProvider();
        var starting = ClusterProxyApplication.BuildAsync(server.Options(), l => l.AddProvider(logs).SetMinimumLevel(LogLevel.Debug));

        await Eventually.HoldsAsync(() => Task.FromResult(logs.AllText.Contains("does not exist", StringComparison.Ordinal)), TimeSpan.FromSeconds(10), "waiting logged");
        Assert.False(starting.IsCompleted);
        await server.WriteSecretAsync(server.Render());

        await using var app = await starting.WaitAsync(TimeSpan.FromSeconds(15));
        await app.StartAsync();
        using var client = new XksClient(server.BaseAddress);
        Assert.Equal(HttpStatusCode.OK, (await client.EncryptAsync("foo", [1, 2, 3])).Status);
        Assert.Contains(logs.Lines, l => l.Contains("[ClusterConfigLoaded]", StringComparison.Ordinal));
        await app.StopAsync();
    }

    [Fact]
    public async Task Validate_ConfigSecret_ExitsZeroWhenValid_AndTwoWhenNot()
    {
        await using var server = await ClusterProxyServer.PrepareAsync(b => b.NoKeyStores = true);
        string[] validate = ["validate", "--config-secret", $"{server.Namespace}/{ClusterProxyServer.SecretName}", "--kubeconfig", ClusterProxyServer.Cluster.KubeconfigPath];
        Assert.Equal(ProxyCommandLine.ExitConfigError, await ProxyCommandLine.RunAsync(validate));

        await server.WriteSecretAsync(server.Render());
        Assert.Equal(ProxyCommandLine.ExitOk, await ProxyCommandLine.RunAsync(validate));

        await server.WriteSecretAsync(server.Render().Replace("cacheSeconds: 5", "cacheSeconds: 500", StringComparison.Ordinal));
        Assert.Equal(ProxyCommandLine.ExitConfigError, await ProxyCommandLine.RunAsync(validate));
    }

    [Fact]
    public async Task Serve_FromEnvironmentVariables_LikeTheDeploymentSetsThem()
    {
        await using var server = await ClusterProxyServer.PrepareAsync(b => b.NoKeyStores = true);
        await server.WriteSecretAsync(server.Render());
        var directory = ProxyProcess.CreateDirectory();
        await using var proxy = await ProxyProcess.StartWithArgumentsAsync(
            directory,
            ["serve"],
            server.Port,
            new Dictionary<string, string>
            {
                ["XKS_PROXY_CONFIG_SECRET"] = $"{server.Namespace}/{ClusterProxyServer.SecretName}",
                ["KUBECONFIG"] = ClusterProxyServer.Cluster.KubeconfigPath,
            });
        using var http = new HttpClient { BaseAddress = proxy.BaseAddress };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri("/readyz", UriKind.Relative))).StatusCode);
        Assert.Contains($"Configuration loaded from Secret {server.Namespace}/{ClusterProxyServer.SecretName}", proxy.Output, StringComparison.Ordinal);
    }
}
