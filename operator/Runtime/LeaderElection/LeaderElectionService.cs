using k8s;
using k8s.LeaderElection;
using k8s.LeaderElection.ResourceLock;
using Microsoft.Extensions.Logging.Abstractions;

namespace Xks.Operator.Runtime.LeaderElection;

/// <summary>
/// Campaigns for the Lease <see cref="LeaderElectionOptions.LeaseName"/> with the client's <see cref="LeaderElector"/>
/// and runs a piece of work only while this replica holds it.
/// <para>Lost leadership (the lease could not be renewed within the renew deadline): the work's token is cancelled,
/// the work is awaited — the controllers stop their workers — and the replica goes back to being a candidate, with
/// its informer caches still warm. It does not exit: in .NET every in-flight reconcile observes the token and is
/// awaited before campaigning again, so there is no stray goroutine problem that makes controller-runtime exit. The
/// renew deadline (10 s) is below the lease duration (15 s), so the old leader has stopped before anyone else can
/// acquire the lease.</para>
/// <para>Clean shutdown while leading: the work is cancelled and awaited, then the lease is handed back
/// (<see cref="LeaderElectionOptions.ReleaseOnCancel"/>) so a standby takes over within one retry period.</para>
/// </summary>
public sealed partial class LeaderElectionService
{
    private readonly IKubernetes _client;
    private readonly LeaderElectionOptions _options;
    private readonly ILogger _logger;
    private readonly ControllerRuntimeMetrics? _metrics;
    private volatile bool _isLeader;
    private volatile string? _leader;

    public LeaderElectionService(IKubernetes client, LeaderElectionOptions options, ILogger<LeaderElectionService>? logger = null, ControllerRuntimeMetrics? metrics = null)
    {
        _client = client ?? throw new ArgumentNullException(nameof(client));
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _options.Validate();
        _logger = logger ?? NullLogger<LeaderElectionService>.Instance;
        _metrics = metrics;
        Namespace = options.ResolveNamespace();
        Identity = options.ResolveIdentity();
    }

    /// <summary>This replica's identity in the Lease.</summary>
    public string Identity { get; }

    /// <summary>Namespace of the Lease.</summary>
    public string Namespace { get; }

    public string LeaseName => _options.LeaseName;

    /// <summary>True from the moment the lease is acquired until leadership is lost or given up.</summary>
    public bool IsLeader => _isLeader;

    /// <summary>The holder last observed, if any.</summary>
    public string? CurrentLeader => _leader;

    /// <summary>
    /// Campaigns until <paramref name="cancellationToken"/> is cancelled, running <paramref name="whileLeading"/> during
    /// each leadership term with a token that is cancelled when the term ends. If the work ends on its own while
    /// leading, leadership is given up (and contested again).
    /// </summary>
    public async Task RunAsync(Func<CancellationToken, Task> whileLeading, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(whileLeading);
        var config = new LeaderElectionConfig(new LeaseLock(_client, Namespace, _options.LeaseName, Identity))
        {
            LeaseDuration = _options.LeaseDuration,
            RenewDeadline = _options.RenewDeadline,
            RetryPeriod = _options.RetryPeriod,
        };

        using var elector = new LeaderElector(config);
        CancellationTokenSource? attempt = null;
        CancellationTokenSource? term = null;
        Task? work = null;

        elector.OnNewLeader += leader =>
        {
            _leader = leader;
            Log.NewLeader(_logger, string.IsNullOrEmpty(leader) ? "(none)" : leader, Namespace, _options.LeaseName);
        };
        elector.OnError += exception => Log.ElectionError(_logger, exception.Message);
        elector.OnStartedLeading += () =>
        {
            SetLeader(true);
            Log.StartedLeading(_logger, Identity, Namespace, _options.LeaseName);
            var current = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            term = current;
            var owner = attempt;
            work = Task.Run(async () =>
            {
                try
                {
                    await whileLeading(current.Token).ConfigureAwait(false);
                }
                finally
                {
                    if (!current.IsCancellationRequested)
                    {
                        // The work stopped by itself while leading: give leadership up rather than hold it idle.
                        Log.WorkEnded(_logger);
                        owner?.Cancel();
                    }
                }
            }, CancellationToken.None);
        };
        elector.OnStoppedLeading += () =>
        {
            if (_isLeader)
            {
                SetLeader(false);
                term?.Cancel();
                if (!cancellationToken.IsCancellationRequested)
                {
                    Log.StoppedLeading(_logger, Identity);
                }
            }
        };

        while (!cancellationToken.IsCancellationRequested)
        {
            attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            try
            {
                await elector.RunUntilLeadershipLostAsync(attempt.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (attempt.IsCancellationRequested)
            {
            }
            catch (Exception ex)
            {
                // Acquiring throws when the API server cannot be reached; keep campaigning.
                Log.ElectionFailed(_logger, ex);
            }

            // Also stops the elector's background renew loop, which can outlive a lost term.
            await attempt.CancelAsync().ConfigureAwait(false);

            if (work is not null)
            {
                SetLeader(false);
                if (term is not null)
                {
                    await term.CancelAsync().ConfigureAwait(false);
                }

                try
                {
                    await work.ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                }
                catch (Exception ex)
                {
                    Log.WorkFailed(_logger, ex);
                }

                work = null;
                term?.Dispose();
                term = null;
                if (_options.ReleaseOnCancel)
                {
                    await ReleaseAsync().ConfigureAwait(false);
                }
            }

            attempt.Dispose();

            if (!cancellationToken.IsCancellationRequested)
            {
                try
                {
                    await Task.Delay(_options.RetryPeriod, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                }
            }
        }
    }

    /// <summary>
    /// Hands the lease back if this replica still holds it: empty holder, 1 s duration. Candidates using this client (or
    /// client-go) take an empty holder over at their next retry.
    /// </summary>
    private async Task ReleaseAsync()
    {
        using var timeout = new CancellationTokenSource(_options.RenewDeadline);
        try
        {
            var lease = await _client.CoordinationV1.ReadNamespacedLeaseAsync(_options.LeaseName, Namespace, cancellationToken: timeout.Token).ConfigureAwait(false);
            if (lease.Spec is null || !string.Equals(lease.Spec.HolderIdentity, Identity, StringComparison.Ordinal))
            {
                return;
            }

            lease.Spec.HolderIdentity = string.Empty;
            lease.Spec.LeaseDurationSeconds = 1;
            lease.Spec.RenewTime = DateTime.UtcNow;
            await _client.CoordinationV1.ReplaceNamespacedLeaseAsync(lease, _options.LeaseName, Namespace, cancellationToken: timeout.Token).ConfigureAwait(false);
            Log.Released(_logger, Namespace, _options.LeaseName);
        }
        catch (Exception ex)
        {
            Log.ReleaseFailed(_logger, ex.Message);
        }
    }

    private void SetLeader(bool leading)
    {
        _isLeader = leading;
        _metrics?.SetLeader(leading);
    }

    private static partial class Log
    {
        [LoggerMessage(1200, LogLevel.Information, "Became the leader as {Identity} (Lease {Namespace}/{Lease}); starting the controllers", EventName = "StartedLeading")]
        public static partial void StartedLeading(ILogger logger, string identity, string @namespace, string lease);

        [LoggerMessage(1201, LogLevel.Warning, "Lost leadership as {Identity} (the lease could not be renewed in time); controllers stopped, standing by", EventName = "StoppedLeading")]
        public static partial void StoppedLeading(ILogger logger, string identity);

        [LoggerMessage(1202, LogLevel.Information, "Leader of Lease {Namespace}/{Lease} is {Leader}", EventName = "NewLeader")]
        public static partial void NewLeader(ILogger logger, string leader, string @namespace, string lease);

        [LoggerMessage(1203, LogLevel.Debug, "Leader election: {Problem}", EventName = "LeaderElectionError")]
        public static partial void ElectionError(ILogger logger, string problem);

        [LoggerMessage(1204, LogLevel.Warning, "Leader election attempt failed; retrying", EventName = "LeaderElectionFailed")]
        public static partial void ElectionFailed(ILogger logger, Exception exception);

        [LoggerMessage(1205, LogLevel.Information, "Released Lease {Namespace}/{Lease}", EventName = "LeaseReleased")]
        public static partial void Released(ILogger logger, string @namespace, string lease);

        [LoggerMessage(1206, LogLevel.Warning, "Could not release the lease: {Problem}", EventName = "LeaseReleaseFailed")]
        public static partial void ReleaseFailed(ILogger logger, string problem);

        [LoggerMessage(1207, LogLevel.Error, "The controllers stopped while this replica was leading; giving leadership up", EventName = "LeaderWorkEnded")]
        public static partial void WorkEnded(ILogger logger);

        [LoggerMessage(1208, LogLevel.Error, "The controllers failed while leading", EventName = "LeaderWorkFailed")]
        public static partial void WorkFailed(ILogger logger, Exception exception);
    }
}
