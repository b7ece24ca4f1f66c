namespace Xks.Operator.Runtime.Controllers;

/// <summary>Options of one <see cref="Controller{T}"/>.</summary>
public sealed record ControllerOptions
{
    /// <summary>Concurrent reconciles (of different objects; one object is never reconciled twice at once).</summary>
    public int Workers { get; init; } = 1;

    /// <summary>Every cached primary object is queued again this often (±10 %), to catch drift; zero or less disables it.</summary>
    public TimeSpan ResyncPeriod { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Waiting longer than this for the caches to sync is logged as a warning (and again each time it elapses).</summary>
    public TimeSpan CacheSyncWarning { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>First retry delay after a failed reconcile (doubles per consecutive failure of that object).</summary>
    public TimeSpan RetryBaseDelay { get; init; } = TimeSpan.FromMilliseconds(5);

    /// <summary>Cap of the retry delay.</summary>
    public TimeSpan RetryMaxDelay { get; init; } = TimeSpan.FromSeconds(1000);
}
