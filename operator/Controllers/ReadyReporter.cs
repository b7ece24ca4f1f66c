using k8s;
using k8s.Models;
using Xks.Operator.Api;
using Xks.Operator.Entities;

namespace Xks.Operator.Controllers;

/// <summary>
/// The Ready condition of the AWS-facing kinds (KeySet, CloudKey) as users see it: set with the object's generation,
/// written only when changed, every change of Ready logged (and an Event when it turns True), and problems reported as
/// Ready=False plus a Warning Event without ever failing the reconcile that reports them.
/// </summary>
internal sealed partial class ReadyReporter(CustomResourceWriter writer, EventRecorder events, TimeProvider timeProvider, ILogger<ReadyReporter> logger)
{
    public void Set<TResource>(TResource resource, V1Alpha1Status status, string type, string value, string reason, string? message)
        where TResource : IKubernetesObject<V1ObjectMeta> =>
        Conditions.Set(status.Conditions, type, value, reason, message, resource.Metadata.Generation, timeProvider);

    /// <summary>
    /// Writes <paramref name="status"/>; a change of Ready is logged, and recorded as an Event when it became True (and,
    /// with <paramref name="warnWhenNotReady"/>, as a Warning when it became anything else).
    /// </summary>
    public async Task WriteAsync<TResource, TStatus>(TResource resource, TStatus status, CancellationToken cancellationToken, bool warnWhenNotReady = false)
        where TResource : class, IKubernetesObject<V1ObjectMeta>, IStatus<TStatus>
        where TStatus : V1Alpha1Status
    {
        var before = Conditions.Get(resource.Status?.Conditions, ConditionTypes.Ready);
        var after = Conditions.Get(status.Conditions, ConditionTypes.Ready);
        await writer.WriteStatusAsync(resource, status, cancellationToken).ConfigureAwait(false);
        if (after is not null && (before?.Status != after.Status || before?.Reason != after.Reason))
        {
            Log.ReadyChanged(logger, resource.Kind, resource.Metadata.NamespaceProperty, resource.Metadata.Name, after.Status, after.Reason, after.Message ?? "");
            if (after.Status == ConditionStatus.True)
            {
                await events.NormalAsync(resource, after.Reason, after.Message ?? "ready", cancellationToken).ConfigureAwait(false);
            }
            else if (warnWhenNotReady)
            {
                await events.WarningAsync(resource, after.Reason, after.Message ?? "not ready", cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Sets Ready=False with <paramref name="reason"/> in <paramref name="status"/>, writes it and says when to look again.</summary>
    public async Task<Runtime.Controllers.ReconcileResult> WaitAsync<TResource, TStatus>(TResource resource, TStatus status, string reason, string message, TimeSpan after, CancellationToken cancellationToken)
        where TResource : class, IKubernetesObject<V1ObjectMeta>, IStatus<TStatus>
        where TStatus : V1Alpha1Status
    {
        Set(resource, status, ConditionTypes.Ready, ConditionStatus.False, reason, message);
        await WriteAsync(resource, status, cancellationToken).ConfigureAwait(false);
        return Runtime.Controllers.ReconcileResult.After(after);
    }

    /// <summary>Reports <paramref name="failure"/> (<see cref="ReportAsync"/>) and says to look again after its pause.</summary>
    public async Task<Runtime.Controllers.ReconcileResult> FailAsync<TResource, TStatus>(TResource resource, TransientFailure failure, CancellationToken cancellationToken)
        where TResource : class, IKubernetesObject<V1ObjectMeta>, IStatus<TStatus>
        where TStatus : V1Alpha1Status, new()
    {
        ArgumentNullException.ThrowIfNull(failure);
        await ReportAsync<TResource, TStatus>(resource, failure.Reason, failure.Message, cancellationToken).ConfigureAwait(false);
        return Runtime.Controllers.ReconcileResult.After(failure.RetryAfter);
    }

    /// <summary>Ready=False with a reason, as a Warning Event and in status (unless the object is being deleted); never throws.</summary>
    public async Task ReportAsync<TResource, TStatus>(TResource resource, string reason, string message, CancellationToken cancellationToken)
        where TResource : class, IKubernetesObject<V1ObjectMeta>, IStatus<TStatus>
        where TStatus : V1Alpha1Status, new()
    {
        Log.NotReady(logger, resource.Kind, resource.Metadata.NamespaceProperty, resource.Metadata.Name, reason, message);
        await events.WarningAsync(resource, reason, message, cancellationToken).ConfigureAwait(false);
        if (resource.Metadata.DeletionTimestamp is not null)
        {
            return;
        }

        try
        {
            var status = CustomResourceWriter.CopyOf(resource.Status);
            status.ObservedGeneration = resource.Metadata.Generation;
            Set(resource, status, ConditionTypes.Ready, ConditionStatus.False, reason, message);
            await writer.WriteStatusAsync(resource, status, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.StatusWriteFailed(logger, resource.Kind, resource.Metadata.NamespaceProperty, resource.Metadata.Name, ApiErrors.Describe(ex));
        }
    }

    private static partial class Log
    {
        [LoggerMessage(3400, LogLevel.Information, "{Kind} {Namespace}/{Name} Ready={Status} ({Reason}): {Message}")]
        public static partial void ReadyChanged(ILogger logger, string kind, string @namespace, string name, string status, string reason, string message);

        [LoggerMessage(3401, LogLevel.Warning, "{Kind} {Namespace}/{Name} not ready ({Reason}): {Message}")]
        public static partial void NotReady(ILogger logger, string kind, string @namespace, string name, string reason, string message);

        [LoggerMessage(3402, LogLevel.Warning, "Could not write the status of {Kind} {Namespace}/{Name}: {Error}")]
        public static partial void StatusWriteFailed(ILogger logger, string kind, string @namespace, string name, string error);
    }
}
