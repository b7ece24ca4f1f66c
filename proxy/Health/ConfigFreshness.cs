namespace Xks.Proxy.Health;

/// <summary>
/// How recently this replica confirmed that its configuration is current. In cluster mode the config Secret's watch
/// and a periodic read confirm it; when neither has reached the API server for longer than <see cref="MaxAge"/>, the
/// replica fails closed: <c>/readyz</c> answers 503 and every XKS request <c>DependencyTimeoutException</c>, because a
/// <c>blocked: true</c>, a disabled key or a revoked credential may be waiting on the other side of the partition.
/// Standalone (no <see cref="MaxAge"/>) the file is the configuration and it is never stale.
/// </summary>
public sealed class ConfigFreshness
{
    private readonly TimeProvider _time;
    private long _confirmedAt;
    private int _stale;

    public ConfigFreshness(TimeProvider time, TimeSpan? maxAge)
    {
        _time = time ?? throw new ArgumentNullException(nameof(time));
        if (maxAge is { } max && max <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(maxAge), maxAge, "The bound must be positive, or null for none.");
        }

        MaxAge = maxAge;
        _confirmedAt = time.GetTimestamp();
    }

    /// <summary>The longest a configuration may go unconfirmed before the replica refuses to serve; null: no bound.</summary>
    public TimeSpan? MaxAge { get; }

    /// <summary>Time since the configuration was last confirmed current.</summary>
    public TimeSpan Age => _time.GetElapsedTime(Volatile.Read(ref _confirmedAt));

    /// <summary>True when the bound has passed without a confirmation.</summary>
    public bool IsStale => MaxAge is { } max && Age > max;

    /// <summary>The configuration is known to be current as of now (the API server answered).</summary>
    public void Confirm() => Volatile.Write(ref _confirmedAt, _time.GetTimestamp());

    /// <summary>
    /// Returns true once per change between fresh and stale (for a single log line each way); <paramref name="stale"/>
    /// is the state now.
    /// </summary>
    public bool Changed(out bool stale)
    {
        stale = IsStale;
        var now = stale ? 1 : 0;
        return Interlocked.Exchange(ref _stale, now) != now;
    }
}
