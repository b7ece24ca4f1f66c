using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;

namespace Xks.Operator.Runtime.Informers;

/// <summary>The kind-independent face of an informer, for the manager and the readiness probe.</summary>
public interface IResourceInformer
{
    ResourceType Type { get; }

    /// <summary>The namespace watched; <see langword="null"/> for all.</summary>
    string? Namespace { get; }

    /// <summary>True once the first list has been cached; stays true.</summary>
    bool HasSynced { get; }

    Task WaitForSyncAsync(CancellationToken cancellationToken);

    /// <summary>Lists, then watches, until <paramref name="cancellationToken"/> is cancelled.</summary>
    Task RunAsync(CancellationToken cancellationToken);
}

/// <summary>
/// A list/watch cache of one kind (client-go's reflector + store + shared informer, in one class):
/// <list type="number">
/// <item>lists (in pages) and replaces the cache, raising Added/Modified for what is listed and Deleted for what is
/// gone — so a relist after lost events converges;</item>
/// <item>watches from the list's resourceVersion with bookmarks, keeping the resourceVersion of the last event;</item>
/// <item>when the server ends the stream (its timeout), watches again from there; when it answers 410 Gone/Expired
/// (as an HTTP status or an ERROR event), lists again; on any other failure (connection, ERROR event, 5xx)
/// reconnects after a jittered exponential backoff; a watch that stays silent past its timeout is restarted.</item>
/// </list>
/// Events go synchronously to the subscribers (keep handlers short: enqueue, don't reconcile). Reads
/// (<see cref="TryGet"/>, <see cref="List()"/>) are thread-safe and see the objects as the API server sent them —
/// treat them as read-only.
/// </summary>
public sealed partial class ResourceInformer<T> : IResourceInformer
    where T : class, IKubernetesObject<V1ObjectMeta>
{
    private readonly IResourceApi<T> _api;
    private readonly ResourceInformerOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly ConcurrentDictionary<ResourceKey, T> _cache = new();
    private readonly TaskCompletionSource _synced = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly string _description;
    private ImmutableArray<Action<ResourceEvent<T>>> _handlers = [];
    private int _running;
    private volatile string? _resourceVersion;

    public ResourceInformer(IResourceApi<T> api, ResourceInformerOptions? options = null, ILogger? logger = null, TimeProvider? timeProvider = null)
    {
        _api = api ?? throw new ArgumentNullException(nameof(api));
        _options = options ?? new ResourceInformerOptions();
        _logger = logger ?? NullLogger.Instance;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _description = $"{api.Type.Kind} ({api.Type.ApiVersion}) in {(api.Namespace is null ? "all namespaces" : "namespace " + api.Namespace)}"
            + (_options.LabelSelector is null ? string.Empty : $" with labels {_options.LabelSelector}");
    }

    public IResourceApi<T> Api => _api;

    public ResourceInformerOptions Options => _options;

    public ResourceType Type => _api.Type;

    public string? Namespace => _api.Namespace;

    public bool HasSynced => _synced.Task.IsCompleted;

    /// <summary>The resourceVersion of the last list, event or bookmark.</summary>
    public string? LastResourceVersion => _resourceVersion;

    /// <summary>Number of cached objects.</summary>
    public int Count => _cache.Count;

    public Task WaitForSyncAsync(CancellationToken cancellationToken) => _synced.Task.WaitAsync(cancellationToken);

    /// <summary>The cached object with <paramref name="key"/>, if any.</summary>
    public bool TryGet(ResourceKey key, [MaybeNullWhen(false)] out T resource) => _cache.TryGetValue(key, out resource);

    /// <summary>A snapshot of the cache.</summary>
    public IReadOnlyList<T> List() => [.. _cache.Values];

    /// <summary>A snapshot of the cached objects of one namespace.</summary>
    public IReadOnlyList<T> List(string @namespace) =>
        [.. _cache.Where(pair => string.Equals(pair.Key.Namespace, @namespace, StringComparison.Ordinal)).Select(pair => pair.Value)];

    /// <summary>Calls <paramref name="handler"/> for every change from now on, on the informer's loop; dispose to stop.</summary>
    public IDisposable Subscribe(Action<ResourceEvent<T>> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        ImmutableInterlocked.Update(ref _handlers, static (handlers, h) => handlers.Add(h), handler);
        return new Subscription(this, handler);
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _running, 1) == 1)
        {
            throw new InvalidOperationException($"The informer of {_description} is already running.");
        }

        try
        {
            await RunLoopAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Volatile.Write(ref _running, 0);
        }
    }

    private async Task RunLoopAsync(CancellationToken cancellationToken)
    {
        var backoff = new JitteredBackoff(_options.InitialBackoff, _options.MaxBackoff);
        var mustList = true;
        var expiredInARow = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            TimeSpan delay;
            try
            {
                if (mustList)
                {
                    await ListAndReplaceAsync(cancellationToken).ConfigureAwait(false);
                    mustList = false;
                }

                var started = _timeProvider.GetTimestamp();
                var events = await WatchOnceAsync(cancellationToken).ConfigureAwait(false);
                expiredInARow = 0;
                if (events > 0 || _timeProvider.GetElapsedTime(started) >= HealthyWatch)
                {
                    backoff.Reset();
                    continue;
                }

                // Ended at once without a single event: don't spin if the server keeps closing straight away.
                delay = backoff.Next();
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (IsExpired(ex))
            {
                Log.WatchExpired(_logger, _description, _resourceVersion, ex.Message);
                mustList = true;
                if (++expiredInARow == 1)
                {
                    continue;
                }

                delay = backoff.Next();
            }
            catch (Exception ex)
            {
                delay = backoff.Next();
                if (mustList)
                {
                    Log.ListFailed(_logger, _description, delay, backoff.Failures, ex);
                }
                else
                {
                    Log.WatchFailed(_logger, _description, delay, backoff.Failures, ex);
                }
            }

            try
            {
                await Task.Delay(delay, _timeProvider, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    /// <summary>A watch that lasted this long was healthy, even if nothing happened during it.</summary>
    private static readonly TimeSpan HealthyWatch = TimeSpan.FromSeconds(1);

    /// <summary>410 Gone from the list/watch call, or a 410/Expired Status sent as an ERROR event.</summary>
    internal static bool IsExpired(Exception exception) => exception switch
    {
        KubernetesException { Status: { } status } => status.Code == (int)HttpStatusCode.Gone
            || string.Equals(status.Reason, "Expired", StringComparison.Ordinal)
            || string.Equals(status.Reason, "Gone", StringComparison.Ordinal),
        HttpOperationException { Response: { } response } => response.StatusCode == HttpStatusCode.Gone,
        _ => false,
    };

    private async Task ListAndReplaceAsync(CancellationToken cancellationToken)
    {
        var limit = _options.PageSize is > 0 ? _options.PageSize : null;
        var items = new List<T>();
        string? resourceVersion = null;
        string? continueToken = null;
        while (true)
        {
            ResourceList<T> page;
            try
            {
                page = await _api.ListAsync(
                    new ResourceListRequest { LabelSelector = _options.LabelSelector, FieldSelector = _options.FieldSelector, Limit = limit, Continue = continueToken },
                    cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (continueToken is not null && IsExpired(ex))
            {
                // The continue token outlived the server's compaction window: list again in one call.
                items.Clear();
                continueToken = null;
                limit = null;
                continue;
            }

            items.AddRange(page.Items);
            resourceVersion = page.ResourceVersion;
            continueToken = string.IsNullOrEmpty(page.Continue) ? null : page.Continue;
            if (continueToken is null)
            {
                break;
            }
        }

        Replace(items, resourceVersion);
    }

    private void Replace(List<T> items, string? resourceVersion)
    {
        var fresh = new Dictionary<ResourceKey, T>(items.Count);
        foreach (var item in items)
        {
            Normalize(item);
            fresh[ResourceKey.From(item)] = item;
        }

        var deleted = 0;
        foreach (var (key, old) in _cache)
        {
            if (!fresh.ContainsKey(key) && _cache.TryRemove(key, out _))
            {
                deleted++;
                Dispatch(new ResourceEvent<T>(ResourceEventType.Deleted, old));
            }
        }

        foreach (var (key, item) in fresh)
        {
            var existed = _cache.TryGetValue(key, out var old);
            _cache[key] = item;
            Dispatch(existed ? new ResourceEvent<T>(ResourceEventType.Modified, item, old) : new ResourceEvent<T>(ResourceEventType.Added, item));
        }

        _resourceVersion = resourceVersion;
        Log.Listed(_logger, _description, fresh.Count, deleted, resourceVersion);
        if (_synced.TrySetResult())
        {
            Log.Synced(_logger, _description, fresh.Count);
        }
    }

    private async Task<int> WatchOnceAsync(CancellationToken cancellationToken)
    {
        var timeout = _options.MinWatchTimeout * (1 + Random.Shared.NextDouble());
        var idleLimit = timeout + _options.WatchIdleGrace;
        var request = new ResourceWatchRequest
        {
            ResourceVersion = _resourceVersion ?? string.Empty,
            LabelSelector = _options.LabelSelector,
            FieldSelector = _options.FieldSelector,
            TimeoutSeconds = Math.Max(1, (int)timeout.TotalSeconds),
            AllowWatchBookmarks = true,
        };

        using var idle = new CancellationTokenSource(Timeout.InfiniteTimeSpan, _timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, idle.Token);
        idle.CancelAfter(idleLimit);
        Log.WatchStarted(_logger, _description, request.ResourceVersion, request.TimeoutSeconds.Value);
        var events = 0;
        try
        {
            await foreach (var (type, item) in _api.WatchAsync(request, linked.Token).WithCancellation(linked.Token).ConfigureAwait(false))
            {
                idle.CancelAfter(idleLimit);
                events++;
                Apply(type, item);
            }
        }
        catch (OperationCanceledException) when (idle.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            Log.WatchIdle(_logger, _description, idleLimit);
            return events;
        }
        catch (HttpRequestException ex) when (events == 0 && ex.InnerException is EndOfStreamException)
        {
            // The client peeks at the first line before handing the stream out; a watch that times out on the
            // server without a single event (quiet kind, no bookmark yet) surfaces as this end-of-stream error.
        }

        Log.WatchEnded(_logger, _description, events, _resourceVersion);
        return events;
    }

    private void Apply(WatchEventType type, T item)
    {
        if (type == WatchEventType.Bookmark)
        {
            if (item?.Metadata?.ResourceVersion is { Length: > 0 } bookmark)
            {
                _resourceVersion = bookmark;
            }

            return;
        }

        if (type == WatchEventType.Error || item?.Metadata is null)
        {
            throw new KubernetesException($"The watch of {_description} sent an unusable {type} event.");
        }

        Normalize(item);
        var key = ResourceKey.From(item);
        switch (type)
        {
            case WatchEventType.Added:
            case WatchEventType.Modified:
                var existed = _cache.TryGetValue(key, out var old);
                _cache[key] = item;
                Dispatch(existed ? new ResourceEvent<T>(ResourceEventType.Modified, item, old) : new ResourceEvent<T>(ResourceEventType.Added, item));
                break;
            case WatchEventType.Deleted:
                _cache.TryRemove(key, out _);
                Dispatch(new ResourceEvent<T>(ResourceEventType.Deleted, item));
                break;
        }

        if (item.Metadata.ResourceVersion is { Length: > 0 } resourceVersion)
        {
            _resourceVersion = resourceVersion;
        }
    }

    /// <summary>Items of a list come without apiVersion and kind; fill them in so handlers and reconcilers can rely on them.</summary>
    private void Normalize(T item)
    {
        // Nothing reads managedFields from a cache (server-side apply happens on the server), and for objects the
        // operator applies they can be as large as the object: dropped, as client-go's TransformStripManagedFields does.
        item.Metadata.ManagedFields = null;
        (_options.Transform as Action<T>)?.Invoke(item);
        if (string.IsNullOrEmpty(item.ApiVersion))
        {
            item.ApiVersion = _api.Type.ApiVersion;
        }

        if (string.IsNullOrEmpty(item.Kind))
        {
            item.Kind = _api.Type.Kind;
        }
    }

    private void Dispatch(ResourceEvent<T> change)
    {
        foreach (var handler in _handlers)
        {
            try
            {
                handler(change);
            }
            catch (Exception ex)
            {
                Log.HandlerFailed(_logger, _description, change.Type, ResourceKey.From(change.Object).ToString(), ex);
            }
        }
    }

    private void Unsubscribe(Action<ResourceEvent<T>> handler) =>
        ImmutableInterlocked.Update(ref _handlers, static (handlers, h) => handlers.Remove(h), handler);

    private sealed class Subscription(ResourceInformer<T> informer, Action<ResourceEvent<T>> handler) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                informer.Unsubscribe(handler);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1000, LogLevel.Debug, "Listed {Description}: {Count} object(s), {Deleted} gone since the last list, resourceVersion {ResourceVersion}", EventName = "InformerListed")]
        public static partial void Listed(ILogger logger, string description, int count, int deleted, string? resourceVersion);

        [LoggerMessage(1001, LogLevel.Information, "Cache of {Description} synced with {Count} object(s)", EventName = "InformerSynced")]
        public static partial void Synced(ILogger logger, string description, int count);

        [LoggerMessage(1002, LogLevel.Debug, "Watching {Description} from resourceVersion {ResourceVersion} (server timeout {TimeoutSeconds} s)", EventName = "WatchStarted")]
        public static partial void WatchStarted(ILogger logger, string description, string resourceVersion, int timeoutSeconds);

        [LoggerMessage(1003, LogLevel.Debug, "Watch of {Description} ended after {Events} event(s) at resourceVersion {ResourceVersion}", EventName = "WatchEnded")]
        public static partial void WatchEnded(ILogger logger, string description, int events, string? resourceVersion);

        [LoggerMessage(1004, LogLevel.Information, "Watch of {Description} expired at resourceVersion {ResourceVersion} ({Reason}); listing again", EventName = "WatchExpired")]
        public static partial void WatchExpired(ILogger logger, string description, string? resourceVersion, string reason);

        [LoggerMessage(1005, LogLevel.Warning, "Listing {Description} failed (attempt {Attempt}); retrying in {Delay}", EventName = "ListFailed")]
        public static partial void ListFailed(ILogger logger, string description, TimeSpan delay, int attempt, Exception exception);

        [LoggerMessage(1006, LogLevel.Warning, "Watching {Description} failed (attempt {Attempt}); reconnecting in {Delay}", EventName = "WatchFailed")]
        public static partial void WatchFailed(ILogger logger, string description, TimeSpan delay, int attempt, Exception exception);

        [LoggerMessage(1007, LogLevel.Warning, "Watch of {Description} sent nothing for {Idle}; reconnecting", EventName = "WatchIdle")]
        public static partial void WatchIdle(ILogger logger, string description, TimeSpan idle);

        [LoggerMessage(1008, LogLevel.Error, "An event handler of {Description} failed on {EventType} {Key}", EventName = "InformerHandlerFailed")]
        public static partial void HandlerFailed(ILogger logger, string description, ResourceEventType eventType, string key, Exception exception);
    }
}
