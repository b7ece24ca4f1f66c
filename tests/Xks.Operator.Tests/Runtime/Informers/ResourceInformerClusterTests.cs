using System.Collections.Concurrent;
using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Xks.Operator.Runtime.Support.Tests;
using Xks.Testing;

namespace Xks.Operator.Runtime.Informers.Tests;

/// <summary>The informer against the real local control plane, with ConfigMaps (and a test CRD) in a namespace of its own.</summary>
[Trait("Category", "Cluster")]
public sealed class ResourceInformerClusterTests : IAsyncLifetime
{
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(20);

    private readonly LocalCluster _cluster = LocalCluster.Instance;
    private readonly ConcurrentQueue<ResourceEvent<V1ConfigMap>> _events = new();
    private readonly CapturingLogger _logger = new();
    private readonly CancellationTokenSource _stop = new();
    private string _ns = null!;

    private IKubernetes Client => _cluster.Client;

    public async Task InitializeAsync() => _ns = await _cluster.CreateNamespaceAsync("rt-inf");

    [Fact]
    public async Task ListAndWatch_CreateUpdateDelete_CacheAndEventsFollow()
    {
        await CreateAsync("before");
        var informer = Start(ResourceApi.For<V1ConfigMap>(Client, _ns));
        await informer.WaitForSyncAsync(CancellationToken.None).WaitAsync(Within);
        Assert.True(informer.HasSynced);
        Assert.True(informer.TryGet(new ResourceKey(_ns, "before"), out var listed));
        Assert.Equal("ConfigMap", listed.Kind);
        Assert.Equal("v1", listed.ApiVersion);

        await CreateAsync("during");
        await Eventually.HoldsAsync(() => informer.TryGet(new ResourceKey(_ns, "during"), out _), Within, "create seen");

        var before = await Client.CoreV1.ReadNamespacedConfigMapAsync("before", _ns);
        before.Data = new Dictionary<string, string> { ["value"] = "updated" };
        await Client.CoreV1.ReplaceNamespacedConfigMapAsync(before, "before", _ns);
        await Eventually.HoldsAsync(
            () => informer.TryGet(new ResourceKey(_ns, "before"), out var cm) && cm.Data?["value"] == "updated", Within, "update seen");

        await Client.CoreV1.DeleteNamespacedConfigMapAsync("during", _ns);
        await Eventually.HoldsAsync(() => !informer.TryGet(new ResourceKey(_ns, "during"), out _), Within, "delete seen");

        var mine = _events.Where(e => e.Object.Metadata.Name is "before" or "during").Select(e => $"{e.Type} {e.Object.Metadata.Name}").ToList();
        Assert.Equal(["Added before", "Added during", "Modified before", "Deleted during"], mine);
        var modified = _events.Single(e => e.Type == ResourceEventType.Modified);
        Assert.Null(modified.OldObject!.Data);
        Assert.Equal(informer.List(_ns).Count, informer.Count);
    }

    [Fact]
    public async Task Watch_ServerEndsStream_WatchesAgainFromLastResourceVersionWithoutRelisting()
    {
        var api = new CountingApi<V1ConfigMap>(ResourceApi.For<V1ConfigMap>(Client, _ns));
        var informer = Start(api, new ResourceInformerOptions { MinWatchTimeout = TimeSpan.FromSeconds(1) });
        await informer.WaitForSyncAsync(CancellationToken.None).WaitAsync(Within);

        await Eventually.HoldsAsync(() => api.Watches >= 3, Within, "server-side watch timeouts");
        await CreateAsync("after-timeouts");
        await Eventually.HoldsAsync(() => informer.TryGet(new ResourceKey(_ns, "after-timeouts"), out _), Within, "create seen");

        Assert.Equal(1, api.Lists);
        Assert.Single(_events, e => e.Type == ResourceEventType.Added && e.Object.Metadata.Name == "after-timeouts");
        Assert.All(api.WatchRequests, r => Assert.True(r.AllowWatchBookmarks));
        Assert.DoesNotContain(_logger.Entries, e => e.Level >= Microsoft.Extensions.Logging.LogLevel.Warning);
    }

    [Fact]
    public async Task Watch_ConnectionDropped_ReconnectsAndCatchesUp()
    {
        var config = KubernetesClientConfiguration.BuildConfigFromConfigFile(_cluster.KubeconfigPath);
        var target = new Uri(config.Host);
        using var relay = new TcpRelay(new IPEndPoint(IPAddress.Loopback, target.Port));
        config.Host = $"https://127.0.0.1:{relay.Port}";
        using var client = new Kubernetes(config);
        var informer = Start(ResourceApi.For<V1ConfigMap>(client, _ns),
            new ResourceInformerOptions { InitialBackoff = TimeSpan.FromMilliseconds(200), MaxBackoff = TimeSpan.FromSeconds(1) });
        await informer.WaitForSyncAsync(CancellationToken.None).WaitAsync(Within);
        await CreateAsync("one");
        await Eventually.HoldsAsync(() => informer.TryGet(new ResourceKey(_ns, "one"), out _), Within, "first create seen");

        relay.DropAll();
        await CreateAsync("two");
        await Client.CoreV1.DeleteNamespacedConfigMapAsync("one", _ns);

        await Eventually.HoldsAsync(
            () => informer.TryGet(new ResourceKey(_ns, "two"), out _) && !informer.TryGet(new ResourceKey(_ns, "one"), out _), Within, "changes during the outage seen");
        Assert.True(relay.Accepted >= 2, "a new connection was opened");
        Assert.Contains(_logger.Entries, e => e.EventId.Name == "WatchFailed" || e.EventId.Name == "WatchEnded");
        Assert.Single(_events, e => e.Type == ResourceEventType.Added && e.Object.Metadata.Name == "two");
    }

    [Fact]
    public async Task LabelSelector_OnlyMatchingObjectsCached()
    {
        await CreateAsync("plain");
        await CreateAsync("labelled", new Dictionary<string, string> { ["app.kubernetes.io/managed-by"] = "xks-operator" });
        var informer = Start(ResourceApi.For<V1ConfigMap>(Client, _ns), new ResourceInformerOptions { LabelSelector = "app.kubernetes.io/managed-by=xks-operator" });
        await informer.WaitForSyncAsync(CancellationToken.None).WaitAsync(Within);

        await CreateAsync("labelled-later", new Dictionary<string, string> { ["app.kubernetes.io/managed-by"] = "xks-operator" });
        await CreateAsync("plain-later");
        await Eventually.HoldsAsync(() => informer.TryGet(new ResourceKey(_ns, "labelled-later"), out _), Within, "labelled create seen");
        await Task.Delay(300);

        Assert.Equal(["labelled", "labelled-later"], informer.List().Select(c => c.Metadata.Name).Order());
    }

    [Fact]
    public async Task CustomResource_ListAndWatch_ThroughGenericObjectEndpoints()
    {
        await EnsureWidgetCrdAsync();
        await Client.CustomObjects.CreateNamespacedCustomObjectAsync(Widget("w1", 1), "test.xks.dev", "v1", _ns, "widgets");
        var informer = new ResourceInformer<TestWidget>(ResourceApi.For<TestWidget>(Client, _ns), null, _logger);
        var events = new ConcurrentQueue<ResourceEvent<TestWidget>>();
        informer.Subscribe(events.Enqueue);
        _ = informer.RunAsync(_stop.Token);
        await informer.WaitForSyncAsync(CancellationToken.None).WaitAsync(Within);
        Assert.True(informer.TryGet(new ResourceKey(_ns, "w1"), out var w1));
        Assert.Equal(1, w1.Size);

        await Client.CustomObjects.CreateNamespacedCustomObjectAsync(Widget("w2", 2), "test.xks.dev", "v1", _ns, "widgets");
        await Client.CustomObjects.DeleteNamespacedCustomObjectAsync("test.xks.dev", "v1", _ns, "widgets", "w1");

        await Eventually.HoldsAsync(() => informer.TryGet(new ResourceKey(_ns, "w2"), out _) && informer.Count == 1, Within, "widget changes seen");
        Assert.True(informer.TryGet(new ResourceKey(_ns, "w2"), out var w2));
        Assert.Equal(2, w2.Size);
        Assert.Equal(["Added w1", "Added w2", "Deleted w1"], events.Select(e => $"{e.Type} {e.Object.Metadata.Name}"));

        // All namespaces: the cluster-wide list of a namespaced custom resource.
        var all = new ResourceInformer<TestWidget>(ResourceApi.For<TestWidget>(Client), null, _logger);
        _ = all.RunAsync(_stop.Token);
        await all.WaitForSyncAsync(CancellationToken.None).WaitAsync(Within);
        Assert.True(all.TryGet(new ResourceKey(_ns, "w2"), out _));
    }

    [Fact]
    public async Task CustomApi_OtherServedVersion_PodDisruptionBudgetsOfPolicyV1Beta1()
    {
        // The model is policy/v1; a 1.20 API server serves policy/v1beta1 only.
        var api = ResourceApi.Custom<V1PodDisruptionBudget>(Client, _ns, ResourceType.Of<V1PodDisruptionBudget>() with { Version = "v1beta1" });
        var informer = new ResourceInformer<V1PodDisruptionBudget>(api, null, _logger);
        _ = informer.RunAsync(_stop.Token);
        await informer.WaitForSyncAsync(CancellationToken.None).WaitAsync(Within);

        var pdb = new V1PodDisruptionBudget
        {
            ApiVersion = "policy/v1beta1",
            Kind = "PodDisruptionBudget",
            Metadata = new V1ObjectMeta { Name = "pdb" },
            Spec = new V1PodDisruptionBudgetSpec { MinAvailable = 1, Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "x" } } },
        };
        await Client.CustomObjects.CreateNamespacedCustomObjectAsync(pdb, "policy", "v1beta1", _ns, "poddisruptionbudgets");

        await Eventually.HoldsAsync(() => informer.TryGet(new ResourceKey(_ns, "pdb"), out _), Within, "PDB seen");
        Assert.True(informer.TryGet(new ResourceKey(_ns, "pdb"), out var cached));
        Assert.Equal("policy/v1beta1", cached.ApiVersion);
        Assert.Equal(1, cached.Spec.MinAvailable.ToInt());
    }

    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        _stop.Dispose();
        try
        {
            await Client.CoreV1.DeleteNamespaceAsync(_ns);
        }
        catch (HttpOperationException)
        {
        }
    }

    private ResourceInformer<V1ConfigMap> Start(IResourceApi<V1ConfigMap> api, ResourceInformerOptions? options = null)
    {
        var informer = new ResourceInformer<V1ConfigMap>(api, options, _logger);
        informer.Subscribe(_events.Enqueue);
        _ = informer.RunAsync(_stop.Token);
        return informer;
    }

    private Task<V1ConfigMap> CreateAsync(string name, Dictionary<string, string>? labels = null) =>
        Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = name, Labels = labels } }, _ns);

    private static TestWidget Widget(string name, int size) =>
        new() { Metadata = new V1ObjectMeta { Name = name }, Size = size };

    private async Task EnsureWidgetCrdAsync()
    {
        var crd = new V1CustomResourceDefinition
        {
            Metadata = new V1ObjectMeta { Name = "widgets.test.xks.dev" },
            Spec = new V1CustomResourceDefinitionSpec
            {
                Group = "test.xks.dev",
                Scope = "Namespaced",
                Names = new V1CustomResourceDefinitionNames { Kind = "Widget", ListKind = "WidgetList", Plural = "widgets", Singular = "widget" },
                Versions =
                [
                    new V1CustomResourceDefinitionVersion
                    {
                        Name = "v1",
                        Served = true,
                        Storage = true,
                        Schema = new V1CustomResourceValidation
                        {
                            OpenAPIV3Schema = new V1JSONSchemaProps
                            {
                                Type = "object",
                                Properties = new Dictionary<string, V1JSONSchemaProps> { ["size"] = new() { Type = "integer" } },
                            },
                        },
                    },
                ],
            },
        };
        try
        {
            await Client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(crd);
        }
        catch (HttpOperationException ex) when (ex.Response.StatusCode == HttpStatusCode.Conflict)
        {
        }

        await Eventually.HoldsAsync(async () =>
        {
            var current = await Client.ApiextensionsV1.ReadCustomResourceDefinitionAsync("widgets.test.xks.dev");
            return current.Status?.Conditions?.Any(c => c.Type == "Established" && c.Status == "True") == true;
        }, Within, "CRD established");

        // Discovery lags behind Established for a moment: wait until the endpoint answers.
        await Eventually.HoldsAsync(async () =>
        {
            try
            {
                await Client.CustomObjects.ListNamespacedCustomObjectAsync("test.xks.dev", "v1", _ns, "widgets");
                return true;
            }
            catch (HttpOperationException ex) when (ex.Response.StatusCode == HttpStatusCode.NotFound)
            {
                return false;
            }
        }, Within, "widgets endpoint served");
    }

    /// <summary>Counts list and watch calls of the wrapped API.</summary>
    private sealed class CountingApi<T>(IResourceApi<T> inner) : IResourceApi<T>
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        private int _lists;
        private int _watches;

        public ResourceType Type => inner.Type;

        public string? Namespace => inner.Namespace;

        public int Lists => Volatile.Read(ref _lists);

        public int Watches => Volatile.Read(ref _watches);

        public ConcurrentQueue<ResourceWatchRequest> WatchRequests { get; } = new();

        public Task<ResourceList<T>> ListAsync(ResourceListRequest request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _lists);
            return inner.ListAsync(request, cancellationToken);
        }

        public IAsyncEnumerable<(WatchEventType Type, T Object)> WatchAsync(ResourceWatchRequest request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _watches);
            WatchRequests.Enqueue(request);
            return inner.WatchAsync(request, cancellationToken);
        }
    }
}
