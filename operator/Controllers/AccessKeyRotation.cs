using k8s;
using k8s.Models;
using Xks.Operator.Api;
using Xks.Operator.Aws;
using Xks.Operator.Entities;

namespace Xks.Operator.Controllers;

/// <summary>
/// Runs <see cref="AccessKeyRotationStep"/> for a verified CspAccount or ClusterCspAccount with
/// <c>spec.credentials.accessKeyRotation</c>: reads its Secret (a GET, for a current resourceVersion), writes the
/// Secret with a guarded replace, status.accessKey through /status, and Events on the account; sets the
/// AccessKeyRotated condition and says when to look again (the next rotation, the end of a wait).
/// </summary>
internal sealed class AccessKeyRotation(IKubernetes client, AwsClients aws, CustomResourceWriter writer, EventRecorder events, ReadyReporter ready, TimeProvider timeProvider, ILogger<AccessKeyRotation> logger)
{
    private readonly AccessKeyRotationStep _step = new(timeProvider, logger);

    /// <summary>
    /// One pass for <paramref name="resource"/> whose verified <paramref name="status"/> is written already; returns
    /// when to look again (null: no rotation configured). Failures set AccessKeyRotated=False and never throw.
    /// </summary>
    public async Task<TimeSpan?> RotateAsync<TResource>(TResource resource, AwsAccount account, V1Alpha1CspAccountStatus status, CancellationToken cancellationToken)
        where TResource : class, IKubernetesObject<V1ObjectMeta>, IStatus<V1Alpha1CspAccountStatus>
    {
        ArgumentNullException.ThrowIfNull(resource);
        ArgumentNullException.ThrowIfNull(account);
        ArgumentNullException.ThrowIfNull(status);
        if (account.Spec.Credentials.AccessKeyRotation is null || account.Spec.Credentials.SecretRef is not { } reference)
        {
            // Rotation switched off: what it reported goes away (the keys stay as they are).
            if (Conditions.Remove(status.Conditions, ConditionTypes.AccessKeyRotated) | status.AccessKey is not null)
            {
                status.AccessKey = null;
                await writer.WriteStatusAsync(resource, status, cancellationToken).ConfigureAwait(false);
            }

            return null;
        }

        var host = new Host<TResource>(client, writer, events, resource, status);
        TimeSpan? after;
        try
        {
            var session = await aws.ForAccountAsync(account, null, cancellationToken).ConfigureAwait(false);
            var secret = await aws.ReadSecretAsync(account.SecretNamespace, reference.Name, cancellationToken).ConfigureAwait(false)
                ?? throw new AwsAccountException(Reasons.CredentialsSecretNotFound, $"Secret {account.SecretNamespace}/{reference.Name} (spec.credentials.secretRef) does not exist");
            var request = resource.Metadata.Annotations is { } annotations && annotations.TryGetValue(AccessKeyRotationStep.RotateAnnotation, out var value) ? value : null;
            var result = await _step.RunAsync(session, account, secret, request, status.AccessKey, host, cancellationToken).ConfigureAwait(false);
            status.AccessKey = result.Status;
            ready.Set(resource, status, ConditionTypes.AccessKeyRotated, result.ConditionStatus, result.Reason, result.Message);
            after = result.WaitUntil is { } until ? Max(until - timeProvider.GetUtcNow(), TimeSpan.FromSeconds(1)) : null;
        }
        catch (Exception ex) when (CspAccountController.IsAwsFailure(ex, cancellationToken) || ex is k8s.Autorest.HttpOperationException)
        {
            var (reason, message) = ex is k8s.Autorest.HttpOperationException http
                ? ("KubernetesError", $"writing the Secret or the status: HTTP {(int)http.Response.StatusCode} {http.Response.ReasonPhrase}")
                : AwsErrors.Describe(ex);
            var text = $"{reason}: {message}";
            status.AccessKey = resource.Status?.AccessKey ?? status.AccessKey; // what the pass recorded before it failed
            ready.Set(resource, status, ConditionTypes.AccessKeyRotated, ConditionStatus.False, Reasons.AccessKeyRotationFailed, text);
            await events.WarningAsync(resource, Reasons.AccessKeyRotationFailed, text, cancellationToken).ConfigureAwait(false);
            after = TimeSpan.FromSeconds(30);
        }

        await writer.WriteStatusAsync(resource, status, cancellationToken).ConfigureAwait(false);
        return after;
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    /// <summary>The Kubernetes side of a pass: the Secret, the account's status (a copy with accessKey replaced), Events.</summary>
    private sealed class Host<TResource>(IKubernetes client, CustomResourceWriter writer, EventRecorder events, TResource resource, V1Alpha1CspAccountStatus status) : IAccessKeyRotationHost
        where TResource : class, IKubernetesObject<V1ObjectMeta>, IStatus<V1Alpha1CspAccountStatus>
    {
        public Task<V1Secret> ReplaceSecretAsync(V1Secret secret, CancellationToken cancellationToken) =>
            client.CoreV1.ReplaceNamespacedSecretAsync(secret, secret.Metadata.Name, secret.Metadata.NamespaceProperty, fieldManager: ServerSideApply.FieldManager, cancellationToken: cancellationToken);

        public async Task SaveStatusAsync(V1Alpha1AccessKeyStatus accessKey, CancellationToken cancellationToken)
        {
            var next = CustomResourceWriter.CopyOf(status);
            next.AccessKey = accessKey;
            await writer.WriteStatusAsync(resource, next, cancellationToken).ConfigureAwait(false);
        }

        public Task EventAsync(bool warning, string reason, string message, CancellationToken cancellationToken) =>
            warning ? events.WarningAsync(resource, reason, message, cancellationToken) : events.NormalAsync(resource, reason, message, cancellationToken);
    }
}
