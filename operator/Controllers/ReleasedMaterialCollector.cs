using Amazon.KeyManagementService.Model;
using k8s;
using k8s.Models;
using Xks.Operator.Api;
using Xks.Operator.Aws;
using Xks.Operator.Entities;
using Xks.Operator.Hsm;
using Xks.Operator.Resources;
using Xks.Operator.Runtime.Informers;

namespace Xks.Operator.Controllers;

/// <summary>
/// The end of key material: a CloudKey deleted with deletionPolicy Delete marks its material Secret released
/// (<see cref="KeyMaterialMarks.Released"/>, with the KMS key ID in <see cref="KeyMaterialMarks.KmsKeyId"/>);
/// its KeySet destroys the material only once AWS reports the KMS key deleted — never while CancelKeyDeletion could
/// still bring it back.
/// </summary>
internal sealed class ReleasedMaterialCollector(
    IKubernetes client,
    EventRecorder events,
    IHsmKeys hsm,
    ResourceInformer<V1Secret> secrets,
    ResourceInformer<V1Alpha1Vault> vaults,
    ILogger logger)
{
    /// <summary>
    /// Key material whose CloudKey was deleted with deletionPolicy Delete is destroyed only once KMS has really deleted
    /// the key — asked by its ARN in the account and region that created it, after its scheduled deletion date
    /// (<see cref="KeyCustodyDecisions.MaterialDestruction"/>) — never while the key could still be restored with
    /// CancelKeyDeletion, and never because a changed cspAccountRef or region cannot see it. For a key in an HSM the
    /// version objects are destroyed first, then the Secret that lists them (a crash in between is finished by the next
    /// pass: destroying a key that has no objects left is a no-op). Returns how long until released material is next due
    /// (<see cref="KeyCustodyDecisions.UntilReleasedMaterialDue"/>), or null when none waits for a deletion date.
    /// </summary>
    public async Task<TimeSpan?> CollectAsync(V1Alpha1KeySet keySet, AwsSession session, string? accountId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var released = secrets.List(keySet.Metadata.NamespaceProperty)
            .Where(s => s.Metadata.Label(KeySetCredentialSecret.KeySetLabel) == keySet.Metadata.Name)
            .Select(s => (Secret: s, Marks: KeyMaterialMarks.Of(s)))
            .Where(s => s.Marks.ReleasedForDeletion)
            .ToList();
        foreach (var (secret, marks) in released)
        {
            var decision = KeyCustodyDecisions.MaterialDestruction(marks, accountId, session.Region, now, answer: null);
            if (decision.Fate == MaterialFate.AskAws)
            {
                var answer = KmsKeyAnswer.Exists;
                try
                {
                    // By ARN: the key's own account and region, never a look-alike id elsewhere.
                    await session.CallAsync("DescribeKey", (kms, ct) => kms.DescribeKeyAsync(new DescribeKeyRequest { KeyId = marks.KmsKeyArn }, ct), cancellationToken).ConfigureAwait(false);
                }
                catch (NotFoundException)
                {
                    answer = KmsKeyAnswer.NotFound;
                }

                decision = KeyCustodyDecisions.MaterialDestruction(marks, accountId, session.Region, now, answer);
            }

            if (decision.Fate != MaterialFate.Destroy)
            {
                if (decision.Warn)
                {
                    await events.WarningAsync(keySet, Reasons.KeyMaterialKept, $"Kept key material Secret {secret.Metadata.Name}: {decision.Why}", cancellationToken).ConfigureAwait(false);
                }

                continue;
            }

            var keyId = marks.KmsKeyArn!;
            if (!await DestroyHsmObjectsAsync(keySet, secret, keyId, cancellationToken).ConfigureAwait(false))
            {
                continue;
            }

            if (await client.DestroyAsync(secret.Metadata.NamespaceProperty, secret.Metadata.Name, cancellationToken).ConfigureAwait(false))
            {
                KeySetController.Log.MaterialDestroyed(logger, secret.Metadata.NamespaceProperty, secret.Metadata.Name, keyId);
                await events.NormalAsync(keySet, Reasons.KeyMaterialDestroyed, $"Destroyed key material Secret {secret.Metadata.Name}: {decision.Why}", cancellationToken).ConfigureAwait(false);
            }
        }

        return KeyCustodyDecisions.UntilReleasedMaterialDue(released.Select(r => r.Marks), accountId, session.Region, now);
    }

    /// <summary>
    /// For material on the PKCS#11 backend: destroys the key's version objects in its Vault's HSM. True when the Secret
    /// may go (software material, or the objects are gone); false (with a Warning Event) while the HSM cannot be used.
    /// </summary>
    private async Task<bool> DestroyHsmObjectsAsync(V1Alpha1KeySet keySet, V1Secret secret, string kmsKeyId, CancellationToken cancellationToken)
    {
        if (!KeyMaterialSecret.TryRead(secret, out var xksKeyId, out _, out var backend, out _) || backend != KeyMaterialSecret.Pkcs11Backend)
        {
            return true;
        }

        var vaultName = secret.Metadata.Label(VaultLabels.VaultLabel) ?? keySet.Spec.VaultRef.Name;
        try
        {
            if (!vaults.TryGet(new(secret.Metadata.NamespaceProperty, vaultName), out var vault)
                || await HsmTarget.ForVaultAsync(client, vault, cancellationToken).ConfigureAwait(false) is not { } target)
            {
                throw new HsmException(HsmException.HsmUnavailable, $"Vault {vaultName} is gone or no longer on the PKCS#11 backend");
            }

            var destroyed = hsm.DestroyKey(target, xksKeyId);
            await events.NormalAsync(keySet, Reasons.KeyMaterialDestroyed, $"Destroyed {destroyed} version object(s) of key {xksKeyId} in Vault {vaultName}'s HSM: KMS key {kmsKeyId} has been deleted by AWS", cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (HsmException ex)
        {
            await events.WarningAsync(keySet, ex.Reason, $"KMS key {kmsKeyId} has been deleted by AWS, but the HSM objects of key {xksKeyId} cannot be destroyed yet (Secret {secret.Metadata.Name} is kept until they are): {ex.Message}", cancellationToken).ConfigureAwait(false);
            return false;
        }
    }
}
