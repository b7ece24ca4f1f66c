using k8s;
using k8s.Models;
using Xks.Operator.Api;
using Xks.Operator.Entities;
using Xks.Operator.Hsm;
using Xks.Operator.Resources;

namespace Xks.Operator.Controllers;

/// <summary>
/// The key-material step of a CloudKey: its Secret created with version 1 (wrapped by the Vault's master key, or
/// generated in the Vault's HSM first and recorded second), a version added when rotation is due, and the annotations
/// the KeySet and Vault reconcilers read (see <see cref="CloudKeyNames"/>). Always reads the Secret from the API
/// server: acting on a stale copy could mint a second version.
/// </summary>
internal sealed class CloudKeyMaterialStep(IKubernetes client, EventRecorder events, IHsmKeys hsm, ILogger logger)
{
    /// <summary>
    /// The key's material Secret: created with version 1 (wrapped by the Vault's master key, or generated in the Vault's
    /// HSM), a version added when rotation is due (schedule or the rotate-key annotation). Null while the master key
    /// does not exist yet.
    /// </summary>
    /// <exception cref="HsmException">The HSM cannot be used to create the first version.</exception>
    public async Task<CloudKeyMaterial?> EnsureAsync(V1Alpha1CloudKey key, V1Alpha1KeySet keySet, V1Alpha1Vault vault, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var ns = key.Metadata.NamespaceProperty;
        var name = KeyMaterialSecret.Name(key);
        var backend = ProxyBackendModel.ForVault(vault);
        var secret = await client.ReadSecretOrNullAsync(ns, name, cancellationToken).ConfigureAwait(false);
        if (secret is null && backend.IsPkcs11)
        {
            // In the HSM first, then recorded: a crash in between leaves an object the retry adopts (same label).
            var keyId = CloudKeyNames.XksKeyId(key);
            var target = await HsmTarget.ForVaultAsync(client, vault, cancellationToken).ConfigureAwait(false);
            var version = hsm.EnsureVersion(target!, keyId, 1, canEncrypt: true, canDecrypt: true);
            secret = Label(KeyMaterialSecret.Build(key, vault.Metadata.Name, keyId, [ProxyKeyVersionModel.InHsm(1, now)], backend.Name), keySet, KeyMaterialMarks.None with { HandledRotationRequest = RotationRequest(key) });
            secret = await client.CoreV1.CreateNamespacedSecretAsync(secret, ns, fieldManager: ServerSideApply.FieldManager, cancellationToken: cancellationToken).ConfigureAwait(false);
            CloudKeyController.Log.MaterialCreated(logger, ns, key.Metadata.Name, keyId);
            await events.NormalAsync(key, Reasons.KeyMaterialCreated, $"Generated key {keyId} version 1 inside Vault {vault.Metadata.Name}'s HSM (object {version.Label}, AES-256, sensitive, not extractable); Secret {name} records the version", cancellationToken).ConfigureAwait(false);
        }
        else if (secret is null)
        {
            var masterKey = await MasterKeyAsync(vault, cancellationToken).ConfigureAwait(false);
            if (masterKey is null)
            {
                return null;
            }

            var keyId = CloudKeyNames.XksKeyId(key);
            try
            {
                var first = KeyMaterial.Wrap(masterKey, keyId, 1, now);
                secret = Label(KeyMaterialSecret.Build(key, vault.Metadata.Name, keyId, [first]), keySet, KeyMaterialMarks.None with { HandledRotationRequest = RotationRequest(key) });
                secret = await client.CoreV1.CreateNamespacedSecretAsync(secret, ns, fieldManager: ServerSideApply.FieldManager, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                Array.Clear(masterKey);
            }

            CloudKeyController.Log.MaterialCreated(logger, ns, key.Metadata.Name, keyId);
            await events.NormalAsync(key, Reasons.KeyMaterialCreated, $"Generated key material {keyId} version 1 in Vault {vault.Metadata.Name} (Secret {name}, wrapped by the Vault's master key)", cancellationToken).ConfigureAwait(false);
        }

        secret = await client.ProtectAsync(secret, cancellationToken).ConfigureAwait(false);
        if (secret.Metadata.DeletionTimestamp is not null)
        {
            await events.WarningAsync(key, Reasons.KeyMaterialDeletionBlocked, $"Secret {name} was deleted, but {(KeyMaterialMarks.Of(secret).KmsKeyId is { } kmsKeyId ? $"KMS key {kmsKeyId}" : "this CloudKey")} needs its key material: it stays (finalizer {KeyCustody.Finalizer}) and keeps being served (docs/key-custody.md)", cancellationToken).ConfigureAwait(false);
        }

        if (!KeyMaterialSecret.TryRead(secret, out var id, out var versions, out var materialBackend, out var problem))
        {
            throw new ChildConflictException($"key material Secret {name} is unreadable ({problem}); it is left untouched — restore it from backup");
        }

        var marks = KeyMaterialMarks.Of(secret);
        var refusal = CloudKeyDecisions.MaterialRefusal(new KeyMaterialClaim(
            name, materialBackend, backend.Name, vault.Metadata.Name, secret.Metadata.Label(KeySetCredentialSecret.KeySetLabel), keySet.Metadata.Name,
            id, CloudKeyNames.XksKeyId(key), marks.KmsKeyId, key.Spec.Adopt?.KeyId));
        if (refusal is not null)
        {
            throw new ChildConflictException(refusal);
        }

        if (id != CloudKeyNames.XksKeyId(key) && marks.Released is not null)
        {
            // Adopted material of an earlier CloudKey is no longer released.
            await MarkAsync(key, marks, marks with { Released = null }, cancellationToken).ConfigureAwait(false);
        }

        var request = RotationRequest(key);
        var requested = request is not null && request != marks.HandledRotationRequest;
        var current = versions.MaxBy(v => v.Version)!;
        var due = GoDuration.TryParse(key.Spec.Rotation?.Every, out var every) && now - current.CreatedAt >= every;
        if ((requested || due) && backend.IsPkcs11)
        {
            var next = current.Version + 1;
            try
            {
                var target = await HsmTarget.ForVaultAsync(client, vault, cancellationToken).ConfigureAwait(false);
                var made = hsm.EnsureVersion(target!, id, next, canEncrypt: true, canDecrypt: true);
                (secret, versions) = await AddVersionAsync(key, keySet, vault, secret, id, versions, ProxyKeyVersionModel.InHsm(next, now), backend.Name, request, cancellationToken).ConfigureAwait(false);
                CloudKeyController.Log.KeyRotated(logger, ns, key.Metadata.Name, id, next);
                await events.NormalAsync(key, Reasons.KeyRotated, $"Added key version {next} of {id} inside the HSM (object {made.Label}; {(requested ? "requested by annotation" : "scheduled")}); new encryptions use it, older versions still decrypt", cancellationToken).ConfigureAwait(false);
            }
            catch (HsmException ex)
            {
                await events.WarningAsync(key, ex.Reason, $"key version {next} of {id} cannot be generated yet: {ex.Message}", cancellationToken).ConfigureAwait(false);
                return new CloudKeyMaterial(id, versions, secret) { Deferred = (ex.Reason, $"rotation to key version {next} waits for the HSM (version {current.Version} keeps serving): {ex.Message}") };
            }
        }
        else if (requested || due)
        {
            var masterKey = await MasterKeyAsync(vault, cancellationToken).ConfigureAwait(false)
                ?? throw new ChildConflictException($"Vault {vault.Metadata.Name}'s master key Secret is missing; cannot add a key version");
            try
            {
                var next = KeyMaterial.Wrap(masterKey, id, current.Version + 1, now);
                (secret, versions) = await AddVersionAsync(key, keySet, vault, secret, id, versions, next, backend.Name, request, cancellationToken).ConfigureAwait(false);
                CloudKeyController.Log.KeyRotated(logger, ns, key.Metadata.Name, id, next.Version);
                await events.NormalAsync(key, Reasons.KeyRotated, $"Added key version {next.Version} of {id} ({(requested ? "requested by annotation" : "scheduled")}); new encryptions use it, older versions still decrypt", cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                Array.Clear(masterKey);
            }
        }

        return new CloudKeyMaterial(id, versions, secret);
    }

    /// <summary>Replaces the material Secret with one more version (optimistic concurrency on its resourceVersion).</summary>
    private async Task<(V1Secret Secret, IReadOnlyList<ProxyKeyVersionModel> Versions)> AddVersionAsync(V1Alpha1CloudKey key, V1Alpha1KeySet keySet, V1Alpha1Vault vault, V1Secret secret, string id, IReadOnlyList<ProxyKeyVersionModel> versions, ProxyKeyVersionModel next, string backend, string? request, CancellationToken cancellationToken)
    {
        // The marks carry over, with this request handled; so does anything else someone annotated.
        var updated = KeyMaterialSecret.Build(key, vault.Metadata.Name, id, [.. versions, next], backend);
        updated.Metadata.Annotations ??= new Dictionary<string, string>();
        foreach (var (k, v) in (secret.Metadata.Annotations ?? new Dictionary<string, string>()).Where(a => a.Key != KeyMaterialMarks.HandledRotationRequestAnnotation))
        {
            updated.Metadata.Annotations[k] = v;
        }

        updated = Label(updated, keySet, KeyMaterialMarks.Of(secret) with { HandledRotationRequest = request });

        updated.Metadata.ResourceVersion = secret.Metadata.ResourceVersion;
        var stored = await client.CoreV1.ReplaceNamespacedSecretAsync(updated, secret.Metadata.Name, secret.Metadata.NamespaceProperty, fieldManager: ServerSideApply.FieldManager, cancellationToken: cancellationToken).ConfigureAwait(false);
        return (stored, [.. versions, next]);
    }

    /// <summary>Moves the marks of the key's material Secret from <paramref name="from"/> to <paramref name="to"/> with one merge patch (none when equal).</summary>
    public async Task MarkAsync(V1Alpha1CloudKey key, KeyMaterialMarks from, KeyMaterialMarks to, CancellationToken cancellationToken)
    {
        var changes = KeyMaterialMarks.Changes(from, to);
        if (changes.Count == 0)
        {
            return;
        }

        var patch = new { metadata = new { annotations = changes } };
        await client.CoreV1.PatchNamespacedSecretAsync(new V1Patch(patch, V1Patch.PatchType.MergePatch), KeyMaterialSecret.Name(key), key.Metadata.NamespaceProperty,
            fieldManager: ServerSideApply.FieldManager, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    private async Task<byte[]?> MasterKeyAsync(V1Alpha1Vault vault, CancellationToken cancellationToken)
    {
        var secret = await client.ReadSecretOrNullAsync(vault.Metadata.NamespaceProperty, VaultNames.MasterKeySecret(vault), cancellationToken).ConfigureAwait(false);
        return secret?.Data?.TryGetValue(ProxyLayout.MasterKeyKey, out var bytes) == true && bytes.Length == ProxyLayout.MasterKeyLength ? bytes : null;
    }

    private static V1Secret Label(V1Secret secret, V1Alpha1KeySet keySet, KeyMaterialMarks marks)
    {
        secret.Metadata.Labels ??= new Dictionary<string, string>();
        secret.Metadata.Labels[KeySetCredentialSecret.KeySetLabel] = keySet.Metadata.Name;
        secret.Metadata.Annotations ??= new Dictionary<string, string>();
        foreach (var (name, value) in marks.Annotations())
        {
            secret.Metadata.Annotations[name] = value;
        }

        return secret;
    }

    private static string? RotationRequest(V1Alpha1CloudKey key) =>
        key.Metadata.Annotation(CloudKeyNames.RotateKeyAnnotation) is { Length: > 0 } value ? value : null;
}

/// <summary>A CloudKey's key material as recorded in its Secret: the external key ID, its versions, the Secret itself.</summary>
internal sealed record CloudKeyMaterial(string KeyId, IReadOnlyList<ProxyKeyVersionModel> Versions, V1Secret Secret)
{
    /// <summary>A due rotation the HSM could not make yet: the Ready reason and message while it waits.</summary>
    public (string Reason, string Message)? Deferred { get; init; }
}
