using System.Net;
using k8s;
using Microsoft.Extensions.Logging;
using Xks.Proxy.Tests.Support;
using Xks.Testing;

namespace Xks.Proxy.Cluster.Tests;

/// <summary>
/// The watch protocol against a scripted loopback API server, for what the real one will not do on demand:
/// 410 Gone in the middle of a watch, bookmarks, a watch the server ends.
/// </summary>
public sealed class ConfigSecretWatcherTests : IAsyncLifetime
{
    private const string Namespace = "team-a";
    private const string Name = "vault-a-proxy-config";
    private ClusterProxyServer _layout = null!;
    private FakeSecretApiServer _api = null!;
    private readonly CapturingLoggerProvider _logs = new();

    public async Task InitializeAsync()
    {
        _api = await FakeSecretApiServer.StartAsync();
        _layout = ClusterProxyServer.PrepareLocal(b => b.Key("foo"), keyMaterial: ["foo"]);
    }

    public async Task DisposeAsync()
    {
        await _api.DisposeAsync();
        await _layout.DisposeAsync();
    }

    [Fact]
    public async Task Watch_410Gone_ListsAgain_AppliesWhatChangedMeanwhile_AndWatchesFromTheNewVersion()
    {
        var enabled = _layout.Render();
        var disabled = _layout.Render(b => b.ClearKeys().Key("foo", enabled: false));
        var disabledTwoCredentials = _layout.Render(b => b.Credential(TestCredentials.SecondAccessKeyId, TestCredentials.SecondSecret));
        _api.Secret = FakeSecretApiServer.NewSecret(Namespace, Name, "10", enabled);
        _api.ScriptWatch(
            [FakeSecretApiServer.Bookmark("11"), FakeSecretApiServer.Gone()],
            before: () => _api.Secret = FakeSecretApiServer.NewSecret(Namespace, Name, "20", disabled));
        _api.ScriptWatch([FakeSecretApiServer.Event("MODIFIED", FakeSecretApiServer.NewSecret(Namespace, Name, "21", disabledTwoCredentials))]);

        await using var app = await StartProxyAsync();
        using var client = new XksClient(_layout.BaseAddress);
        using var second = new XksClient(_layout.BaseAddress) { AccessKeyId = TestCredentials.SecondAccessKeyId, Secret = TestCredentials.SecondSecret };

        await Eventually.HoldsAsync(async () => (await second.HealthAsync()).Status == HttpStatusCode.OK, TimeSpan.FromSeconds(10), "version 21 applied");
        Assert.Equal("InvalidStateException", (await client.EncryptAsync("foo", [1])).ErrorName);
        Assert.Equal(2, _logs.Lines.Count(l => l.Contains("[ConfigReloaded]", StringComparison.Ordinal)));
        Assert.Contains(_logs.Lines, l => l.Contains("[ClusterConfigRelist]", StringComparison.Ordinal));
        Assert.DoesNotContain(_logs.Lines, l => l.Contains("[ClusterConfigWatchFailed]", StringComparison.Ordinal));

        var requests = _api.Requests.ToArray();
        Assert.Equal($"GET /api/v1/namespaces/{Namespace}/secrets/{Name}", requests[0]);
        Assert.StartsWith($"GET /api/v1/namespaces/{Namespace}/secrets?fieldSelector=metadata.name%3D{Name}", requests[1], StringComparison.Ordinal);
        Assert.Contains("watch=true", requests[2], StringComparison.Ordinal);
        Assert.Contains("allowWatchBookmarks=true", requests[2], StringComparison.Ordinal);
        Assert.Contains("resourceVersion=10", requests[2], StringComparison.Ordinal);
        Assert.Contains("fieldSelector=metadata.name%3D" + Name, requests[2], StringComparison.Ordinal);
        Assert.Contains("timeoutSeconds=", requests[2], StringComparison.Ordinal);
        Assert.Contains("watch=false", requests[3], StringComparison.Ordinal);
        Assert.Contains("resourceVersion=20", requests[4], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Watch_EndedByTheServer_IsRenewedFromTheLastBookmark_WithoutListingAgain()
    {
        _api.Secret = FakeSecretApiServer.NewSecret(Namespace, Name, "10", _layout.Render());
        _api.ScriptWatch([FakeSecretApiServer.Bookmark("15")], close: true);

        await using var app = await StartProxyAsync();
        await Eventually.HoldsAsync(() => Task.FromResult(_api.Requests.Count(r => r.Contains("watch=true", StringComparison.Ordinal)) >= 2), TimeSpan.FromSeconds(10), "watch renewed");

        var requests = _api.Requests.ToArray();
        Assert.True(requests.Count(r => r.Contains("/secrets?", StringComparison.Ordinal) && !r.Contains("watch=true", StringComparison.Ordinal)) == 1, string.Join("\n", requests));
        Assert.Contains("resourceVersion=15", requests.Last(r => r.Contains("watch=true", StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.DoesNotContain(_logs.Lines, l => l.Contains("[ClusterConfigWatchFailed]", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Watch_DeletedThenMissingOnRelist_KeepsServing_AndWarnsOnce()
    {
        _api.Secret = FakeSecretApiServer.NewSecret(Namespace, Name, "10", _layout.Render());
        _api.ScriptWatch(
            [FakeSecretApiServer.Event("DELETED", FakeSecretApiServer.NewSecret(Namespace, Name, "12", _layout.Render())), FakeSecretApiServer.Gone()],
            before: () => _api.Secret = null);

        await using var app = await StartProxyAsync();
        using var client = new XksClient(_layout.BaseAddress);
        await Eventually.HoldsAsync(() => Task.FromResult(_logs.Lines.Any(l => l.Contains("[ClusterConfigRelist]", StringComparison.Ordinal))), TimeSpan.FromSeconds(10), "relisted");
        await Eventually.HoldsAsync(() => Task.FromResult(_api.Requests.Count(r => r.Contains("watch=true", StringComparison.Ordinal)) >= 2), TimeSpan.FromSeconds(10), "watching again");

        Assert.Equal(HttpStatusCode.OK, (await client.EncryptAsync("foo", [1])).Status);
        Assert.Single(_logs.Lines, l => l.Contains("[ClusterConfigSecretDeleted]", StringComparison.Ordinal));
        Assert.DoesNotContain(_logs.Lines, l => l.Contains("[ClusterConfigSecretMissing]", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Partition_LongerThanTheBound_FailsClosedThenServesAgainOnceTheApiServerAnswers()
    {
        _api.Secret = FakeSecretApiServer.NewSecret(Namespace, Name, "10", _layout.Render());
        await using var app = await StartProxyAsync(configMaxAge: TimeSpan.FromSeconds(2));
        using var client = new XksClient(_layout.BaseAddress);
        using var http = new HttpClient { BaseAddress = _layout.BaseAddress };
        int Reads() => _api.Requests.Count(r => r == $"GET /api/v1/namespaces/{Namespace}/secrets/{Name}");

        // The watch stays quiet; reads every half second confirm the configuration well past the 2 s bound.
        await Eventually.HoldsAsync(() => Reads() >= 7, TimeSpan.FromSeconds(15), "six confirming reads (3 s)");
        Assert.Equal(HttpStatusCode.OK, (await client.EncryptAsync("foo", [1])).Status);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/readyz")).StatusCode);

        _api.Partition();
        var closedAfter = await Eventually.HoldsAsync(async () => (await client.EncryptAsync("foo", [1])).ErrorName == "DependencyTimeoutException", TimeSpan.FromSeconds(15), "fails closed");

        Assert.True(closedAfter >= TimeSpan.FromSeconds(1), $"failed closed {closedAfter.TotalSeconds:F1} s after the partition, before the bound could pass");
        var encrypt = await client.EncryptAsync("foo", [1]);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, encrypt.Status);
        var readyz = await http.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, readyz.StatusCode);
        Assert.Contains("configuration not confirmed by the API server", await readyz.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await Eventually.HoldsAsync(() => _logs.Lines.Any(l => l.Contains("[ClusterConfigStale]", StringComparison.Ordinal)), TimeSpan.FromSeconds(5), "the stale warning");

        _api.Heal();
        await Eventually.HoldsAsync(async () => (await client.EncryptAsync("foo", [1])).Status == HttpStatusCode.OK, TimeSpan.FromSeconds(15), "serves again");
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/readyz")).StatusCode);
        await Eventually.HoldsAsync(() => _logs.Lines.Any(l => l.Contains("[ClusterConfigConfirmed]", StringComparison.Ordinal)), TimeSpan.FromSeconds(5), "the confirmed line");
    }

    private async Task<Microsoft.AspNetCore.Builder.WebApplication> StartProxyAsync(TimeSpan? configMaxAge = null)
    {
        var options = new ClusterModeOptions
        {
            Secret = new ConfigSecretReference(Namespace, Name),
            Kubernetes = new KubernetesClientConfiguration { Host = _api.Host },
            RetryInitialDelay = TimeSpan.FromMilliseconds(100),
            RetryMaxDelay = TimeSpan.FromMilliseconds(500),
            ConfigMaxAge = configMaxAge ?? TimeSpan.FromMinutes(5),
        };
        var app = await ClusterProxyApplication.BuildAsync(options, l => l.AddProvider(_logs).SetMinimumLevel(LogLevel.Trace));
        await app.StartAsync();
        return app;
    }
}
