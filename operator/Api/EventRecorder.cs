using System.Collections.Concurrent;
using k8s;
using k8s.Models;

namespace Xks.Operator.Api;

/// <summary>
/// Writes core/v1 Events (what <c>kubectl describe</c> shows) for state changes and failures. Recording never fails a
/// reconcile: an Event that cannot be written is logged at Debug and dropped. The same reason and message for the
/// same object is written at most once per <see cref="RepeatInterval"/>, so a level-triggered loop does not flood.
/// Messages must never contain secrets: callers pass names and reasons, not values.
/// </summary>
internal sealed partial class EventRecorder(IKubernetes client, TimeProvider timeProvider, ILogger<EventRecorder> logger)
{
    public const string Component = "xks-operator";

    private static readonly TimeSpan DefaultRepeatInterval = TimeSpan.FromMinutes(10);
    private readonly ConcurrentDictionary<(string Uid, string Reason, string Message), DateTimeOffset> _recent = new();

    /// <summary>How long an identical Event is suppressed.</summary>
    public static TimeSpan RepeatInterval => DefaultRepeatInterval;

    /// <summary>Identity of this operator process (pod name), shown as the reporting instance.</summary>
    public string Instance { get; init; } = Environment.MachineName;

    public Task NormalAsync(IKubernetesObject<V1ObjectMeta> regarding, string reason, string message, CancellationToken cancellationToken) =>
        RecordAsync(regarding, "Normal", reason, message, cancellationToken);

    public Task WarningAsync(IKubernetesObject<V1ObjectMeta> regarding, string reason, string message, CancellationToken cancellationToken) =>
        RecordAsync(regarding, "Warning", reason, message, cancellationToken);

    public async Task RecordAsync(IKubernetesObject<V1ObjectMeta> regarding, string type, string reason, string message, CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        var key = (regarding.Metadata.Uid ?? regarding.Metadata.Name, reason, message);
        if (_recent.TryGetValue(key, out var last) && now - last < DefaultRepeatInterval)
        {
            return;
        }

        _recent[key] = now;
        Prune(now);
        var at = now.UtcDateTime;
        var ev = new Corev1Event
        {
            Metadata = new V1ObjectMeta
            {
                Name = $"{regarding.Metadata.Name}.{now.ToUnixTimeMilliseconds():x}{Random.Shared.Next(0x1000):x3}",
                NamespaceProperty = regarding.Metadata.NamespaceProperty,
            },
            InvolvedObject = new V1ObjectReference
            {
                ApiVersion = regarding.ApiVersion,
                Kind = regarding.Kind,
                Name = regarding.Metadata.Name,
                NamespaceProperty = regarding.Metadata.NamespaceProperty,
                Uid = regarding.Metadata.Uid,
                ResourceVersion = regarding.Metadata.ResourceVersion,
            },
            Type = type,
            Reason = reason,
            Message = message.Length > 1024 ? message[..1021] + "..." : message,
            Count = 1,
            FirstTimestamp = at,
            LastTimestamp = at,
            Source = new V1EventSource { Component = Component },
            ReportingComponent = Component,
            ReportingInstance = Instance,
        };
        try
        {
            await client.CoreV1.CreateNamespacedEventAsync(ev, ev.Metadata.NamespaceProperty, cancellationToken: cancellationToken).ConfigureAwait(false);
            Log.Recorded(logger, type, reason, regarding.Kind, regarding.Metadata.NamespaceProperty, regarding.Metadata.Name, message);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.RecordFailed(logger, reason, regarding.Metadata.NamespaceProperty, regarding.Metadata.Name, ex.Message);
        }
    }

    private void Prune(DateTimeOffset now)
    {
        if (_recent.Count < 4096)
        {
            return;
        }

        foreach (var entry in _recent)
        {
            if (now - entry.Value >= DefaultRepeatInterval)
            {
                _recent.TryRemove(entry.Key, out _);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(3100, LogLevel.Information, "Event {Type} {Reason} on {Kind} {Namespace}/{Name}: {Message}", EventName = "EventRecorded")]
        public static partial void Recorded(ILogger logger, string type, string reason, string kind, string @namespace, string name, string message);

        [LoggerMessage(3101, LogLevel.Debug, "Could not record event {Reason} on {Namespace}/{Name}: {Error}", EventName = "EventRecordFailed")]
        public static partial void RecordFailed(ILogger logger, string reason, string @namespace, string name, string error);
    }
}
