namespace Xks.Proxy.Hosting;

/// <summary>How long a stopping proxy keeps serving while it reports not ready (<c>--drain-seconds</c>).</summary>
public sealed record DrainOptions(TimeSpan Delay);

/// <summary>
/// Graceful shutdown behind a load balancer: on SIGTERM the proxy first answers <c>/readyz</c> with 503 and keeps
/// serving for <see cref="DrainOptions.Delay"/>, so kube-proxy drops the pod's endpoint and the load balancer's health
/// check takes it out before Kestrel stops accepting. Meanwhile every response carries <c>Connection: close</c>, so
/// clients move their keep-alive connections to other replicas, and the keep-alive timeout is shorter than the drain
/// (<see cref="KeepAliveTimeout"/>), so idle ones are gone too; Kestrel then finishes the requests in flight. Zero
/// (standalone default) stops at once.
/// </summary>
public sealed partial class ShutdownDrain(DrainOptions options, TimeProvider time, ILogger<ShutdownDrain> logger) : IHostedLifecycleService
{
    private int _draining;

    /// <summary>
    /// The keep-alive timeout for a drain of <paramref name="drain"/>: at most the drain less two seconds (Kestrel checks
    /// idle connections once a second, so an idle connection closes up to a second after its timeout), at least one
    /// second, never longer than <paramref name="configured"/>.
    /// </summary>
    public static TimeSpan KeepAliveTimeout(TimeSpan drain, TimeSpan configured)
    {
        var bound = drain - TimeSpan.FromSeconds(2);
        if (bound < TimeSpan.FromSeconds(1))
        {
            bound = TimeSpan.FromSeconds(1);
        }

        return configured < bound ? configured : bound;
    }

    /// <summary>True once the host has begun stopping.</summary>
    public bool IsDraining => Volatile.Read(ref _draining) == 1;

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        Interlocked.Exchange(ref _draining, 1);
        if (options.Delay <= TimeSpan.Zero)
        {
            return;
        }

        LogDraining(logger, options.Delay.TotalSeconds);
        try
        {
            await Task.Delay(options.Delay, time, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The host's shutdown timeout ran out: stop now.
        }
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 90, Level = LogLevel.Information, Message = "Stopping: /readyz answers 503; serving for another {Seconds} s so the load balancer and kube-proxy take this replica out before it stops accepting")]
    private static partial void LogDraining(ILogger logger, double seconds);
}
