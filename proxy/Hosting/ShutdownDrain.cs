namespace Xks.Proxy.Hosting;

/// <summary>How long a stopping proxy keeps serving while it reports not ready (<c>--drain-seconds</c>).</summary>
public sealed record DrainOptions(TimeSpan Delay);

/// <summary>
/// Graceful shutdown behind a load balancer: on SIGTERM the proxy first answers <c>/readyz</c> with 503 and keeps
/// serving for <see cref="DrainOptions.Delay"/>, so kube-proxy drops the pod's endpoint and the load balancer's health
/// check takes it out before Kestrel stops accepting. Meanwhile every HTTP/1.1 response carries <c>Connection: close</c>,
/// so each connection in use closes after its next response, which is free of races: the client knows not to reuse
/// it. Only connections left unused for the whole drain are still open when Kestrel stops and closes them. Closing idle
/// connections earlier (at the start of the drain, or with a keep-alive timeout shorter than the drain) was measured to
/// lose requests: a server closing an idle HTTP/1.1 connection races a client that is reusing it, and at the start of a
/// drain most connections are idle between two requests. Zero (standalone default) stops at once.
/// </summary>
public sealed partial class ShutdownDrain(DrainOptions options, TimeProvider time, ILogger<ShutdownDrain> logger) : IHostedLifecycleService
{
    private int _draining;

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
