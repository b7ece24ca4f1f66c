using System.Collections;
using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using Xks.Operator.Runtime.Informers;
using Xks.Operator.Runtime.Queues;

namespace Xks.Operator.Runtime.Controllers;

/// <summary>The kind-independent face of a controller, for the manager.</summary>
public interface IController
{
    string Name { get; }

    /// <summary>The primary informer and every informer the controller watches for changes.</summary>
    IReadOnlyList<IResourceInformer> Informers { get; }

    WorkQueue Queue { get; }

    /// <summary>Waits for the caches, queues every primary object, then runs the workers and the resync until cancelled.</summary>
    Task RunAsync(CancellationToken cancellationToken);
}

/// <summary>
/// Reconciles objects of <typeparamref name="T"/> (controller-runtime's controller, in small):
/// <list type="bullet">
/// <item>every event of the primary informer queues the object's key; every event of an owned kind
/// (<see cref="Owns{TChild}(string?)"/>) queues the key of its controlling owner of kind <typeparamref name="T"/>; any other
/// watched kind (<see cref="Watches{TOther}(Func{TOther, IEnumerable{ResourceKey}}, string?, Func{TOther, TOther, bool}?)"/>) queues what its map function returns, unless its predicate says a modification does not matter;</item>
/// <item>N workers take keys from the <see cref="WorkQueue"/> (one key is never held by two workers), look the
/// object up in the cache — gone means nothing to do — and call the <see cref="IReconciler{T}"/> with a copy;</item>
/// <item>success forgets the key's failures and honours <see cref="ReconcileResult.RequeueAfter"/>; 409 Conflict
/// requeues with backoff without counting an error; any other exception is logged as an error and requeued with
/// backoff (5 ms doubling to 1000 s);</item>
/// <item>every <see cref="ControllerOptions.ResyncPeriod"/> (jittered) all cached primaries are queued again.</item>
/// </list>
/// Informers are not started here; the <see cref="Hosting.ControllerManager"/> runs them (on every replica, so a
/// standby's cache is warm) and runs the controller only while leading. <see cref="RunAsync"/> can run again after
/// it returned (next leadership term); keys queued meanwhile are kept.
/// </summary>
public sealed partial class Controller<T> : IController
    where T : class, IKubernetesObject<V1ObjectMeta>
{
    private readonly IReconciler<T> _reconciler;
    private readonly ControllerOptions _options;
    private readonly ILogger _logger;
    private readonly ControllerRuntimeMetrics _metrics;
    private readonly TimeProvider _timeProvider;
    private readonly InformerFactory? _informerFactory;
    private readonly List<IResourceInformer> _informers = [];
    private readonly List<IDisposable> _subscriptions = [];
    private int _running;

    public Controller(
        string name,
        ResourceInformer<T> informer,
        IReconciler<T> reconciler,
        ControllerOptions? options = null,
        ILogger? logger = null,
        ControllerRuntimeMetrics? metrics = null,
        TimeProvider? timeProvider = null,
        InformerFactory? informerFactory = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        Name = name;
        Informer = informer ?? throw new ArgumentNullException(nameof(informer));
        _reconciler = reconciler ?? throw new ArgumentNullException(nameof(reconciler));
        _options = options ?? new ControllerOptions();
        if (_options.Workers < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "A controller needs at least one worker.");
        }

        _logger = logger ?? NullLogger.Instance;
        _metrics = metrics ?? new ControllerRuntimeMetrics();
        _timeProvider = timeProvider ?? TimeProvider.System;
        _informerFactory = informerFactory;
        Queue = new WorkQueue(_timeProvider, _options.RetryBaseDelay, _options.RetryMaxDelay);
        _metrics.TrackQueue(name, Queue);
        _informers.Add(informer);
        _subscriptions.Add(informer.Subscribe(change => Queue.Add(ResourceKey.From(change.Object))));
    }

    public string Name { get; }

    public ResourceInformer<T> Informer { get; }

    public ControllerOptions Options => _options;

    public IReadOnlyList<IResourceInformer> Informers => _informers;

    public WorkQueue Queue { get; }

    /// <summary>
    /// <see cref="Owns{TChild}(ResourceInformer{TChild})"/> over the shared informer of <typeparamref name="TChild"/>
    /// (optionally only objects matching <paramref name="labelSelector"/> are cached). Needs the controller to come from
    /// a <see cref="Hosting.ControllerManager"/>.
    /// </summary>
    public Controller<T> Owns<TChild>(string? labelSelector = null)
        where TChild : class, IKubernetesObject<V1ObjectMeta> =>
        Owns(RequireFactory().GetInformer<TChild>(labelSelector));

    /// <summary>
    /// <see cref="Owns{TChild}(ResourceInformer{TChild})"/> over the shared informer of <paramref name="api"/> — for a kind
    /// served in another version than its model's, e.g. <c>ResourceApi.Custom&lt;V1PodDisruptionBudget&gt;(client, ns,
    /// ResourceType.Of&lt;V1PodDisruptionBudget&gt;() with { Version = "v1beta1" })</c> on a 1.20 API server.
    /// </summary>
    public Controller<T> Owns<TChild>(IResourceApi<TChild> api, string? labelSelector = null)
        where TChild : class, IKubernetesObject<V1ObjectMeta> =>
        Owns(RequireFactory().GetInformer(api, labelSelector));

    /// <summary><see cref="Watches{TOther}(ResourceInformer{TOther}, Func{TOther, IEnumerable{ResourceKey}}, Func{TOther, TOther, bool}?)"/> over the shared informer of <typeparamref name="TOther"/>.</summary>
    public Controller<T> Watches<TOther>(Func<TOther, IEnumerable<ResourceKey>> map, string? labelSelector = null, Func<TOther, TOther, bool>? modifiedMatters = null)
        where TOther : class, IKubernetesObject<V1ObjectMeta> =>
        Watches(RequireFactory().GetInformer<TOther>(labelSelector), map, modifiedMatters);

    /// <summary>
    /// Reconcile the owner when a <typeparamref name="TChild"/> changes: the owner reference with <c>controller: true</c>,
    /// the kind of <typeparamref name="T"/> and its API group names the object to queue (in the child's namespace).
    /// </summary>
    public Controller<T> Owns<TChild>(ResourceInformer<TChild> informer)
        where TChild : class, IKubernetesObject<V1ObjectMeta>
    {
        ArgumentNullException.ThrowIfNull(informer);
        var kind = Informer.Type.Kind;
        var group = Informer.Type.Group;
        return Watches(informer, child => ControllerOwners(child, kind, group));
    }

    /// <summary>
    /// Reconcile the objects <paramref name="map"/> returns whenever a <typeparamref name="TOther"/> changes (old and new
    /// state). <paramref name="modifiedMatters"/> (old, new) filters modifications, like controller-runtime's update
    /// predicates: false ignores it (additions, deletions and relists of unchanged objects always count).
    /// </summary>
    public Controller<T> Watches<TOther>(ResourceInformer<TOther> informer, Func<TOther, IEnumerable<ResourceKey>> map, Func<TOther, TOther, bool>? modifiedMatters = null)
        where TOther : class, IKubernetesObject<V1ObjectMeta>
    {
        ArgumentNullException.ThrowIfNull(informer);
        ArgumentNullException.ThrowIfNull(map);
        if (Volatile.Read(ref _running) == 1)
        {
            throw new InvalidOperationException("Add watches before the controller runs.");
        }

        if (!_informers.Contains(informer))
        {
            _informers.Add(informer);
        }

        _subscriptions.Add(informer.Subscribe(change =>
        {
            if (modifiedMatters is not null && change is { Type: ResourceEventType.Modified, OldObject: { } before }
                && before.Metadata?.ResourceVersion != change.Object.Metadata?.ResourceVersion && !modifiedMatters(before, change.Object))
            {
                return;
            }

            foreach (var key in map(change.Object))
            {
                Queue.Add(key);
            }

            if (change.OldObject is { } old)
            {
                foreach (var key in map(old))
                {
                    Queue.Add(key);
                }
            }
        }));
        return this;
    }

    /// <summary>The keys of the controlling owners of <paramref name="child"/> of the given kind and API group.</summary>
    public static IEnumerable<ResourceKey> ControllerOwners(IKubernetesObject<V1ObjectMeta> child, string kind, string group)
    {
        ArgumentNullException.ThrowIfNull(child);
        var references = child.Metadata?.OwnerReferences;
        if (references is null)
        {
            yield break;
        }

        foreach (var reference in references)
        {
            if (reference.Controller == true
                && string.Equals(reference.Kind, kind, StringComparison.Ordinal)
                && string.Equals(GroupOf(reference.ApiVersion), group, StringComparison.Ordinal)
                && !string.IsNullOrEmpty(reference.Name))
            {
                yield return new ResourceKey(child.Metadata!.NamespaceProperty ?? string.Empty, reference.Name);
            }
        }
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _running, 1) == 1)
        {
            throw new InvalidOperationException($"Controller {Name} is already running.");
        }

        try
        {
            Log.WaitingForCaches(_logger, Name, _informers.Count);
            await WaitForCachesAsync(cancellationToken).ConfigureAwait(false);
            var primaries = Informer.List();
            foreach (var resource in primaries)
            {
                Queue.Add(ResourceKey.From(resource));
            }

            Log.Started(_logger, Name, _options.Workers, primaries.Count);
            var tasks = new List<Task>(_options.Workers + 1);
            for (var i = 0; i < _options.Workers; i++)
            {
                tasks.Add(Task.Run(() => WorkerAsync(cancellationToken), CancellationToken.None));
            }

            tasks.Add(ResyncAsync(cancellationToken));
            await Task.WhenAll(tasks).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            Volatile.Write(ref _running, 0);
            Log.Stopped(_logger, Name);
        }
    }

    private async Task WaitForCachesAsync(CancellationToken cancellationToken)
    {
        var all = Task.WhenAll(_informers.Select(informer => informer.WaitForSyncAsync(cancellationToken)));
        while (true)
        {
            try
            {
                await all.WaitAsync(_options.CacheSyncWarning, _timeProvider, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (TimeoutException)
            {
                var pending = string.Join(", ", _informers.Where(i => !i.HasSynced).Select(i => i.Type.Kind));
                Log.CachesSlow(_logger, Name, _options.CacheSyncWarning, pending);
            }
        }
    }

    private async Task WorkerAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            ResourceKey? next;
            try
            {
                next = await Queue.GetAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }

            if (next is not { } key)
            {
                return;
            }

            try
            {
                await ProcessAsync(key, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                Queue.Done(key);
            }
        }
    }

    private async Task ProcessAsync(ResourceKey key, CancellationToken cancellationToken)
    {
        if (!Informer.TryGet(key, out var cached))
        {
            Queue.Forget(key);
            Log.Gone(_logger, Name, key.ToString());
            return;
        }

        // The reconciler gets its own copy: a half-done change to the object must not leak into the cache.
        var resource = KubernetesJson.Deserialize<T>(KubernetesJson.Serialize(cached));
        var metadata = resource.Metadata;
        using var scope = _logger.BeginScope(new ReconcileScope(Name, Informer.Type.Kind, key.Namespace, key.Name, metadata.Uid, metadata.ResourceVersion));
        var started = _timeProvider.GetTimestamp();
        string result;
        try
        {
            var outcome = await _reconciler.ReconcileAsync(resource, cancellationToken).ConfigureAwait(false);
            Queue.Forget(key);
            if (outcome.RequeueAfter is { } after)
            {
                Queue.AddAfter(key, after);
            }

            result = ControllerRuntimeMetrics.Success;
            Log.Reconciled(_logger, key.ToString(), _timeProvider.GetElapsedTime(started), outcome.RequeueAfter);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping (shutdown or lost leadership): keep the key for the next term, count nothing.
            Queue.Add(key);
            return;
        }
        catch (Exception ex) when (IsConflict(ex))
        {
            var delay = Queue.NextBackoff(key);
            Queue.AddRateLimited(key);
            result = ControllerRuntimeMetrics.Conflict;
            Log.Conflict(_logger, key.ToString(), delay);
        }
        catch (Exception ex)
        {
            var delay = Queue.NextBackoff(key);
            Queue.AddRateLimited(key);
            result = ControllerRuntimeMetrics.Error;
            Log.Failed(_logger, key.ToString(), Queue.NumRequeues(key), delay, ex);
        }

        _metrics.RecordReconcile(Name, result, _timeProvider.GetElapsedTime(started));
    }

    private async Task ResyncAsync(CancellationToken cancellationToken)
    {
        if (_options.ResyncPeriod <= TimeSpan.Zero)
        {
            return;
        }

        while (!cancellationToken.IsCancellationRequested)
        {
            var delay = _options.ResyncPeriod * (0.9 + (Random.Shared.NextDouble() * 0.2));
            try
            {
                await Task.Delay(delay, _timeProvider, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            var primaries = Informer.List();
            foreach (var resource in primaries)
            {
                Queue.Add(ResourceKey.From(resource));
            }

            Log.Resynced(_logger, Name, primaries.Count);
        }
    }

    /// <summary>The shared informer of <typeparamref name="TOther"/>, e.g. to look up references inside a watch's map.</summary>
    public ResourceInformer<TOther> SharedInformer<TOther>(string? labelSelector = null)
        where TOther : class, IKubernetesObject<V1ObjectMeta> =>
        RequireFactory().GetInformer<TOther>(labelSelector);

    private InformerFactory RequireFactory() =>
        _informerFactory ?? throw new InvalidOperationException("This controller has no informer factory; pass the informer explicitly.");

    /// <summary>409 Conflict: optimistic concurrency lost (stale resourceVersion) or an object that already exists.</summary>
    internal static bool IsConflict(Exception exception) => exception switch
    {
        HttpOperationException { Response: { } response } => response.StatusCode == HttpStatusCode.Conflict,
        KubernetesException { Status: { } status } => status.Code == (int)HttpStatusCode.Conflict,
        _ => false,
    };

    private static string GroupOf(string? apiVersion)
    {
        if (string.IsNullOrEmpty(apiVersion))
        {
            return string.Empty;
        }

        var slash = apiVersion.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? string.Empty : apiVersion[..slash];
    }

    /// <summary>The log scope of one work item: Controller, Kind, Namespace, Name, Uid, ResourceVersion.</summary>
    private sealed class ReconcileScope(string controller, string kind, string @namespace, string name, string? uid, string? resourceVersion)
        : IReadOnlyList<KeyValuePair<string, object?>>
    {
        public int Count => 6;

        public KeyValuePair<string, object?> this[int index] => index switch
        {
            0 => new("Controller", controller),
            1 => new("Kind", kind),
            2 => new("Namespace", @namespace),
            3 => new("Name", name),
            4 => new("Uid", uid),
            5 => new("ResourceVersion", resourceVersion),
            _ => throw new ArgumentOutOfRangeException(nameof(index)),
        };

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
        {
            for (var i = 0; i < Count; i++)
            {
                yield return this[i];
            }
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

        public override string ToString() => $"{kind} {(@namespace.Length == 0 ? name : @namespace + "/" + name)} uid={uid} resourceVersion={resourceVersion}";
    }

    private static partial class Log
    {
        [LoggerMessage(1100, LogLevel.Debug, "Controller {Controller} waiting for {Count} cache(s) to sync", EventName = "ControllerWaitingForCaches")]
        public static partial void WaitingForCaches(ILogger logger, string controller, int count);

        [LoggerMessage(1101, LogLevel.Warning, "Controller {Controller}: caches not synced after {Elapsed} (waiting for {Pending}); still waiting", EventName = "ControllerCachesSlow")]
        public static partial void CachesSlow(ILogger logger, string controller, TimeSpan elapsed, string pending);

        [LoggerMessage(1102, LogLevel.Information, "Controller {Controller} started with {Workers} worker(s); {Count} object(s) queued", EventName = "ControllerStarted")]
        public static partial void Started(ILogger logger, string controller, int workers, int count);

        [LoggerMessage(1103, LogLevel.Information, "Controller {Controller} stopped", EventName = "ControllerStopped")]
        public static partial void Stopped(ILogger logger, string controller);

        [LoggerMessage(1104, LogLevel.Debug, "Reconciled {Key} in {Elapsed}; requeue after {RequeueAfter}", EventName = "Reconciled")]
        public static partial void Reconciled(ILogger logger, string key, TimeSpan elapsed, TimeSpan? requeueAfter);

        [LoggerMessage(1105, LogLevel.Debug, "Reconcile of {Key} hit a conflict (stale object); retrying in {Delay}", EventName = "ReconcileConflict")]
        public static partial void Conflict(ILogger logger, string key, TimeSpan delay);

        [LoggerMessage(1106, LogLevel.Error, "Reconcile of {Key} failed (attempt {Attempt}); retrying in {Delay}", EventName = "ReconcileFailed")]
        public static partial void Failed(ILogger logger, string key, int attempt, TimeSpan delay, Exception exception);

        [LoggerMessage(1107, LogLevel.Debug, "Controller {Controller}: {Key} is no longer cached; nothing to reconcile", EventName = "ReconcileSkippedGone")]
        public static partial void Gone(ILogger logger, string controller, string key);

        [LoggerMessage(1108, LogLevel.Debug, "Controller {Controller} resync queued {Count} object(s)", EventName = "ControllerResync")]
        public static partial void Resynced(ILogger logger, string controller, int count);
    }
}
