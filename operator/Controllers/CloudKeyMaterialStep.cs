using k8s;
using k8s.Models;
using Xks.Contracts.KeyCustody;
using Xks.Contracts.KeyWrap;
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
        if (secret is null)
        {
            // PKCS#11: in the HSM first, then recorded: a crash in between leaves an object the retry adopts (same label).
            var keyId = CloudKeyNames.XksKeyId(key);
            if (await MintAsync(vault, backend, keyId, 1, now, cancellationToken).ConfigureAwait(false) is not { } first)
            {
                return null;
            }

            secret = Label(KeyMaterialSecret.Build(key, vault.Metadata.Name, keyId, [first.Version], backend.Name), keySet, KeyMaterialMarks.None with { HandledRotationRequest = RotationRequest(key) });
            secret = await client.CoreV1.CreateNamespacedSecretAsync(secret, ns, fieldManager: ServerSideApply.FieldManager, cancellationToken: cancellationToken).ConfigureAwait(false);
            CloudKeyController.Log.MaterialCreated(logger, ns, key.Metadata.Name, keyId);
            await events.NormalAsync(key, Reasons.KeyMaterialCreated, $"Generated key {keyId} version 1 {first.Where}; Secret {name} records it", cancellationToken).ConfigureAwait(false);
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
        var refusal = CloudKeyOwnershipDecisions.MaterialRefusal(new KeyMaterialClaim(
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
        // The CloudKey's own rotation, else its KeySet's spec.defaults.rotation.
        var due = CloudKeySettingsDecisions.NextRotation(CloudKeySettingsDecisions.EffectiveRotation(key, keySet), current.CreatedAt) is { } nextRotation && now >= nextRotation;
        if (requested || due)
        {
            var next = current.Version + 1;
            try
            {
                var made = await MintAsync(vault, backend, id, next, now, cancellationToken).ConfigureAwait(false)
                    ?? throw new ChildConflictException($"Vault {vault.Metadata.Name}'s master key Secret is missing; cannot add a key version");
                (secret, versions) = await AddVersionAsync(key, keySet, vault, secret, id, versions, made.Version, backend.Name, request, cancellationToken).ConfigureAwait(false);
                CloudKeyController.Log.KeyRotated(logger, ns, key.Metadata.Name, id, next);
                await events.NormalAsync(key, Reasons.KeyRotated, $"Added key version {next} of {id} {made.Where} ({(requested ? "requested by annotation" : "scheduled")}); new encryptions use it, older versions still decrypt", cancellationToken).ConfigureAwait(false);
            }
            catch (HsmException ex)
            {
                await events.WarningAsync(key, ex.Reason, $"key version {next} of {id} cannot be generated yet: {ex.Message}", cancellationToken).ConfigureAwait(false);
                return new CloudKeyMaterial(id, versions, secret) { Deferred = (ex.Reason, $"rotation to key version {next} waits for the HSM (version {current.Version} keeps serving): {ex.Message}") };
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

    /// <summary>
    /// A new version <paramref name="version"/> of <paramref name="keyId"/> where the Vault's root of trust lives: generated
    /// inside the HSM (PKCS#11), generated and sealed inside the HSM under the root key (HsmSealed: the operator never
    /// sees it), or drawn here and wrapped under the master key (Plaintext; null while the master key does not exist).
    /// </summary>
    /// <exception cref="HsmException">The HSM cannot be used.</exception>
    private async Task<MintedVersion?> MintAsync(V1Alpha1Vault vault, ProxyBackendModel backend, string keyId, int version, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (backend.IsPkcs11 || backend.Sealing is not null)
        {
            var target = (await HsmTarget.ForVaultAsync(client, vault, cancellationToken).ConfigureAwait(false))!;
            if (backend.Sealing is { } sealing)
            {
                var root = RootKeyStep.CurrentRoot(hsm, target, sealing);
                var sealedBlob = hsm.SealNewVersion(target, sealing.RootLabelPrefix, root, keyId, version);
                return new MintedVersion(new ProxyKeyVersionModel(version, Convert.ToBase64String(sealedBlob), now),
                    $"inside Vault {vault.Metadata.Name}'s HSM, sealed there under root key {sealing.RootLabelPrefix}/r{root} (the operator never held it)");
            }

            var made = hsm.EnsureVersion(target, keyId, version, canEncrypt: true, canDecrypt: true);
            return new MintedVersion(ProxyKeyVersionModel.InHsm(version, now), $"inside Vault {vault.Metadata.Name}'s HSM (object {made.Label}, AES-256, sensitive, not extractable)");
        }

        if (backend.IsShamir)
        {
            // A derivation salt under the current root: the key exists only where the root is, in unsealed proxies.
            var keyring = await KeyringAsync(vault, cancellationToken).ConfigureAwait(false);
            if (keyring is null)
            {
                return null;
            }

            return new MintedVersion(new ProxyKeyVersionModel(version, Convert.ToBase64String(DerivedKey.Create(keyring.CurrentRoot)), now),
                $"in Vault {vault.Metadata.Name}, derived from its root key version {keyring.CurrentRoot} (the operator recorded a random salt; the key itself exists only in unsealed proxies)");
        }

        var masterKey = await MasterKeyAsync(vault, cancellationToken).ConfigureAwait(false);
        if (masterKey is null)
        {
            return null;
        }

        try
        {
            return new MintedVersion(KeyMaterial.Wrap(masterKey, keyId, version, now), $"in Vault {vault.Metadata.Name}, wrapped by its master key");
        }
        finally
        {
            Array.Clear(masterKey);
        }
    }

    private sealed record MintedVersion(ProxyKeyVersionModel Version, string Where);

    /// <summary>A Shamir Vault's keyring (sealed roots), or null while the custodians have not made a usable one.</summary>
    private async Task<ShamirKeyring?> KeyringAsync(V1Alpha1Vault vault, CancellationToken cancellationToken)
    {
        var secret = await client.ReadSecretOrNullAsync(vault.Metadata.NamespaceProperty, VaultNames.KeyringSecret(vault), cancellationToken).ConfigureAwait(false);
        var text = secret?.Data?.TryGetValue(ProxyLayout.KeyringKey, out var bytes) == true ? System.Text.Encoding.UTF8.GetString(bytes) : null;
        return KeyCustodyDecisions.KeyringProblem(text, VaultNames.ShamirVaultId(vault)) is null ? ShamirKeyring.Parse(text!) : null;
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
