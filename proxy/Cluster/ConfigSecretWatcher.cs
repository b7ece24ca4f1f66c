using System.Runtime.ExceptionServices;
using k8s;
using k8s.Models;
using Xks.Proxy.Health;
using Xks.Proxy.Hosting;
using Xks.Proxy.Metrics;

namespace Xks.Proxy.Cluster;

/// <summary>
/// Keeps a replica's configuration in step with its Secret: list the one Secret (fieldSelector
/// <c>metadata.name</c>, so RBAC with <c>resourceNames</c> allows it), then watch from the list's resourceVersion
/// with bookmarks; each new <c>proxy.yaml</c> goes through <see cref="ConfigurationReloader.TryApply"/> (invalid:
/// logged with every problem, the old configuration keeps serving). 410 Gone lists again; any other failure (API
/// server down, forbidden, network) keeps the last good configuration serving, logs a warning and retries with
/// jittered exponential backoff. A deleted Secret changes nothing until it comes back. Every answer of the API server
/// confirms the configuration (<see cref="ConfigFreshness"/>); while the watch is quiet a read confirms it every
/// <see cref="ClusterModeOptions.ConfirmInterval"/>, and past <see cref="ClusterModeOptions.ConfigMaxAge"/> without one
/// the replica fails closed until the API server answers again.
/// </summary>
public sealed partial class ConfigSecretWatcher : BackgroundService
{
    private readonly IKubernetes _client;
    private readonly ClusterModeOptions _options;
    private readonly ConfigurationReloader _reloader;
    private readonly ConfigFreshness _freshness;
    private readonly Lock _offering = new();
    private readonly ProxyMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger<ConfigSecretWatcher> _logger;
    private string _lastHash;
    private bool _missing;
    private int _failures;

    public ConfigSecretWatcher(
        IKubernetes client,
        ClusterModeOptions options,
        ConfigSecretDocument initial,
        ConfigurationReloader reloader,
        ConfigFreshness freshness,
        ProxyMetrics metrics,
        TimeProvider time,
        ILogger<ConfigSecretWatcher> logger)
    {
        _client = client;
        _options = options;
        _reloader = reloader;
        _freshness = freshness;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _lastHash = initial.Hash;
    }

    private ConfigSecretReference Secret => _options.Secret;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var confirming = ConfirmWhileQuietAsync(stoppingToken);
        try
        {
            await FollowAsync(stoppingToken).ConfigureAwait(false);
        }
        finally
        {
            await confirming.ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Reads the Secret whenever nothing confirmed the configuration for a <see cref="ClusterModeOptions.ConfirmInterval"/>
    /// (a quiet watch proves nothing: its connection may be dead), and reports each change between fresh and stale.
    /// </summary>
    private async Task ConfirmWhileQuietAsync(CancellationToken stoppingToken)
    {
        var interval = _options.ConfirmInterval;
        while (true)
        {
            try
            {
                await Task.Delay(interval, _time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            if (_freshness.Age >= interval)
            {
                try
                {
                    using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                    timeout.CancelAfter(_options.RequestTimeout);
                    Offer(await _client.CoreV1.ReadNamespacedSecretAsync(Secret.Name, Secret.Namespace, cancellationToken: timeout.Token).ConfigureAwait(false));
                    _freshness.Confirm();
                }
                catch (k8s.Autorest.HttpOperationException ex) when (ex.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
                {
                    // The API server answered: nothing newer exists (a deleted Secret changes nothing until it is back).
                    _freshness.Confirm();
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    Log.ConfirmFailed(_logger, Secret.Description, ConfigSecretSource.Describe(ex, Secret, _options.Kubernetes.Host));
                }
            }

            _metrics.ConfigUnconfirmedSeconds.Set(Math.Round(_freshness.Age.TotalSeconds));
            if (_freshness.Changed(out var stale))
            {
                if (stale)
                {
                    Log.Stale(_logger, Secret.Description, _freshness.Age.TotalSeconds);
                }
                else
                {
                    Log.Confirmed(_logger, Secret.Description);
                }
            }
        }
    }

    private async Task FollowAsync(CancellationToken stoppingToken)
    {
        string? resourceVersion = null;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (resourceVersion is null)
                {
                    resourceVersion = await ListAsync(stoppingToken).ConfigureAwait(false);
                    _freshness.Confirm();
                    if (_failures > 0)
                    {
                        Log.Recovered(_logger, Secret.Description, _failures);
                    }
                }

                resourceVersion = await WatchAsync(resourceVersion, stoppingToken).ConfigureAwait(false);

                // The server ended the watch as asked: the connection is healthy again.
                _failures = 0;
                _freshness.Confirm();
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ConfigSecretSource.IsGone(ex))
            {
                Log.ResourceVersionExpired(_logger, Secret.Description);
                resourceVersion = null;
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // Counted until a watch delivers an event or ends normally, so a list that works followed by a watch
                // that fails still backs off. Nothing here may stop the host: the last good configuration serves on.
                _failures++;
                resourceVersion = null;
                _metrics.ConfigWatchFailures.Inc();
                var delay = ConfigSecretSource.Backoff(_failures, _options.RetryInitialDelay, _options.RetryMaxDelay);
                if (ConfigSecretSource.IsApiFailure(ex, stoppingToken))
                {
                    Log.WatchFailed(_logger, Secret.Description, ConfigSecretSource.Describe(ex, Secret, _options.Kubernetes.Host), delay.TotalSeconds);
                }
                else
                {
                    Log.WatchFailedUnexpectedly(_logger, ex, Secret.Description, delay.TotalSeconds);
                }

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

    /// <summary>Lists the one Secret, applies it if it changed, and returns the list's resourceVersion to watch from.</summary>
    private async Task<string> ListAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.RequestTimeout);
        var list = await _client.CoreV1.ListNamespacedSecretAsync(Secret.Namespace, fieldSelector: Secret.FieldSelector, cancellationToken: timeout.Token).ConfigureAwait(false);
        if (list.Items.FirstOrDefault(s => s.Metadata?.Name == Secret.Name) is { } secret)
        {
            Offer(secret);
        }
        else if (!_missing)
        {
            _missing = true;
            Log.SecretMissing(_logger, Secret.Description);
        }

        return list.Metadata?.ResourceVersion ?? "";
    }

    /// <summary>One watch request, until the server ends it; returns the last resourceVersion seen.</summary>
    private async Task<string> WatchAsync(string resourceVersion, CancellationToken cancellationToken)
    {
        var serverTimeout = TimeSpan.FromSeconds(_options.WatchTimeout.TotalSeconds * (1 + Random.Shared.NextDouble()));

        // A connection that dies without a reset never ends the stream: give up a little after the server would have.
        using var watchdog = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        watchdog.CancelAfter(serverTimeout + TimeSpan.FromSeconds(30));

        // Watch ERROR events (410 Gone, …) arrive through onError: rethrown, they end the loop like a transport failure.
        var events = _client.CoreV1.WatchListNamespacedSecretAsync(
            Secret.Namespace,
            allowWatchBookmarks: true,
            fieldSelector: Secret.FieldSelector,
            resourceVersion: resourceVersion,
            timeoutSeconds: (int)serverTimeout.TotalSeconds,
            onError: ExceptionDispatchInfo.Throw,
            cancellationToken: watchdog.Token);
        Log.Watching(_logger, Secret.Description, resourceVersion);
        try
        {
            await foreach (var (type, secret) in events.ConfigureAwait(false))
            {
                _failures = 0;
                _freshness.Confirm();
                resourceVersion = secret?.Metadata?.ResourceVersion ?? resourceVersion;
                switch (type)
                {
                    case WatchEventType.Added or WatchEventType.Modified when secret is not null:
                        Offer(secret);
                        break;
                    case WatchEventType.Deleted:
                        _missing = true;
                        Log.SecretDeleted(_logger, Secret.Description);
                        break;
                }
            }
        }
        catch (OperationCanceledException) when (watchdog.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            // The watchdog fired: renew the watch from where it was. (Any other timeout is a failure, backed off.)
        }

        return resourceVersion;
    }

    /// <summary>A version of the Secret: applied when its proxy.yaml differs from the last one seen.</summary>
    private void Offer(V1Secret secret)
    {
        lock (_offering)
        {
            OfferLocked(secret);
        }
    }

    private void OfferLocked(V1Secret secret)
    {
        if (_missing)
        {
            _missing = false;
            Log.SecretBack(_logger, Secret.Description);
        }

        var document = ConfigSecretDocument.From(secret);
        if (document.Hash == _lastHash)
        {
            return;
        }

        _lastHash = document.Hash;
        _reloader.TryApply(document.Load(Secret, _options.Overrides), Secret.Description);
    }

    private static partial class Log
    {
        [LoggerMessage(602, LogLevel.Warning, "Cannot list or watch {Source}: {Problem}. The last good configuration keeps serving; retrying in {DelaySeconds:0.0} s", EventName = "ClusterConfigWatchFailed")]
        public static partial void WatchFailed(ILogger logger, string source, string problem, double delaySeconds);

        [LoggerMessage(609, LogLevel.Error, "Unexpected failure while following {Source}; the last good configuration keeps serving; retrying in {DelaySeconds:0.0} s", EventName = "ClusterConfigWatchError")]
        public static partial void WatchFailedUnexpectedly(ILogger logger, Exception exception, string source, double delaySeconds);

        [LoggerMessage(603, LogLevel.Information, "Watching {Source} again after {Failures} failed attempt(s)", EventName = "ClusterConfigWatchRecovered")]
        public static partial void Recovered(ILogger logger, string source, int failures);

        [LoggerMessage(604, LogLevel.Warning, "{Source} was deleted; the last good configuration keeps serving until it is back", EventName = "ClusterConfigSecretDeleted")]
        public static partial void SecretDeleted(ILogger logger, string source);

        [LoggerMessage(605, LogLevel.Warning, "{Source} does not exist; the last good configuration keeps serving until it is back", EventName = "ClusterConfigSecretMissing")]
        public static partial void SecretMissing(ILogger logger, string source);

        [LoggerMessage(606, LogLevel.Information, "{Source} is back", EventName = "ClusterConfigSecretBack")]
        public static partial void SecretBack(ILogger logger, string source);

        [LoggerMessage(607, LogLevel.Debug, "The resourceVersion of the watch on {Source} expired (410 Gone); listing again", EventName = "ClusterConfigRelist")]
        public static partial void ResourceVersionExpired(ILogger logger, string source);

        [LoggerMessage(610, LogLevel.Warning, "The configuration from {Source} has not been confirmed by the API server for {Seconds:0} s: this replica refuses every request (DependencyTimeoutException) and reports not ready until it is", EventName = "ClusterConfigStale")]
        public static partial void Stale(ILogger logger, string source, double seconds);

        [LoggerMessage(611, LogLevel.Information, "The API server confirmed the configuration from {Source} again: serving", EventName = "ClusterConfigConfirmed")]
        public static partial void Confirmed(ILogger logger, string source);

        [LoggerMessage(612, LogLevel.Debug, "Could not confirm {Source}: {Problem}", EventName = "ClusterConfigConfirmFailed")]
        public static partial void ConfirmFailed(ILogger logger, string source, string problem);

        [LoggerMessage(608, LogLevel.Debug, "Watching {Source} from resourceVersion {ResourceVersion}", EventName = "ClusterConfigWatching")]
        public static partial void Watching(ILogger logger, string source, string resourceVersion);
    }
}
