using System.Collections.Concurrent;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Xks.Operator.Runtime.Support.Tests;
using Xks.Testing;

namespace Xks.Operator.Runtime.Informers.Tests;

/// <summary>The informer against a loopback fake API server: expiry (410), ERROR events and expired continue tokens.</summary>
public sealed class ResourceInformerRelistTests : IAsyncLifetime
{
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(10);

    private readonly ConcurrentQueue<string> _requests = new();
    private readonly ConcurrentQueue<ResourceEvent<V1ConfigMap>> _events = new();
    private readonly CapturingLogger _logger = new();
    private readonly CancellationTokenSource _stop = new();
    private FakeApiServer _server = null!;
    private IKubernetes _client = null!;
    private int _lists;
    private int _watches;

    public async Task InitializeAsync()
    {
        _server = await FakeApiServer.StartAsync();
        _client = _server.CreateClient();
    }

    [Theory]
    [InlineData("event")]
    [InlineData("http")]
    public async Task Watch_Expired_RelistsAndReconcilesTheCache(string how)
    {
        _server.Handler = async context =>
        {
            if (!IsWatch(context))
            {
                var list = Interlocked.Increment(ref _lists);
                await context.Response.WriteAsync(list == 1
                    ? FakeApiServer.ConfigMapList("10", null, FakeApiServer.ConfigMap("fake", "a", "5"), FakeApiServer.ConfigMap("fake", "b", "6"))
                    : FakeApiServer.ConfigMapList("20", null, FakeApiServer.ConfigMap("fake", "a", "12", "changed"), FakeApiServer.ConfigMap("fake", "c", "15")));
                return;
            }

            if (Interlocked.Increment(ref _watches) == 1)
            {
                if (how == "http")
                {
                    context.Response.StatusCode = StatusCodes.Status410Gone;
                    await context.Response.WriteAsync(FakeApiServer.Status(410, "Gone", "too old resource version: 10 (15)"));
                    return;
                }

                await FakeApiServer.WriteEventAsync(context.Response, "MODIFIED", FakeApiServer.ConfigMap("fake", "b", "11", "seen"));
                await FakeApiServer.WriteEventAsync(context.Response, "ERROR", FakeApiServer.Status(410, "Expired", "too old resource version: 11 (15)"));
                return;
            }

            await HoldOpenAsync(context);
        };
        var informer = Start();

        await Eventually.HoldsAsync(() => _lists == 2 && informer.LastResourceVersion == "20" && _watches >= 2, Within, "relist after 410");

        Assert.Equal(["a", "c"], informer.List().Select(c => c.Metadata.Name).Order());
        Assert.True(informer.TryGet(new ResourceKey("fake", "a"), out var a));
        Assert.Equal("changed", a.Data["value"]);
        Assert.False(informer.TryGet(new ResourceKey("fake", "b"), out _));
        var expected = how == "event"
            ? new[] { "Added a", "Added b", "Modified b", "Deleted b", "Modified a", "Added c" }
            : ["Added a", "Added b", "Deleted b", "Modified a", "Added c"];
        Assert.Equal(expected, _events.Select(Describe));
        var relisted = _events.Single(e => e.Type == ResourceEventType.Modified && e.Object.Metadata.Name == "a");
        Assert.Equal("5", relisted.OldObject!.Metadata.ResourceVersion);
        Assert.Contains(_requests, r => r.Contains("watch=true", StringComparison.Ordinal) && r.Contains("resourceVersion=10", StringComparison.Ordinal));
        Assert.Contains(_requests, r => r.Contains("watch=true", StringComparison.Ordinal) && r.Contains("resourceVersion=20", StringComparison.Ordinal));
        Assert.All(_requests.Where(r => r.Contains("watch=true", StringComparison.Ordinal)), r => Assert.Contains("allowWatchBookmarks=true", r, StringComparison.Ordinal));
        Assert.Contains(_logger.Entries, e => e.EventId.Name == "WatchExpired");
    }

    [Fact]
    public async Task Watch_ErrorEvent_SurfacedAndWatchResumedFromLastResourceVersion()
    {
        _server.Handler = async context =>
        {
            if (!IsWatch(context))
            {
                Interlocked.Increment(ref _lists);
                await context.Response.WriteAsync(FakeApiServer.ConfigMapList("10", null, FakeApiServer.ConfigMap("fake", "a", "5")));
                return;
            }

            if (Interlocked.Increment(ref _watches) == 1)
            {
                await FakeApiServer.WriteEventAsync(context.Response, "ADDED", FakeApiServer.ConfigMap("fake", "b", "11"));
                await FakeApiServer.WriteEventAsync(context.Response, "ERROR", FakeApiServer.Status(500, "InternalError", "etcd is having a bad day"));
                await HoldOpenAsync(context);
                return;
            }

            await HoldOpenAsync(context);
        };
        var informer = Start();

        await Eventually.HoldsAsync(() => _watches >= 2, Within, "watch resumed");

        var failure = Assert.Single(_logger.Entries, e => e.EventId.Name == "WatchFailed");
        Assert.Equal(LogLevel.Warning, failure.Level);
        var error = Assert.IsType<KubernetesException>(failure.Exception);
        Assert.Equal(500, error.Status.Code);
        Assert.Equal(1, _lists);
        Assert.Contains(_requests, r => r.Contains("watch=true", StringComparison.Ordinal) && r.Contains("resourceVersion=11", StringComparison.Ordinal));
        Assert.Equal(2, informer.Count);
    }

    [Fact]
    public async Task List_ContinueTokenExpired_ListsAgainInOneCall()
    {
        _server.Handler = async context =>
        {
            if (IsWatch(context))
            {
                Interlocked.Increment(ref _watches);
                await HoldOpenAsync(context);
                return;
            }

            Interlocked.Increment(ref _lists);
            var query = context.Request.Query;
            if (query.ContainsKey("continue"))
            {
                context.Response.StatusCode = StatusCodes.Status410Gone;
                await context.Response.WriteAsync(FakeApiServer.Status(410, "Expired", "The provided continue parameter is too old"));
            }
            else if (query.ContainsKey("limit"))
            {
                await context.Response.WriteAsync(FakeApiServer.ConfigMapList("10", "next-page", FakeApiServer.ConfigMap("fake", "a", "5")));
            }
            else
            {
                await context.Response.WriteAsync(FakeApiServer.ConfigMapList("30", null, FakeApiServer.ConfigMap("fake", "a", "5"), FakeApiServer.ConfigMap("fake", "b", "25")));
            }
        };
        var informer = Start(pageSize: 1);

        await informer.WaitForSyncAsync(CancellationToken.None).WaitAsync(Within);

        Assert.True(3 == _lists, string.Join("\n", _requests));
        Assert.Equal(["a", "b"], informer.List().Select(c => c.Metadata.Name).Order());
        Assert.Equal("30", informer.LastResourceVersion);
        Assert.Equal(["Added a", "Added b"], _events.Select(Describe));
    }

    [Fact]
    public async Task Run_Cancelled_StopsDuringBackoff()
    {
        _server.Handler = context =>
        {
            Interlocked.Increment(ref _lists);
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            return Task.CompletedTask;
        };
        var informer = new ResourceInformer<V1ConfigMap>(ResourceApi.For<V1ConfigMap>(_client, "fake"),
            new ResourceInformerOptions { InitialBackoff = TimeSpan.FromMinutes(5), MaxBackoff = TimeSpan.FromMinutes(5) }, _logger);
        var run = informer.RunAsync(_stop.Token);
        await Eventually.HoldsAsync(() => _logger.Entries.Any(e => e.EventId.Name == "ListFailed"), Within, "first failure");

        await _stop.CancelAsync();

        await run.WaitAsync(TimeSpan.FromSeconds(2));
        Assert.False(informer.HasSynced);
        Assert.Equal(1, _lists);
    }

    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        _client.Dispose();
        await _server.DisposeAsync();
        _stop.Dispose();
    }

    private ResourceInformer<V1ConfigMap> Start(int? pageSize = null)
    {
        var wrapped = _server.Handler;
        _server.Handler = context =>
        {
            _requests.Enqueue(context.Request.Path + context.Request.QueryString);
            return wrapped(context);
        };
        var informer = new ResourceInformer<V1ConfigMap>(
            ResourceApi.For<V1ConfigMap>(_client, "fake"),
            new ResourceInformerOptions { PageSize = pageSize, InitialBackoff = TimeSpan.FromMilliseconds(20), MaxBackoff = TimeSpan.FromMilliseconds(100) },
            _logger);
        informer.Subscribe(_events.Enqueue);
        _ = informer.RunAsync(_stop.Token);
        return informer;
    }

    private static bool IsWatch(HttpContext context) => context.Request.Query["watch"] == "true";

    private static async Task HoldOpenAsync(HttpContext context)
    {
        await context.Response.Body.FlushAsync();
        try
        {
            await Task.Delay(Timeout.Infinite, context.RequestAborted);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static string Describe(ResourceEvent<V1ConfigMap> e) => $"{e.Type} {e.Object.Metadata.Name}";
}
