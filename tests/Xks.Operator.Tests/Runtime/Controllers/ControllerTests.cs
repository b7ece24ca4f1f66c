using System.Collections.Concurrent;
using System.Net;
using System.Text;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Xks.Operator.Runtime.Informers;
using Xks.Operator.Runtime.Support.Tests;
using Xks.Testing;

namespace Xks.Operator.Runtime.Controllers.Tests;

public sealed class ControllerTests : IAsyncDisposable
{
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(10);

    private readonly InMemoryResourceApi<TestWidget> _widgets = new();
    private readonly InMemoryResourceApi<V1ConfigMap> _configMaps = new();
    private readonly ResourceInformer<TestWidget> _widgetInformer;
    private readonly ResourceInformer<V1ConfigMap> _configMapInformer;
    private readonly FakeReconciler _reconciler = new();
    private readonly ControllerRuntimeMetrics _metrics = new();
    private readonly CapturingLogger _logger = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _running = [];

    public ControllerTests()
    {
        _widgetInformer = new ResourceInformer<TestWidget>(_widgets);
        _configMapInformer = new ResourceInformer<V1ConfigMap>(_configMaps);
    }

    [Fact]
    public async Task Reconcile_ObjectCreated_ReconcilerGetsAPrivateCopy()
    {
        _widgets.Create(TestWidget.Create("ns", "a", size: 3));
        var controller = Start();

        await Eventually.HoldsAsync(() => _reconciler.Calls.Count == 1, Within, "first reconcile");

        var seen = _reconciler.Calls.Single();
        Assert.Equal("a", seen.Metadata.Name);
        Assert.Equal(3, seen.Size);
        seen.Size = 99;
        Assert.True(_widgetInformer.TryGet(new ResourceKey("ns", "a"), out var cached));
        Assert.Equal(3, cached.Size);
        await Eventually.HoldsAsync(async () => await Metric("xks_operator_reconcile_total", "result=\"success\"") == 1, Within, "success metric");
        Assert.Equal(0, controller.Queue.NumRequeues(new ResourceKey("ns", "a")));
    }

    [Fact]
    public async Task Reconcile_ObjectModified_ReconciledAgain()
    {
        var widget = _widgets.Create(TestWidget.Create("ns", "a"));
        Start();
        await Eventually.HoldsAsync(() => _reconciler.Calls.Count == 1, Within, "first reconcile");

        widget.Size = 5;
        _widgets.Update(widget);

        await Eventually.HoldsAsync(() => _reconciler.Calls.Count == 2, Within, "reconcile after the change");
        Assert.Equal(5, _reconciler.Calls.Last().Size);
    }

    [Fact]
    public async Task Reconcile_Conflict_RequeuesWithoutErrorMetric()
    {
        _reconciler.Behaviour = (_, call) => call == 1 ? throw Conflict() : ReconcileResult.Done;
        _widgets.Create(TestWidget.Create("ns", "a"));
        var controller = Start();

        await Eventually.HoldsAsync(() => _reconciler.Calls.Count == 2, Within, "retry after the conflict");

        await Eventually.HoldsAsync(async () => await Metric("xks_operator_reconcile_total", "result=\"success\"") == 1, Within, "success metric");
        Assert.Equal(1, await Metric("xks_operator_reconcile_total", "result=\"conflict\""));
        Assert.Equal(0, await Metric("xks_operator_reconcile_total", "result=\"error\""));
        Assert.Equal(0, await Metric("xks_operator_reconcile_errors_total", "controller=\"widget\""));
        Assert.DoesNotContain(_logger.Entries, e => e.Level >= LogLevel.Error);
        Assert.Equal(0, controller.Queue.NumRequeues(new ResourceKey("ns", "a")));
    }

    [Fact]
    public async Task Reconcile_Failure_LoggedAsErrorAndRetriedWithBackoff()
    {
        _reconciler.Behaviour = (_, call) => call <= 3 ? throw new InvalidOperationException("boom " + call) : ReconcileResult.Done;
        _widgets.Create(TestWidget.Create("ns", "a"));
        var controller = Start();

        await Eventually.HoldsAsync(() => _reconciler.Calls.Count == 4, Within, "three retries");

        await Eventually.HoldsAsync(async () => await Metric("xks_operator_reconcile_total", "result=\"success\"") == 1, Within, "success metric");
        Assert.Equal(3, await Metric("xks_operator_reconcile_errors_total", "controller=\"widget\""));
        Assert.Equal(3, await Metric("xks_operator_reconcile_total", "result=\"error\""));
        var errors = _logger.Entries.Where(e => e.Level == LogLevel.Error).ToList();
        Assert.Equal(3, errors.Count);
        Assert.All(errors, e => Assert.IsType<InvalidOperationException>(e.Exception));
        Assert.Contains("retrying in", errors[0].Message, StringComparison.Ordinal);

        // The spacing between attempts grows: 5 ms, 10 ms, 20 ms.
        var times = _reconciler.Times.ToArray();
        Assert.True(times[3] - times[2] >= TimeSpan.FromMilliseconds(15), $"third retry after {(times[3] - times[2]).TotalMilliseconds} ms");
        Assert.Equal(0, controller.Queue.NumRequeues(new ResourceKey("ns", "a")));
    }

    [Fact]
    public async Task Reconcile_RequeueAfter_ReconciledAgainWithoutEvent()
    {
        _reconciler.Behaviour = (_, call) => call == 1 ? ReconcileResult.After(TimeSpan.FromMilliseconds(200)) : ReconcileResult.Done;
        _widgets.Create(TestWidget.Create("ns", "a"));
        Start();

        await Eventually.HoldsAsync(() => _reconciler.Calls.Count == 2, Within, "requeued reconcile");

        var times = _reconciler.Times.ToArray();
        Assert.True(times[1] - times[0] >= TimeSpan.FromMilliseconds(190));
        await Task.Delay(400);
        Assert.Equal(2, _reconciler.Calls.Count);
    }

    [Fact]
    public async Task Reconcile_ObjectDeleted_ReconcilerNotCalled()
    {
        var gate = new TaskCompletionSource();
        _reconciler.Before = (widget, call) => call == 1 ? gate.Task : Task.CompletedTask;
        var a = _widgets.Create(TestWidget.Create("ns", "a"));
        Start();
        await Eventually.HoldsAsync(() => _reconciler.Calls.Count == 1, Within, "first reconcile");

        // Deleted while being reconciled: the key is queued again, but the object is gone from the cache.
        _widgets.Delete(a);
        await Eventually.HoldsAsync(() => _widgetInformer.Count == 0, Within, "deletion cached");
        gate.SetResult();
        await Task.Delay(300);

        Assert.Single(_reconciler.Calls);
    }

    [Fact]
    public async Task Workers_ManyEventsForOneObject_NeverReconciledConcurrently()
    {
        _reconciler.Before = (_, _) => Task.Delay(20);
        var widgets = Enumerable.Range(0, 4).Select(i => _widgets.Create(TestWidget.Create("ns", "w" + i))).ToList();
        Start(workers: 4);

        for (var round = 0; round < 10; round++)
        {
            foreach (var widget in widgets)
            {
                widget.Size = round;
                _widgets.Update(widget);
            }

            await Task.Delay(5);
        }

        await Eventually.HoldsAsync(() => widgets.All(w => _reconciler.Calls.Any(c => c.Metadata.Name == w.Metadata.Name && c.Size == 9)), Within, "last state reconciled");
        Assert.Equal(1, _reconciler.MaxConcurrentPerKey);
        Assert.True(_reconciler.MaxConcurrent > 1, "different objects are reconciled in parallel");
        Assert.True(_reconciler.Calls.Count < 4 * 11, "events that arrive while an object waits are merged");
    }

    [Fact]
    public async Task Owns_ChildOfThisKindChanges_OwnerReconciled()
    {
        _widgets.Create(TestWidget.Create("ns", "owner"));
        _widgets.Create(TestWidget.Create("ns", "other"));
        var controller = Start(configure: c => c.Owns(_configMapInformer));
        await Eventually.HoldsAsync(() => _reconciler.Calls.Count == 2, Within, "initial reconciles");

        _configMaps.Create(ChildOf("child", kind: "Widget", apiVersion: "test.xks.dev/v1", owner: "owner", controller: true));
        await Eventually.HoldsAsync(() => _reconciler.Calls.Count(c => c.Metadata.Name == "owner") == 2, Within, "owner reconciled after the child appeared");

        // Not the controller, another kind, or another group: nobody is queued.
        _configMaps.Create(ChildOf("c2", kind: "Widget", apiVersion: "test.xks.dev/v1", owner: "other", controller: false));
        _configMaps.Create(ChildOf("c3", kind: "Gadget", apiVersion: "test.xks.dev/v1", owner: "other", controller: true));
        _configMaps.Create(ChildOf("c4", kind: "Widget", apiVersion: "elsewhere.dev/v1", owner: "other", controller: true));
        await Eventually.HoldsAsync(() => _configMapInformer.Count == 4, Within, "children cached");
        await Task.Delay(200);

        Assert.Equal(1, _reconciler.Calls.Count(c => c.Metadata.Name == "other"));
        Assert.Equal(2, controller.Informers.Count);
    }

    [Fact]
    public async Task Watches_MappedObjectChanges_MappedKeysReconciled()
    {
        _widgets.Create(TestWidget.Create("ns", "target"));
        Start(configure: c => c.Watches(_configMapInformer, cm => cm.Data?.TryGetValue("widget", out var name) == true ? [new ResourceKey(cm.Metadata.NamespaceProperty, name)] : []));
        await Eventually.HoldsAsync(() => _reconciler.Calls.Count == 1, Within, "initial reconcile");

        _configMaps.Create(new V1ConfigMap { Metadata = new V1ObjectMeta { NamespaceProperty = "ns", Name = "ref" }, Data = new Dictionary<string, string> { ["widget"] = "target" } });

        await Eventually.HoldsAsync(() => _reconciler.Calls.Count == 2, Within, "mapped reconcile");
    }

    [Fact]
    public async Task Watches_ModificationThePredicateRejects_NothingQueued()
    {
        foreach (var name in new[] { "target", "b", "c" })
        {
            _widgets.Create(TestWidget.Create("ns", name));
        }

        static V1ConfigMap Ref(string name, string widget, string matters) =>
            new() { Metadata = new V1ObjectMeta { NamespaceProperty = "ns", Name = name }, Data = new Dictionary<string, string> { ["widget"] = widget, ["matters"] = matters } };
        _configMaps.Create(Ref("cm1", "target", "yes"));
        _configMaps.Create(Ref("cm2", "target", "yes"));
        Start(configure: c => c.Watches(
            _configMapInformer,
            cm => [new ResourceKey(cm.Metadata.NamespaceProperty, cm.Data["widget"])],
            (_, now) => now.Data["matters"] == "yes"));
        await Eventually.HoldsAsync(() => new[] { "target", "b", "c" }.All(n => _reconciler.Calls.Any(c => c.Metadata.Name == n)), Within, "initial reconciles");

        // Rejected: neither its new nor its old state is queued. Then one that counts, dispatched after it.
        _configMaps.Update(Ref("cm1", "b", "no"));
        _configMaps.Update(Ref("cm2", "c", "yes"));

        await Eventually.HoldsAsync(() => _reconciler.Calls.Count(c => c.Metadata.Name == "c") == 2, Within, "the modification that matters is reconciled");
        Assert.Equal(1, _reconciler.Calls.Count(c => c.Metadata.Name == "b"));
    }

    [Fact]
    public async Task Reconcile_EachWorkItem_OneScopeWithKindNamespaceNameUidAndResourceVersion()
    {
        _reconciler.Behaviour = (_, _) => throw new InvalidOperationException("fails to produce a log line");
        var widget = _widgets.Create(TestWidget.Create("ns", "a"));
        Start();

        await Eventually.HoldsAsync(() => _logger.Entries.Any(e => e.Level == LogLevel.Error), Within, "error log");

        var entry = _logger.Entries.First(e => e.Level == LogLevel.Error);
        var scope = Assert.Single(entry.Scopes);
        var values = Assert.IsAssignableFrom<IEnumerable<KeyValuePair<string, object?>>>(scope).ToDictionary(p => p.Key, p => p.Value);
        Assert.Equal("widget", values["Controller"]);
        Assert.Equal("Widget", values["Kind"]);
        Assert.Equal("ns", values["Namespace"]);
        Assert.Equal("a", values["Name"]);
        Assert.Equal(widget.Metadata.Uid, values["Uid"]);
        Assert.Equal(widget.Metadata.ResourceVersion, values["ResourceVersion"]);
        Assert.Contains("Widget ns/a", scope.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Resync_PeriodElapses_EveryCachedObjectReconciledAgain()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        _widgets.Create(TestWidget.Create("ns", "a"));
        _widgets.Create(TestWidget.Create("ns", "b"));
        var informer = new ResourceInformer<TestWidget>(_widgets, timeProvider: time);
        var controller = new Controller<TestWidget>("widget", informer, _reconciler,
            new ControllerOptions { ResyncPeriod = TimeSpan.FromMinutes(10) }, _logger, _metrics, time);
        _running.Add(informer.RunAsync(_stop.Token));
        _running.Add(controller.RunAsync(_stop.Token));
        await Eventually.HoldsAsync(() => _reconciler.Calls.Count == 2, Within, "initial reconciles");

        time.Advance(TimeSpan.FromMinutes(8));
        await Task.Delay(100);
        Assert.Equal(2, _reconciler.Calls.Count);

        time.Advance(TimeSpan.FromMinutes(3));
        await Eventually.HoldsAsync(() => _reconciler.Calls.Count == 4, Within, "resync reconciles");
    }

    [Fact]
    public async Task RunAsync_CancelledAndRunAgain_KeysQueuedMeanwhileReconciled()
    {
        _widgets.Create(TestWidget.Create("ns", "a"));
        using var term = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        _running.Add(_widgetInformer.RunAsync(_stop.Token));
        var controller = new Controller<TestWidget>("widget", _widgetInformer, _reconciler, null, _logger, _metrics);
        var first = controller.RunAsync(term.Token);
        await Eventually.HoldsAsync(() => _reconciler.Calls.Count == 1, Within, "first term");

        await term.CancelAsync();
        await first.WaitAsync(Within);
        _widgets.Create(TestWidget.Create("ns", "b"));
        await Eventually.HoldsAsync(() => _widgetInformer.Count == 2, Within, "b cached");
        await Task.Delay(100);
        Assert.Single(_reconciler.Calls);

        _running.Add(controller.RunAsync(_stop.Token));
        await Eventually.HoldsAsync(() => _reconciler.Calls.Any(c => c.Metadata.Name == "b"), Within, "second term");
    }

    [Fact]
    public void ControllerOwners_OwnerReferenceWithoutGroup_MatchesCoreKinds()
    {
        var child = new V1Pod
        {
            Metadata = new V1ObjectMeta
            {
                NamespaceProperty = "ns",
                Name = "p",
                OwnerReferences = [new V1OwnerReference { ApiVersion = "v1", Kind = "ConfigMap", Name = "owner", Controller = true, Uid = "u" }],
            },
        };

        Assert.Equal([new ResourceKey("ns", "owner")], Controller<V1ConfigMap>.ControllerOwners(child, "ConfigMap", string.Empty));
        Assert.Empty(Controller<V1ConfigMap>.ControllerOwners(child, "ConfigMap", "apps"));
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_running).WaitAsync(Within);
        _stop.Dispose();
    }

    private Controller<TestWidget> Start(int workers = 1, Action<Controller<TestWidget>>? configure = null)
    {
        var controller = new Controller<TestWidget>("widget", _widgetInformer, _reconciler,
            new ControllerOptions { Workers = workers }, _logger, _metrics);
        configure?.Invoke(controller);
        _running.Add(_widgetInformer.RunAsync(_stop.Token));
        if (controller.Informers.Contains(_configMapInformer))
        {
            _running.Add(_configMapInformer.RunAsync(_stop.Token));
        }

        _running.Add(controller.RunAsync(_stop.Token));
        return controller;
    }

    private static V1ConfigMap ChildOf(string name, string kind, string apiVersion, string owner, bool controller) => new()
    {
        Metadata = new V1ObjectMeta
        {
            NamespaceProperty = "ns",
            Name = name,
            OwnerReferences = [new V1OwnerReference { ApiVersion = apiVersion, Kind = kind, Name = owner, Uid = Guid.NewGuid().ToString(), Controller = controller }],
        },
    };

    private static HttpOperationException Conflict() => new("conflict")
    {
        Response = new HttpResponseMessageWrapper(new HttpResponseMessage(HttpStatusCode.Conflict), "{\"kind\":\"Status\",\"code\":409}"),
    };

    private async Task<double> Metric(string name, string labelFragment)
    {
        using var stream = new MemoryStream();
        await _metrics.Registry.CollectAndExportAsTextAsync(stream);
        var text = Encoding.UTF8.GetString(stream.ToArray());
        var line = text.Split('\n').FirstOrDefault(l => l.StartsWith(name + "{", StringComparison.Ordinal) && l.Contains(labelFragment, StringComparison.Ordinal));
        return line is null ? double.NaN : double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }

    private sealed class FakeReconciler : IReconciler<TestWidget>
    {
        private readonly ConcurrentDictionary<string, int> _perKey = new();
        private int _calls;
        private int _concurrent;
        private int _maxConcurrent;
        private int _maxPerKey;

        public ConcurrentQueue<TestWidget> Calls { get; } = new();

        public ConcurrentQueue<DateTimeOffset> Times { get; } = new();

        public Func<TestWidget, int, ReconcileResult> Behaviour { get; set; } = (_, _) => ReconcileResult.Done;

        public Func<TestWidget, int, Task> Before { get; set; } = (_, _) => Task.CompletedTask;

        public int MaxConcurrent => Volatile.Read(ref _maxConcurrent);

        public int MaxConcurrentPerKey => Volatile.Read(ref _maxPerKey);

        public async Task<ReconcileResult> ReconcileAsync(TestWidget resource, CancellationToken cancellationToken)
        {
            var call = Interlocked.Increment(ref _calls);
            var name = resource.Metadata.Name;
            Max(ref _maxConcurrent, Interlocked.Increment(ref _concurrent));
            Max(ref _maxPerKey, _perKey.AddOrUpdate(name, 1, (_, n) => n + 1));
            try
            {
                Times.Enqueue(DateTimeOffset.UtcNow);
                Calls.Enqueue(resource);
                await Before(resource, call);
                return Behaviour(resource, call);
            }
            finally
            {
                _perKey.AddOrUpdate(name, 0, (_, n) => n - 1);
                Interlocked.Decrement(ref _concurrent);
            }
        }

        private static void Max(ref int target, int value)
        {
            int current;
            while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current)
            {
            }
        }
    }
}
