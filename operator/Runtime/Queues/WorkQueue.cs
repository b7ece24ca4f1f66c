namespace Xks.Operator.Runtime.Queues;

/// <summary>
/// A keyed work queue with the semantics of client-go's rate-limited delaying queue:
/// <list type="bullet">
/// <item>a key waits in the queue at most once, however often it is added (de-duplication);</item>
/// <item>a key handed to a worker is "processing" until <see cref="Done"/>; adding it meanwhile marks it dirty and it
/// is queued again, once, after <see cref="Done"/> — so two workers never hold the same key;</item>
/// <item><see cref="AddAfter"/> queues a key later (the earliest pending time wins);</item>
/// <item><see cref="AddRateLimited"/> queues a key after a per-key exponential backoff (5 ms, 10 ms, … capped at
/// 1000 s by default) that <see cref="Forget"/> resets.</item>
/// </list>
/// Timers come from the <see cref="TimeProvider"/>, so tests drive the queue with a fake clock.
/// </summary>
public sealed class WorkQueue : IDisposable
{
    private readonly Lock _lock = new();
    private readonly TimeProvider _timeProvider;
    private readonly Queue<ResourceKey> _queue = new();
    private readonly HashSet<ResourceKey> _dirty = [];
    private readonly HashSet<ResourceKey> _processing = [];
    private readonly Dictionary<ResourceKey, DelayedItem> _delayed = [];
    private readonly Dictionary<ResourceKey, int> _failures = [];
    private readonly Queue<TaskCompletionSource<ResourceKey?>> _waiters = new();
    private bool _shuttingDown;

    public WorkQueue(TimeProvider? timeProvider = null, TimeSpan? baseDelay = null, TimeSpan? maxDelay = null)
    {
        _timeProvider = timeProvider ?? TimeProvider.System;
        BaseDelay = baseDelay ?? TimeSpan.FromMilliseconds(5);
        MaxDelay = maxDelay ?? TimeSpan.FromSeconds(1000);
        if (BaseDelay <= TimeSpan.Zero || MaxDelay < BaseDelay)
        {
            throw new ArgumentOutOfRangeException(nameof(baseDelay), "The base delay must be positive and not above the maximum delay.");
        }
    }

    /// <summary>The first retry delay of <see cref="AddRateLimited"/>.</summary>
    public TimeSpan BaseDelay { get; }

    /// <summary>The cap of the per-key retry delay.</summary>
    public TimeSpan MaxDelay { get; }

    /// <summary>Keys ready to be handed out (not counting keys being processed or waiting for a delay).</summary>
    public int Length
    {
        get
        {
            lock (_lock)
            {
                return _queue.Count;
            }
        }
    }

    /// <summary>Keys waiting for an <see cref="AddAfter"/> or <see cref="AddRateLimited"/> delay.</summary>
    public int DelayedCount
    {
        get
        {
            lock (_lock)
            {
                return _delayed.Count;
            }
        }
    }

    public bool IsShuttingDown
    {
        get
        {
            lock (_lock)
            {
                return _shuttingDown;
            }
        }
    }

    /// <summary>Queues <paramref name="key"/> unless it is already waiting; a key being processed is queued again after <see cref="Done"/>.</summary>
    public void Add(ResourceKey key)
    {
        lock (_lock)
        {
            AddLocked(key);
        }
    }

    /// <summary>Queues <paramref name="key"/> after <paramref name="delay"/>; if the key already waits for an earlier time, that time stands.</summary>
    public void AddAfter(ResourceKey key, TimeSpan delay)
    {
        lock (_lock)
        {
            AddAfterLocked(key, delay);
        }
    }

    /// <summary>
    /// Queues <paramref name="key"/> after its backoff: <see cref="BaseDelay"/> × 2^(failures so far), capped at
    /// <see cref="MaxDelay"/>. Counts one more failure for the key.
    /// </summary>
    public void AddRateLimited(ResourceKey key)
    {
        lock (_lock)
        {
            if (_shuttingDown)
            {
                return;
            }

            _failures.TryGetValue(key, out var failures);
            _failures[key] = failures + 1;
            AddAfterLocked(key, Backoff(failures));
        }
    }

    /// <summary>The delay the next <see cref="AddRateLimited"/> of <paramref name="key"/> would use.</summary>
    public TimeSpan NextBackoff(ResourceKey key)
    {
        lock (_lock)
        {
            _failures.TryGetValue(key, out var failures);
            return Backoff(failures);
        }
    }

    /// <summary>How many rate-limited requeues <paramref name="key"/> has had since it was last forgotten.</summary>
    public int NumRequeues(ResourceKey key)
    {
        lock (_lock)
        {
            return _failures.GetValueOrDefault(key);
        }
    }

    /// <summary>Resets the backoff of <paramref name="key"/> (after a successful reconcile). Does not dequeue it.</summary>
    public void Forget(ResourceKey key)
    {
        lock (_lock)
        {
            _failures.Remove(key);
        }
    }

    /// <summary>
    /// Waits for the next key and marks it processing; the caller must call <see cref="Done"/> with it. Returns
    /// <see langword="null"/> once the queue is shut down.
    /// </summary>
    public Task<ResourceKey?> GetAsync(CancellationToken cancellationToken = default)
    {
        TaskCompletionSource<ResourceKey?> waiter;
        lock (_lock)
        {
            if (_shuttingDown)
            {
                return Task.FromResult<ResourceKey?>(null);
            }

            if (_queue.TryDequeue(out var key))
            {
                _dirty.Remove(key);
                _processing.Add(key);
                return Task.FromResult<ResourceKey?>(key);
            }

            cancellationToken.ThrowIfCancellationRequested();
            waiter = new TaskCompletionSource<ResourceKey?>(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Enqueue(waiter);
        }

        return cancellationToken.CanBeCanceled ? WaitAsync(waiter, cancellationToken) : waiter.Task;
    }

    /// <summary>Ends the processing of <paramref name="key"/>; if it was added meanwhile, it is queued again.</summary>
    public void Done(ResourceKey key)
    {
        lock (_lock)
        {
            _processing.Remove(key);
            if (!_shuttingDown && _dirty.Contains(key))
            {
                Enqueue(key);
            }
        }
    }

    /// <summary>Stops the queue: waiting and future <see cref="GetAsync"/> calls return <see langword="null"/>, adds are ignored, timers stop.</summary>
    public void ShutDown()
    {
        List<TaskCompletionSource<ResourceKey?>> waiters;
        lock (_lock)
        {
            if (_shuttingDown)
            {
                return;
            }

            _shuttingDown = true;
            foreach (var item in _delayed.Values)
            {
                item.Timer?.Dispose();
            }

            _delayed.Clear();
            _queue.Clear();
            _dirty.Clear();
            waiters = [.. _waiters];
            _waiters.Clear();
        }

        foreach (var waiter in waiters)
        {
            waiter.TrySetResult(null);
        }
    }

    public void Dispose() => ShutDown();

    private static async Task<ResourceKey?> WaitAsync(TaskCompletionSource<ResourceKey?> waiter, CancellationToken cancellationToken)
    {
        // A key handed to a waiter that was cancelled at the same moment goes to the next waiter (TrySetResult fails).
        using (cancellationToken.Register(static state => ((TaskCompletionSource<ResourceKey?>)state!).TrySetCanceled(), waiter))
        {
            return await waiter.Task.ConfigureAwait(false);
        }
    }

    private TimeSpan Backoff(int failures)
    {
        if (failures >= 62)
        {
            return MaxDelay;
        }

        var ticks = BaseDelay.Ticks * Math.Pow(2, failures);
        return ticks >= MaxDelay.Ticks ? MaxDelay : TimeSpan.FromTicks((long)ticks);
    }

    private void AddLocked(ResourceKey key)
    {
        if (_shuttingDown || !_dirty.Add(key) || _processing.Contains(key))
        {
            return;
        }

        Enqueue(key);
    }

    private void Enqueue(ResourceKey key)
    {
        while (_waiters.TryDequeue(out var waiter))
        {
            if (waiter.TrySetResult(key))
            {
                _dirty.Remove(key);
                _processing.Add(key);
                return;
            }
        }

        _queue.Enqueue(key);
    }

    private void AddAfterLocked(ResourceKey key, TimeSpan delay)
    {
        if (_shuttingDown)
        {
            return;
        }

        if (delay <= TimeSpan.Zero)
        {
            AddLocked(key);
            return;
        }

        var readyAt = _timeProvider.GetUtcNow() + delay;
        if (_delayed.TryGetValue(key, out var existing))
        {
            if (existing.ReadyAt <= readyAt)
            {
                return;
            }

            existing.Timer?.Dispose();
        }

        var item = new DelayedItem(this, key, readyAt);
        _delayed[key] = item;
        item.Timer = _timeProvider.CreateTimer(static state => ((DelayedItem)state!).Elapsed(), item, delay, Timeout.InfiniteTimeSpan);
    }

    private void OnDelayElapsed(DelayedItem item)
    {
        lock (_lock)
        {
            if (!_delayed.TryGetValue(item.Key, out var current) || !ReferenceEquals(current, item))
            {
                return;
            }

            _delayed.Remove(item.Key);
            item.Timer?.Dispose();
            AddLocked(item.Key);
        }
    }

    private sealed class DelayedItem(WorkQueue owner, ResourceKey key, DateTimeOffset readyAt)
    {
        public ResourceKey Key { get; } = key;

        public DateTimeOffset ReadyAt { get; } = readyAt;

        /// <summary>Set under the queue's lock right after creation; the callback takes the same lock before reading it.</summary>
        public ITimer? Timer { get; set; }

        public void Elapsed() => owner.OnDelayElapsed(this);
    }
}
