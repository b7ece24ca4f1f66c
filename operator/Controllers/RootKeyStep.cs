using k8s;
using k8s.Models;
using Xks.Contracts.KeyWrap;
using Xks.Operator.Api;
using Xks.Operator.Entities;
using Xks.Operator.Hsm;
using Xks.Operator.Resources;

namespace Xks.Operator.Controllers;

/// <summary>
/// The root key of a HsmSealed Vault, carried out: reads the token's root versions, the roots the Vault's sealed key
/// versions name and the rotation annotations, asks <see cref="RootKeyDecisions.Plan"/>, and does the one step it
/// says — make a root, mark and start a rotation, reseal key versions inside the HSM (one Secret replace each, with
/// optimistic concurrency), or destroy a retired root. The operator never holds key material: resealing happens in the
/// token (<see cref="IHsmKeys.Reseal"/>).
/// </summary>
internal sealed class RootKeyStep(IKubernetes client, EventRecorder events, IHsmKeys hsm, TimeProvider time)
{
    /// <summary>Reconciles the root key; the outcome says what the Vault's HsmAvailable and Ready report.</summary>
    /// <exception cref="HsmException">The HSM cannot be used.</exception>
    public async Task<RootKeyOutcome> ReconcileAsync(V1Alpha1Vault vault, ProxySealingModel sealing, HsmTarget target, CancellationToken cancellationToken)
    {
        var prefix = sealing.RootLabelPrefix;
        var material = await SealedMaterialAsync(vault, cancellationToken).ConfigureAwait(false);
        var inUse = material.SelectMany(m => m.Versions).Select(v => v.Root).Distinct().Order().ToList();
        var request = vault.Metadata.Annotation(RootKeyDecisions.RequestAnnotation);
        var marker = RootKeyDecisions.ParseMarker(vault.Metadata.Annotation(RootKeyDecisions.MarkerAnnotation));
        var now = time.GetUtcNow();
        var plan = RootKeyDecisions.Plan(new RootKeyState(request, marker, hsm.RootVersions(target, prefix), inUse, now));
        switch (plan.Action)
        {
            case RootKeyAction.Refuse:
                await events.WarningAsync(vault, plan.Reason!, plan.Message, cancellationToken).ConfigureAwait(false);
                return new RootKeyOutcome(plan, Problem: (plan.Reason!, plan.Message));

            case RootKeyAction.CreateRoot:
                hsm.EnsureRoot(target, prefix, plan.Target);
                break;

            case RootKeyAction.StartRotation:
                // The marker first: a crash after it makes this same root, never a second rotation for one request.
                await MarkAsync(vault, RootKeyDecisions.Marker(plan.Target, now, request!), cancellationToken).ConfigureAwait(false);
                hsm.EnsureRoot(target, prefix, plan.Target);
                await events.NormalAsync(vault, Reasons.RootKeyRotationStarted, $"Made root version {plan.Target} ({prefix}/r{plan.Target}) in the HSM; new key versions are sealed under it and every existing one is resealed under it inside the HSM", cancellationToken).ConfigureAwait(false);
                return new RootKeyOutcome(plan, Requeue: TimeSpan.Zero);

            case RootKeyAction.Reseal:
                var resealed = 0;
                foreach (var item in material.Where(m => m.Versions.Any(v => v.Root < plan.Target)))
                {
                    resealed += await ResealAsync(item, prefix, plan.Target, target, cancellationToken).ConfigureAwait(false);
                }

                await events.NormalAsync(vault, Reasons.KeyVersionsResealed, $"Resealed {resealed} key version(s) under root version {plan.Target} inside the HSM (they named root version {string.Join(", ", plan.Versions)}); the proxy serves the same keys throughout", cancellationToken).ConfigureAwait(false);
                return new RootKeyOutcome(plan, Requeue: RootKeyDecisions.RetirementGrace);

            case RootKeyAction.Wait:
                return new RootKeyOutcome(plan, Requeue: plan.WaitFor);

            case RootKeyAction.DestroyRoots:
                foreach (var version in plan.Versions)
                {
                    hsm.DestroyRoot(target, prefix, version);
                }

                await events.WarningAsync(vault, Reasons.RootKeyDestroyed, $"Destroyed root version {string.Join(", ", plan.Versions)} in the HSM: every key version is sealed under root version {plan.Target}. Backups taken before the rotation name the destroyed root and can no longer be restored: take a new backup now (docs/key-custody.md)", cancellationToken).ConfigureAwait(false);
                break;
        }

        return new RootKeyOutcome(plan);
    }

    /// <summary>The root version new key versions of a HsmSealed Vault are sealed under: the newest the token holds.</summary>
    /// <exception cref="HsmException">The HSM cannot be used, or holds no root (RootKeyMissing).</exception>
    public static int CurrentRoot(IHsmKeys hsm, HsmTarget target, ProxySealingModel sealing)
    {
        var roots = hsm.RootVersions(target, sealing.RootLabelPrefix);
        return roots.Count > 0
            ? roots.Max()
            : throw new HsmException(HsmException.RootKeyMissing, $"the token holds no root key {sealing.RootLabelPrefix}/r*; the Vault makes it first");
    }

    private async Task<int> ResealAsync(SealedMaterial item, string prefix, int toRoot, HsmTarget target, CancellationToken cancellationToken)
    {
        var count = 0;
        var versions = item.Versions.Select(v =>
        {
            if (v.Root >= toRoot)
            {
                return v.Model;
            }

            count++;
            var blob = hsm.Reseal(target, prefix, item.KeyId, v.Model.Version, Convert.FromBase64String(v.Model.WrappedMaterial!), toRoot);
            return v.Model with { WrappedMaterial = Convert.ToBase64String(blob) };
        }).ToList();

        // Optimistic concurrency: a version added meanwhile makes this fail (409), and the next reconcile reseals again.
        await client.CoreV1.ReplaceNamespacedSecretAsync(KeyMaterialSecret.WithVersions(item.Secret, versions), item.Secret.Metadata.Name, item.Secret.Metadata.NamespaceProperty,
            fieldManager: ServerSideApply.FieldManager, cancellationToken: cancellationToken).ConfigureAwait(false);
        return count;
    }

    private async Task MarkAsync(V1Alpha1Vault vault, string marker, CancellationToken cancellationToken)
    {
        var patch = new { metadata = new { annotations = new Dictionary<string, string> { [RootKeyDecisions.MarkerAnnotation] = marker } } };
        await client.CustomObjects.PatchNamespacedCustomObjectAsync(new V1Patch(patch, V1Patch.PatchType.MergePatch), "xks.dev", "v1alpha1", vault.Metadata.NamespaceProperty,
            "vaults", vault.Metadata.Name, fieldManager: ServerSideApply.FieldManager, cancellationToken: cancellationToken).ConfigureAwait(false);
        vault.Metadata.Annotations ??= new Dictionary<string, string>();
        vault.Metadata.Annotations[RootKeyDecisions.MarkerAnnotation] = marker;
    }

    /// <summary>The Vault's sealed key-material Secrets, read from the API server (never a stale cache: they are rewritten).</summary>
    private async Task<List<SealedMaterial>> SealedMaterialAsync(V1Alpha1Vault vault, CancellationToken cancellationToken)
    {
        var list = await client.CoreV1.ListNamespacedSecretAsync(
            vault.Metadata.NamespaceProperty, labelSelector: $"{VaultLabels.VaultLabel}={vault.Metadata.Name},{VaultLabels.XksComponentLabel}={VaultLabels.KeyMaterialComponent}",
            cancellationToken: cancellationToken).ConfigureAwait(false);
        var found = new List<SealedMaterial>();
        foreach (var secret in list.Items)
        {
            if (KeyMaterialSecret.TryRead(secret, out var keyId, out var versions, out var backend, out _) && backend == KeyMaterialSecret.HsmSealedBackend)
            {
                found.Add(new SealedMaterial(secret, keyId, [.. versions.Select(v => new SealedVersion(v, RootOf(v)))]));
            }
        }

        return found;
    }

    private static int RootOf(ProxyKeyVersionModel version) =>
        SealedKey.TryParse(Convert.FromBase64String(version.WrappedMaterial!), out var root, out _) ? root : 0;

    private sealed record SealedMaterial(V1Secret Secret, string KeyId, IReadOnlyList<SealedVersion> Versions);

    private sealed record SealedVersion(ProxyKeyVersionModel Model, int Root);
}

/// <summary>What the root-key step did: the plan, a problem for Ready, and when to look again.</summary>
internal sealed record RootKeyOutcome(RootKeyPlan Plan, (string Reason, string Message)? Problem = null, TimeSpan? Requeue = null);
