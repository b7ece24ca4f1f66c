using System.Diagnostics;
using Xks.Proxy.Contracts;
using Xks.Proxy.Crypto;
using Xks.Proxy.Metrics;
using Xks.Proxy.Options;

namespace Xks.Proxy.Health;

/// <summary>The result of one deep health check, with the time it was taken.</summary>
public sealed record HealthSnapshot(IReadOnlyList<EkmFleetMember> Members, DateTimeOffset CheckedAt)
{
    public bool CanServe => Members.Any(m => m.HealthStatus is "ACTIVE" or "DEGRADED");
}

/// <summary>
/// Runs the backend's deep check (encrypt + decrypt on the dedicated health key) in the background and caches
/// the result for at most health.cacheSeconds (≤ 60 s), so GetHealthStatus never waits on the key manager.
/// </summary>
public sealed class HealthMonitor : BackgroundService
{
    private readonly IKeyBackend _backend;
    private readonly ProxyConfigurationHolder _configuration;
    private readonly ProxyMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _checkLock = new(1, 1);
    private HealthSnapshot? _last;

    public HealthMonitor(IKeyBackend backend, ProxyConfigurationHolder configuration, ProxyMetrics metrics, TimeProvider time)
    {
        _backend = backend;
        _configuration = configuration;
        _metrics = metrics;
        _time = time;
    }

    public HealthSnapshot? Last => Volatile.Read(ref _last);

    private TimeSpan MaxAge => TimeSpan.FromSeconds(_configuration.Current.Options.Health.CacheSeconds);

    /// <summary>The cached result if fresh enough, otherwise a new check.</summary>
    public HealthSnapshot GetCurrent()
    {
        var last = Last;
        if (last is not null && _time.GetUtcNow() - last.CheckedAt < MaxAge)
        {
            return last;
        }

        return CheckNow();
    }

    public HealthSnapshot CheckNow() => Check(force: false);

    /// <summary>A new check even if one ran a moment ago: the backend's state just changed (e.g. it was unsealed).</summary>
    public HealthSnapshot Refresh() => Check(force: true);

    private HealthSnapshot Check(bool force)
    {
        _checkLock.Wait();
        try
        {
            var last = Last;
            if (!force && last is not null && _time.GetUtcNow() - last.CheckedAt < TimeSpan.FromMilliseconds(50))
            {
                return last;
            }

            var started = Stopwatch.GetTimestamp();
            var members = _backend.CheckHealth();
            _metrics.HealthCheckDuration.Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
            _metrics.RecordHealth(
                members.Count(m => m.HealthStatus == "ACTIVE"),
                members.Count(m => m.HealthStatus == "DEGRADED"),
                members.Count(m => m.HealthStatus == "UNAVAILABLE"));
            var snapshot = new HealthSnapshot(members, _time.GetUtcNow());
            Volatile.Write(ref _last, snapshot);
            return snapshot;
        }
        finally
        {
            _checkLock.Release();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            CheckNow();
            // Refresh at half the cache age so a request almost never has to wait for a check.
            var delay = TimeSpan.FromTicks(Math.Max(MaxAge.Ticks / 2, TimeSpan.FromMilliseconds(500).Ticks));
            try
            {
                await Task.Delay(delay, _time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
