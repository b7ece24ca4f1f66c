using System.Collections.Concurrent;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace Xks.Proxy.Hosting;

/// <summary>How long a stopping proxy keeps serving while it reports not ready (<c>--drain-seconds</c>).</summary>
public sealed record DrainOptions(TimeSpan Delay);

/// <summary>
/// Graceful shutdown behind a load balancer: on SIGTERM the proxy first answers <c>/readyz</c> with 503 and keeps
/// serving for <see cref="DrainOptions.Delay"/>, so kube-proxy drops the pod's endpoint and the load balancer's health
/// check takes it out before Kestrel stops accepting. At the start of the drain every open connection is asked to close
/// (<see cref="Track"/>): an idle one closes then, while this replica still accepts, and a busy one after its response;
/// responses on connections opened later carry <c>Connection: close</c>. Kestrel then finishes the requests in flight.
/// The keep-alive timeout is left alone: shortening it would close idle connections all the time, and each such close
/// races a client reusing the connection. Zero (standalone default) stops at once.
/// </summary>
public sealed partial class ShutdownDrain(DrainOptions options, TimeProvider time, ILogger<ShutdownDrain> logger) : IHostedLifecycleService
{
    private readonly ConcurrentDictionary<string, IConnectionLifetimeNotificationFeature> _connections = new(StringComparer.Ordinal);
    private int _draining;

    /// <summary>
    /// Registers a connection (Kestrel connection middleware, for the life of the connection) so that the drain can
    /// ask it to close; dispose to unregister.
    /// </summary>
    public IDisposable Track(ConnectionContext connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        if (connection.Features.Get<IConnectionLifetimeNotificationFeature>() is not { } lifetime)
        {
            return NoRegistration.Instance;
        }

        var id = connection.ConnectionId;
        _connections[id] = lifetime;
        return new Registration(_connections, id);
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

        var closing = 0;
        foreach (var lifetime in _connections.Values)
        {
            lifetime.RequestClose();
            closing++;
        }

        LogDraining(logger, options.Delay.TotalSeconds, closing);
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

    [LoggerMessage(EventId = 90, Level = LogLevel.Information, Message = "Stopping: /readyz answers 503; serving for another {Seconds} s so the load balancer and kube-proxy take this replica out before it stops accepting; {Connections} open connection(s) asked to close")]
    private static partial void LogDraining(ILogger logger, double seconds, int connections);

    private sealed class Registration(ConcurrentDictionary<string, IConnectionLifetimeNotificationFeature> connections, string id) : IDisposable
    {
        public void Dispose() => connections.TryRemove(id, out _);
    }

    private sealed class NoRegistration : IDisposable
    {
        public static readonly NoRegistration Instance = new();

        public void Dispose()
        {
        }
    }
}
