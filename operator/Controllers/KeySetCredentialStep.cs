using Amazon.KeyManagementService.Model;
using k8s;
using k8s.Models;
using Xks.Operator.Api;
using Xks.Operator.Aws;
using Xks.Operator.Entities;
using Xks.Operator.Options;
using Xks.Operator.Resources;

namespace Xks.Operator.Controllers;

/// <summary>
/// The SigV4 credential step of a KeySet: its Secret created once, a rotation adding a pending credential the proxy
/// accepts before KMS is told, KMS handed it (UpdateCustomKeyStore), the old one kept for the grace period, and a
/// credential changed in AWS set back. Reads the Secret from the API server, never a cache.
/// </summary>
internal sealed class KeySetCredentialStep(IKubernetes client, EventRecorder events, OperatorOptions options, TimeProvider timeProvider, ILogger logger)
{
    /// <summary>
    /// The credential Secret: created once; a rotation (scheduled, or asked for with the rotate-credential annotation)
    /// adds a pending credential next to the current one, so the proxy accepts both before KMS is told.
    /// </summary>
    public async Task<KeySetCredentialSecret> EnsureAsync(V1Alpha1KeySet keySet, V1Alpha1KeySetStatus status, CancellationToken cancellationToken)
    {
        var ns = keySet.Metadata.NamespaceProperty;
        var name = KeySetNames.CredentialSecret(keySet);
        var secret = await client.ReadSecretOrNullAsync(ns, name, cancellationToken).ConfigureAwait(false);
        if (secret is null)
        {
            var fresh = new KeySetCredentialSecret(XksCredential.Generate()) { HandledRotationRequest = RotationRequest(keySet) };
            await client.CoreV1.CreateNamespacedSecretAsync(fresh.Build(keySet, KeySetNames.UriPath(keySet)), ns, fieldManager: ServerSideApply.FieldManager, cancellationToken: cancellationToken).ConfigureAwait(false);
            KeySetController.Log.CredentialCreated(logger, ns, keySet.Metadata.Name, fresh.Current.AccessKeyId);
            await events.NormalAsync(keySet, Reasons.Created, $"Created SigV4 credential Secret {name} (access key ID {fresh.Current.AccessKeyId})", cancellationToken).ConfigureAwait(false);
            status.LastRotationTime ??= timeProvider.GetUtcNow().UtcDateTime;
            return fresh;
        }

        if (!(secret.Metadata.OwnerReferences ?? []).Any(o => o.Controller == true && o.Uid == keySet.Metadata.Uid))
        {
            if (!KeySetDecisions.ClaimsRestoredCredential(secret.Metadata.OwnerReferences, secret.Metadata.Annotation(KeySetCredentialSecret.RestoredForAnnotation), keySet.Metadata.Name, adopting: keySet.Spec.Adopt is not null))
            {
                throw new ChildConflictException($"Secret {name} already exists and is not controlled by this KeySet; delete or rename it");
            }

            // A restore wrote it for this adopting KeySet: adopting the store proves KMS holds this credential.
            var patch = new { metadata = new { ownerReferences = new[] { KeySetCredentialSecret.Owner(keySet) }, annotations = new Dictionary<string, string?> { [KeySetCredentialSecret.RestoredForAnnotation] = null }, resourceVersion = secret.Metadata.ResourceVersion } };
            secret = await client.CoreV1.PatchNamespacedSecretAsync(new V1Patch(patch, V1Patch.PatchType.MergePatch), name, ns, fieldManager: ServerSideApply.FieldManager, cancellationToken: cancellationToken).ConfigureAwait(false);
            await events.NormalAsync(keySet, Reasons.Adopted, $"Claimed the restored SigV4 credential Secret {name}", cancellationToken).ConfigureAwait(false);
        }

        if (!KeySetCredentialSecret.TryRead(secret, out var credentials, out var problem))
        {
            // Never overwrite: KMS may hold this credential. A human fixes or deletes the Secret.
            throw new ChildConflictException(problem!);
        }

        var request = RotationRequest(keySet);
        var lastRotation = new DateTimeOffset(DateTime.SpecifyKind(status.LastRotationTime ?? secret.Metadata.CreationTimestamp ?? DateTime.UtcNow, DateTimeKind.Utc));
        var why = KeySetDecisions.RotationStart(credentials!.Pending is not null, request, credentials.HandledRotationRequest, RotationInterval(keySet), lastRotation, timeProvider.GetUtcNow());
        if (why is not null)
        {
            var requested = why == "requested";
            credentials = credentials with { Pending = XksCredential.Generate(), HandledRotationRequest = request ?? credentials.HandledRotationRequest };
            await ReplaceSecretAsync(keySet, secret, credentials, cancellationToken).ConfigureAwait(false);
            KeySetController.Log.RotationStarted(logger, ns, keySet.Metadata.Name, credentials.Pending!.AccessKeyId, requested ? "requested" : "scheduled");
            await events.NormalAsync(keySet, Reasons.RotatingCredential, $"Rotating the SigV4 credential ({(requested ? "requested by annotation" : "scheduled")}): new access key ID {credentials.Pending.AccessKeyId} added to the proxy", cancellationToken).ConfigureAwait(false);
        }

        return credentials;
    }

    /// <summary>
    /// Hands KMS the pending credential (UpdateCustomKeyStore health-checks it through the proxy, which already accepts
    /// it), then makes it current and keeps the old one for a grace period; also corrects a store whose credential was
    /// changed in AWS. Returns when to look again.
    /// </summary>
    public async Task<TimeSpan> ConvergeAsync(V1Alpha1KeySet keySet, V1Alpha1KeySetStatus status, KeySetCredentialSecret credentials, CustomKeyStoresListEntry store, AwsSession session, CancellationToken cancellationToken)
    {
        var ns = keySet.Metadata.NamespaceProperty;
        var inAws = store.XksProxyConfiguration?.AccessKeyId;
        var now = timeProvider.GetUtcNow();
        var target = credentials.Pending ?? credentials.Current;
        if (inAws != target.AccessKeyId)
        {
            await session.CallAsync("UpdateCustomKeyStore", (kms, ct) => kms.UpdateCustomKeyStoreAsync(new UpdateCustomKeyStoreRequest
            {
                CustomKeyStoreId = store.CustomKeyStoreId,
                XksProxyAuthenticationCredential = KeySetKeyStoreStep.Credential(target),
            }, ct), cancellationToken).ConfigureAwait(false);
            if (credentials.Pending is null)
            {
                await events.WarningAsync(keySet, Reasons.Drift, $"Custom key store {store.CustomKeyStoreId} had access key ID {inAws ?? "(none)"} in AWS; set it back to {target.AccessKeyId}", cancellationToken).ConfigureAwait(false);
            }
        }

        if (credentials.Pending is { } pending)
        {
            var secret = await client.ReadSecretOrNullAsync(ns, KeySetNames.CredentialSecret(keySet), cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidOperationException($"Secret {KeySetNames.CredentialSecret(keySet)} vanished during a rotation");
            var promoted = credentials with { Current = pending, Pending = null, Previous = credentials.Current, PreviousUntil = now + options.CredentialGracePeriod };
            await ReplaceSecretAsync(keySet, secret, promoted, cancellationToken).ConfigureAwait(false);
            status.LastRotationTime = now.UtcDateTime;
            KeySetController.Log.CredentialRotated(logger, ns, keySet.Metadata.Name, pending.AccessKeyId, credentials.Current.AccessKeyId);
            await events.NormalAsync(keySet, Reasons.CredentialRotated, $"Rotated the SigV4 credential: KMS now signs with {pending.AccessKeyId}; {credentials.Current.AccessKeyId} is accepted until {promoted.PreviousUntil:O}", cancellationToken).ConfigureAwait(false);
            return options.CredentialGracePeriod;
        }

        if (credentials.Previous is { } previous)
        {
            if (credentials.PreviousUntil is { } until && until > now)
            {
                return until - now;
            }

            var secret = await client.ReadSecretOrNullAsync(ns, KeySetNames.CredentialSecret(keySet), cancellationToken).ConfigureAwait(false);
            if (secret is not null)
            {
                await ReplaceSecretAsync(keySet, secret, credentials with { Previous = null, PreviousUntil = null }, cancellationToken).ConfigureAwait(false);
                await events.NormalAsync(keySet, Reasons.CredentialRetired, $"The proxy no longer accepts the previous access key ID {previous.AccessKeyId}", cancellationToken).ConfigureAwait(false);
            }
        }

        return KeySetDecisions.NextRotationCheck(
            RotationInterval(keySet), status.LastRotationTime is { } last ? new DateTimeOffset(DateTime.SpecifyKind(last, DateTimeKind.Utc)) : null, now, options.AwsResyncPeriod);
    }

    private static TimeSpan? RotationInterval(V1Alpha1KeySet keySet) =>
        GoDuration.TryParse(keySet.Spec.CredentialRotation?.Every, out var every) ? every : null;

    /// <summary>Replaces the credential Secret guarded by its resourceVersion (a concurrent change → 409 → retry).</summary>
    private async Task ReplaceSecretAsync(V1Alpha1KeySet keySet, V1Secret existing, KeySetCredentialSecret credentials, CancellationToken cancellationToken)
    {
        var desired = credentials.Build(keySet, KeySetNames.UriPath(keySet));
        desired.Metadata.ResourceVersion = existing.Metadata.ResourceVersion;
        await client.CoreV1.ReplaceNamespacedSecretAsync(desired, desired.Metadata.Name, desired.Metadata.NamespaceProperty, fieldManager: ServerSideApply.FieldManager, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    private static string? RotationRequest(V1Alpha1KeySet keySet) =>
        keySet.Metadata.Annotation(CloudKeyNames.RotateCredentialAnnotation) is { Length: > 0 } value ? value : null;
}
