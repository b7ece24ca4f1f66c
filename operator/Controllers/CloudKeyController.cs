using System.Net;
using Amazon.KeyManagementService;
using Amazon.KeyManagementService.Model;
using Amazon.Runtime;
using k8s;
using k8s.Models;
using Xks.Operator.Api;
using Xks.Operator.Aws;
using Xks.Operator.Entities;
using Xks.Operator.Hsm;
using Xks.Operator.Options;
using Xks.Operator.Resources;
using Xks.Operator.Runtime;
using Xks.Operator.Runtime.Controllers;
using Xks.Operator.Runtime.Informers;

namespace Xks.Operator.Controllers;

/// <summary>
/// Converges one CloudKey: key material in its Vault (a wrapped version in a Secret the Vault renders into the proxy
/// config; rotation adds versions), then the KMS key in the KeySet's external key store — found by status, spec.adopt
/// or alias; a crash between CreateKey and the status write never makes a second key, because KMS allows one key per
/// external key ID (derived from the CloudKey's UID) and the refused retry finds the first by its UID tag — its alias, key policy and enabled state (the HYOK switch: the proxy refuses at once, the KMS key follows),
/// expiration, drift correction and deletion per deletionPolicy. Material is never destroyed here. With a Vault on
/// the PKCS#11 backend every version is generated inside the HSM first (an object that a crashed attempt left there
/// is adopted) and only then recorded in the Secret, as a version number without material.
/// </summary>
internal sealed partial class CloudKeyController(
    IKubernetes client,
    CustomResourceWriter writer,
    ReadyReporter ready,
    EventRecorder events,
    InformerFactory informers,
    AwsClients aws,
    IHsmKeys hsm,
    OperatorOptions options,
    TimeProvider timeProvider,
    ILogger<CloudKeyController> logger) : IReconciler<V1Alpha1CloudKey>, IControllerSetup<V1Alpha1CloudKey>
{
    public const string Finalizer = "xks.dev/kms-key";

    /// <summary>A change of its KeySet (connected, blocked, credential rotated) looks at every CloudKey of that KeySet again.</summary>
    public static void Setup(Controller<V1Alpha1CloudKey> cloudKeys, IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(cloudKeys);
        var keySets = cloudKeys.SharedInformer<V1Alpha1KeySet>();
        cloudKeys
            .Watches<V1Alpha1KeySet>(keySet => cloudKeys.Informer.List(keySet.Metadata.NamespaceProperty)
                .Where(k => k.Spec.KeySetRef.Name == keySet.Metadata.Name)
                .Select(k => new ResourceKey(k.Metadata.NamespaceProperty, k.Metadata.Name)))
            // The Vault's config or master key changed: its keys that are not Ready yet (waiting for the proxy to serve
            // them, or to refuse them before KMS disables them) look again at once instead of polling.
            .Watches<V1Secret>(secret => NotReadyKeysOfVault(secret, keySets.List, cloudKeys.Informer.List), VaultController.ChildSelector);
    }

    /// <summary>The CloudKeys not Ready whose KeySet is served by the Vault that <paramref name="secret"/> (by its vault label) belongs to.</summary>
    /// <param name="secret">A Secret of the operator's (config, master key, key material).</param>
    /// <param name="keySetsIn">The cached KeySets of a namespace.</param>
    /// <param name="cloudKeysIn">The cached CloudKeys of a namespace.</param>
    public static IEnumerable<ResourceKey> NotReadyKeysOfVault(
        V1Secret secret,
        Func<string, IEnumerable<V1Alpha1KeySet>> keySetsIn,
        Func<string, IEnumerable<V1Alpha1CloudKey>> cloudKeysIn)
    {
        ArgumentNullException.ThrowIfNull(secret);
        ArgumentNullException.ThrowIfNull(keySetsIn);
        ArgumentNullException.ThrowIfNull(cloudKeysIn);
        if (secret.Metadata?.Labels is not { } labels || !labels.TryGetValue(VaultLabels.VaultLabel, out var vault))
        {
            return [];
        }

        var ns = secret.Metadata.NamespaceProperty ?? "";
        var served = keySetsIn(ns).Where(k => k.Spec?.VaultRef?.Name == vault).Select(k => k.Metadata.Name).ToHashSet(StringComparer.Ordinal);
        return served.Count == 0
            ? []
            : cloudKeysIn(ns)
                .Where(k => served.Contains(k.Spec?.KeySetRef?.Name ?? "") && !Conditions.IsTrue(k.Status?.Conditions, ConditionTypes.Ready))
                .Select(ResourceKey.From)
                .ToList();
    }

    // Waits on the Vault (master key, config) end with the watch on its Secrets; this is only the safety net.
    private static readonly TimeSpan s_vaultSafetyNet = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan s_waitForDependency = TimeSpan.FromSeconds(5);
    private readonly ResourceInformer<V1Alpha1KeySet> _keySets = informers.GetInformer<V1Alpha1KeySet>();
    private readonly ResourceInformer<V1Secret> _operatorSecrets = informers.GetInformer<V1Secret>(VaultController.ChildSelector);
    private readonly ResourceInformer<V1Alpha1Vault> _vaults = informers.GetInformer<V1Alpha1Vault>();
    private readonly ResourceInformer<V1Alpha1CspAccount> _accounts = informers.GetInformer<V1Alpha1CspAccount>();

    public async Task<ReconcileResult> ReconcileAsync(V1Alpha1CloudKey key, CancellationToken cancellationToken)
    {
        try
        {
            return await ConvergeAsync(key, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (TransientFailure.Classify(ex, "the KeySet's CspAccount", cancellationToken.IsCancellationRequested) is { } failure)
        {
            return await ready.FailAsync<V1Alpha1CloudKey, V1Alpha1CloudKeyStatus>(key, failure, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<ReconcileResult> ConvergeAsync(V1Alpha1CloudKey key, CancellationToken cancellationToken)
    {
        if (key.Metadata.DeletionTimestamp is not null)
        {
            return await FinalizeAsync(key, cancellationToken).ConfigureAwait(false);
        }

        var problems = Validate(key);
        if (problems.Count > 0)
        {
            await ready.ReportAsync<V1Alpha1CloudKey, V1Alpha1CloudKeyStatus>(key, Reasons.InvalidSpec, string.Join("; ", problems), cancellationToken).ConfigureAwait(false);
            return ReconcileResult.Done;
        }

        var ns = key.Metadata.NamespaceProperty;
        if (!_keySets.TryGet(new(ns, key.Spec.KeySetRef.Name), out var keySet))
        {
            await ready.ReportAsync<V1Alpha1CloudKey, V1Alpha1CloudKeyStatus>(key, Reasons.KeySetNotFound, $"KeySet {key.Spec.KeySetRef.Name} does not exist in namespace {ns}", cancellationToken).ConfigureAwait(false);
            return ReconcileResult.After(s_waitForDependency);
        }

        if (!_vaults.TryGet(new(ns, keySet.Spec.VaultRef.Name), out var vault))
        {
            await ready.ReportAsync<V1Alpha1CloudKey, V1Alpha1CloudKeyStatus>(key, Reasons.WaitingForKeySet, $"KeySet {keySet.Metadata.Name}'s Vault {keySet.Spec.VaultRef.Name} does not exist", cancellationToken).ConfigureAwait(false);
            return ReconcileResult.After(s_waitForDependency);
        }

        await writer.AddFinalizerAsync(key, Finalizer, cancellationToken).ConfigureAwait(false);
        var status = CustomResourceWriter.CopyOf(key.Status);
        status.ObservedGeneration = key.Metadata.Generation;
        var now = timeProvider.GetUtcNow();

        var material = await EnsureMaterialAsync(key, keySet, vault, now, cancellationToken).ConfigureAwait(false);
        if (material is null)
        {
            return await ready.WaitAsync(key, status, Reasons.WaitingForVault, $"waiting for Vault {vault.Metadata.Name}'s master key", s_vaultSafetyNet, cancellationToken).ConfigureAwait(false);
        }

        status.XksKeyId = material.KeyId;
        status.CurrentVersion = material.Versions.Max(v => v.Version).ToString(System.Globalization.CultureInfo.InvariantCulture);

        // KMS asks the proxy for the key's metadata at CreateKey: the Vault's config must serve it first.
        var served = _operatorSecrets.ServedProxyConfig(vault);
        if (!served.Keys.ContainsKey(material.KeyId))
        {
            return await ready.WaitAsync(key, status, Reasons.WaitingForVault, $"waiting for Vault {vault.Metadata.Name}'s proxy config to serve key {material.KeyId}", s_vaultSafetyNet, cancellationToken).ConfigureAwait(false);
        }

        if (keySet.Status?.CustomKeyStoreId is not { } storeId || !Conditions.IsTrue(keySet.Status.Conditions, ConditionTypes.Ready))
        {
            return await ready.WaitAsync(key, status, Reasons.WaitingForKeySet, $"waiting for KeySet {keySet.Metadata.Name}'s key store to be connected", s_waitForDependency, cancellationToken).ConfigureAwait(false);
        }

        if (!_accounts.TryGet(new(ns, keySet.Spec.CspAccountRef.Name), out var account) || account.Status?.AccountId is not { Length: > 0 } accountId)
        {
            return await ready.WaitAsync(key, status, Reasons.WaitingForCspAccount, $"waiting for CspAccount {keySet.Spec.CspAccountRef.Name} to report its account ID", s_waitForDependency, cancellationToken).ConfigureAwait(false);
        }

        var session = await aws.ForAccountAsync(account, KeySetNames.Region(keySet, account), cancellationToken).ConfigureAwait(false);
        var metadata = await FindOrCreateKeyAsync(key, status, storeId, material.KeyId, accountId, session, cancellationToken).ConfigureAwait(false);
        if (metadata is null)
        {
            var lost = $"KMS key {status.KeyId} no longer exists in AWS (deleted outside the operator); the key material is kept";
            await events.WarningAsync(key, Reasons.KeyNotFound, lost, cancellationToken).ConfigureAwait(false);
            return await ready.WaitAsync(key, status, Reasons.KeyNotFound, lost, options.AwsResyncPeriod, cancellationToken).ConfigureAwait(false);
        }

        if (material.Secret.Metadata.Annotation(CloudKeyNames.KmsKeyIdAnnotation) != metadata.KeyId)
        {
            await AnnotateMaterialAsync(key, CloudKeyNames.KmsKeyIdAnnotation, metadata.KeyId, cancellationToken).ConfigureAwait(false);
        }

        status.KeyId = metadata.KeyId;
        status.Arn = metadata.Arn;
        var drift = new List<string>();
        var expired = key.Spec.Expiration is { } expiration && now >= new DateTimeOffset(DateTime.SpecifyKind(expiration.At, DateTimeKind.Utc));
        // An expired key is refused by the proxy (the Vault renders it disabled) before KMS hears of it.
        if (expired && material.Secret.Metadata.Annotation(CloudKeyNames.ExpiredAnnotation) != "true")
        {
            await AnnotateMaterialAsync(key, CloudKeyNames.ExpiredAnnotation, "true", cancellationToken).ConfigureAwait(false);
        }
        var proxyRefuses = served.Keys.TryGetValue(material.KeyId, out var servedEnabled) && !servedEnabled;
        var state = await ConvergeStateAsync(key, status, metadata, expired, proxyRefuses, drift, session, cancellationToken).ConfigureAwait(false);
        status.KeyState = state.Value;
        if (CloudKeyDecisions.AwaitsProxyRefusal(state, key.Spec.Enabled, expired))
        {
            return await ready.WaitAsync(key, status, Reasons.Disabling, $"the proxy refuses external key {material.KeyId} once Vault {vault.Metadata.Name}'s config says so; KMS key {metadata.KeyId} is disabled right after", s_vaultSafetyNet, cancellationToken).ConfigureAwait(false);
        }

        status.Alias = await ConvergeAliasAsync(key, status, metadata.KeyId, drift, session, cancellationToken).ConfigureAwait(false);
        await ConvergePolicyAsync(key, metadata.KeyId, accountId, PartitionOf(metadata.Arn), session, cancellationToken).ConfigureAwait(false);

        var synced = CloudKeyDecisions.Synced(drift);
        ready.Set(key, status, ConditionTypes.Synced, synced.Status, synced.Reason, synced.Message);
        var verdict = CloudKeyDecisions.Ready(new CloudKeyReadyInputs(
            metadata.KeyId, status.Alias, storeId, material.KeyId, status.CurrentVersion, state, key.Spec.Enabled,
            expired ? key.Spec.Expiration!.At : null, material.Deferred));
        ready.Set(key, status, ConditionTypes.Ready, verdict.Status, verdict.Reason, verdict.Message);

        await ready.WriteAsync(key, status, cancellationToken).ConfigureAwait(false);
        var next = NextCheck(key, material, now);
        return ReconcileResult.After(material.Deferred is not null && next > TransientFailure.HsmRetry ? TransientFailure.HsmRetry : next);
    }

    /// <summary>
    /// The key's material Secret: created with version 1 (wrapped by the Vault's master key, or generated in the Vault's
    /// HSM), a version added when rotation is due (schedule or the rotate-key annotation). Null while the master key
    /// does not exist yet.
    /// </summary>
    /// <exception cref="HsmException">The HSM cannot be used to create the first version.</exception>
    private async Task<MaterialState?> EnsureMaterialAsync(V1Alpha1CloudKey key, V1Alpha1KeySet keySet, V1Alpha1Vault vault, DateTimeOffset now, CancellationToken cancellationToken)
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
            secret = Label(KeyMaterialSecret.Build(key, vault.Metadata.Name, keyId, [ProxyKeyVersionModel.InHsm(1, now)], backend.Name), keySet, RotationRequest(key));
            secret = await client.CoreV1.CreateNamespacedSecretAsync(secret, ns, fieldManager: ServerSideApply.FieldManager, cancellationToken: cancellationToken).ConfigureAwait(false);
            Log.MaterialCreated(logger, ns, key.Metadata.Name, keyId);
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
                secret = Label(KeyMaterialSecret.Build(key, vault.Metadata.Name, keyId, [first]), keySet, RotationRequest(key));
                secret = await client.CoreV1.CreateNamespacedSecretAsync(secret, ns, fieldManager: ServerSideApply.FieldManager, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                Array.Clear(masterKey);
            }

            Log.MaterialCreated(logger, ns, key.Metadata.Name, keyId);
            await events.NormalAsync(key, Reasons.KeyMaterialCreated, $"Generated key material {keyId} version 1 in Vault {vault.Metadata.Name} (Secret {name}, wrapped by the Vault's master key)", cancellationToken).ConfigureAwait(false);
        }

        if (!KeyMaterialSecret.TryRead(secret, out var id, out var versions, out var materialBackend, out var problem))
        {
            throw new ChildConflictException($"key material Secret {name} is unreadable ({problem}); it is left untouched — restore it from backup");
        }

        var refusal = CloudKeyDecisions.MaterialRefusal(new KeyMaterialClaim(
            name, materialBackend, backend.Name, vault.Metadata.Name, secret.Metadata.Label(KeySetCredentialSecret.KeySetLabel), keySet.Metadata.Name,
            id, CloudKeyNames.XksKeyId(key), secret.Metadata.Annotation(CloudKeyNames.KmsKeyIdAnnotation), key.Spec.Adopt?.KeyId));
        if (refusal is not null)
        {
            throw new ChildConflictException(refusal);
        }

        if (id != CloudKeyNames.XksKeyId(key) && secret.Metadata.Annotation(CloudKeyNames.ReleasedAnnotation) is not null)
        {
            // Adopted material of an earlier CloudKey is no longer released.
            await AnnotateMaterialAsync(key, CloudKeyNames.ReleasedAnnotation, null, cancellationToken).ConfigureAwait(false);
        }

        var request = RotationRequest(key);
        var requested = request is not null && request != secret.Metadata.Annotation(CloudKeyNames.HandledRotationRequestAnnotation);
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
                Log.KeyRotated(logger, ns, key.Metadata.Name, id, next);
                await events.NormalAsync(key, Reasons.KeyRotated, $"Added key version {next} of {id} inside the HSM (object {made.Label}; {(requested ? "requested by annotation" : "scheduled")}); new encryptions use it, older versions still decrypt", cancellationToken).ConfigureAwait(false);
            }
            catch (HsmException ex)
            {
                await events.WarningAsync(key, ex.Reason, $"key version {next} of {id} cannot be generated yet: {ex.Message}", cancellationToken).ConfigureAwait(false);
                return new MaterialState(id, versions, secret) { Deferred = (ex.Reason, $"rotation to key version {next} waits for the HSM (version {current.Version} keeps serving): {ex.Message}") };
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
                Log.KeyRotated(logger, ns, key.Metadata.Name, id, next.Version);
                await events.NormalAsync(key, Reasons.KeyRotated, $"Added key version {next.Version} of {id} ({(requested ? "requested by annotation" : "scheduled")}); new encryptions use it, older versions still decrypt", cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                Array.Clear(masterKey);
            }
        }

        return new MaterialState(id, versions, secret);
    }

    /// <summary>Replaces the material Secret with one more version (optimistic concurrency on its resourceVersion).</summary>
    private async Task<(V1Secret Secret, IReadOnlyList<ProxyKeyVersionModel> Versions)> AddVersionAsync(V1Alpha1CloudKey key, V1Alpha1KeySet keySet, V1Alpha1Vault vault, V1Secret secret, string id, IReadOnlyList<ProxyKeyVersionModel> versions, ProxyKeyVersionModel next, string backend, string? request, CancellationToken cancellationToken)
    {
        var updated = Label(KeyMaterialSecret.Build(key, vault.Metadata.Name, id, [.. versions, next], backend), keySet, request);
        foreach (var (k, v) in (secret.Metadata.Annotations ?? new Dictionary<string, string>()).Where(a => a.Key != CloudKeyNames.HandledRotationRequestAnnotation))
        {
            updated.Metadata.Annotations![k] = v;
        }

        updated.Metadata.ResourceVersion = secret.Metadata.ResourceVersion;
        var stored = await client.CoreV1.ReplaceNamespacedSecretAsync(updated, secret.Metadata.Name, secret.Metadata.NamespaceProperty, fieldManager: ServerSideApply.FieldManager, cancellationToken: cancellationToken).ConfigureAwait(false);
        return (stored, [.. versions, next]);
    }

    /// <summary>Finds the KMS key (status, adopt, alias with our UID tag, then the UID tag) or creates it.</summary>
    private async Task<KeyMetadata?> FindOrCreateKeyAsync(V1Alpha1CloudKey key, V1Alpha1CloudKeyStatus status, string storeId, string xksKeyId, string accountId, AwsSession session, CancellationToken cancellationToken)
    {
        if (status.KeyId is { } known)
        {
            return await DescribeAsync(session, known, cancellationToken).ConfigureAwait(false);
        }

        if (key.Spec.Adopt?.KeyId is { } adopt)
        {
            var adopted = await DescribeAsync(session, adopt, cancellationToken).ConfigureAwait(false)
                ?? throw new ChildConflictException($"spec.adopt.keyId {adopt} does not exist in AWS KMS");
            if (CloudKeyDecisions.AdoptionRefusal(adopt, adopted.CustomKeyStoreId, adopted.XksKeyConfiguration?.Id, storeId, xksKeyId) is { } refused)
            {
                throw new ChildConflictException(refused);
            }

            await RecordKeyAsync(key, status, adopted, Reasons.Adopted, $"Adopted KMS key {adopted.KeyId} named in spec.adopt", cancellationToken).ConfigureAwait(false);
            return adopted;
        }

        // The alias is one call; it names our key unless a crash came between CreateKey and CreateAlias.
        if (CloudKeyNames.AliasName(key) is { } alias && await DescribeAsync(session, alias, cancellationToken).ConfigureAwait(false) is { } aliased
            && await IsOwnedAsync(key, aliased.KeyId, session, cancellationToken).ConfigureAwait(false))
        {
            await RecordKeyAsync(key, status, aliased, Reasons.Adopted, $"Found KMS key {aliased.KeyId} an earlier attempt created (its alias and its UID tag); adopted it", cancellationToken).ConfigureAwait(false);
            return aliased;
        }

        CreateKeyResponse created;
        try
        {
            created = await session.CallAsync("CreateKey", (kms, ct) => kms.CreateKeyAsync(new CreateKeyRequest
            {
                Origin = OriginType.EXTERNAL_KEY_STORE,
                CustomKeyStoreId = storeId,
                XksKeyId = xksKeyId,
                KeySpec = KeySpec.SYMMETRIC_DEFAULT,
                KeyUsage = KeyUsageType.ENCRYPT_DECRYPT,
                Description = key.Spec.Description ?? $"CloudKey {key.Metadata.NamespaceProperty}/{key.Metadata.Name} (xks-operator)",
                Policy = KeyPolicyBuilder.Build("aws", accountId, key.Spec.Administrators, key.Spec.Users),
                Tags = [.. CloudKeyNames.Tags(key).Select(t => new Tag { TagKey = t.Key, TagValue = t.Value })],
            }, ct), cancellationToken).ConfigureAwait(false);
        }
        catch (XksKeyAlreadyInUseException)
        {
            // KMS allows one key per external key in a store, and our external key ID is derived from this CloudKey's
            // UID: an earlier attempt created the key and crashed before recording it. Find it by its UID tag.
            var found = await FindTaggedKeyAsync(key, session, cancellationToken).ConfigureAwait(false)
                ?? throw new ChildConflictException($"external key {xksKeyId} is already used by a KMS key in key store {storeId} that is not tagged with this CloudKey's UID; adopt it with spec.adopt.keyId");
            await RecordKeyAsync(key, status, found, Reasons.Adopted, $"Found KMS key {found.KeyId} an earlier attempt created (tagged with this CloudKey's UID); adopted it", cancellationToken).ConfigureAwait(false);
            return found;
        }

        Log.KeyCreated(logger, key.Metadata.NamespaceProperty, key.Metadata.Name, created.KeyMetadata.KeyId, xksKeyId);
        await RecordKeyAsync(key, status, created.KeyMetadata, Reasons.Created, $"Created KMS key {created.KeyMetadata.KeyId} in key store {storeId} backed by external key {xksKeyId}", cancellationToken).ConfigureAwait(false);
        return created.KeyMetadata;
    }

    /// <summary>Records the key ID in status at once, so every later reconcile goes straight to it.</summary>
    private async Task RecordKeyAsync(V1Alpha1CloudKey key, V1Alpha1CloudKeyStatus status, KeyMetadata metadata, string reason, string message, CancellationToken cancellationToken)
    {
        status.KeyId = metadata.KeyId;
        status.Arn = metadata.Arn;
        status.KeyState = metadata.KeyState?.Value;
        await writer.WriteStatusAsync(key, CustomResourceWriter.CopyOf(status), cancellationToken).ConfigureAwait(false);
        await events.NormalAsync(key, reason, message, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The KMS key tagged with this CloudKey's UID, by listing the account's keys and their tags: only after KMS said our
    /// external key is already in use, so the scan runs once in a crash's aftermath, never on the normal path.
    /// </summary>
    private async Task<KeyMetadata?> FindTaggedKeyAsync(V1Alpha1CloudKey key, AwsSession session, CancellationToken cancellationToken)
    {
        string? marker = null;
        do
        {
            var page = await session.CallAsync("ListKeys", (kms, ct) => kms.ListKeysAsync(new ListKeysRequest { Marker = marker, Limit = 1000 }, ct), cancellationToken).ConfigureAwait(false);
            foreach (var entry in page.Keys ?? [])
            {
                if (await IsOwnedAsync(key, entry.KeyId, session, cancellationToken).ConfigureAwait(false))
                {
                    return await DescribeAsync(session, entry.KeyId, cancellationToken).ConfigureAwait(false);
                }
            }

            marker = page.Truncated == true ? page.NextMarker : null;
        }
        while (marker is not null);
        return null;
    }

    private async Task<bool> IsOwnedAsync(V1Alpha1CloudKey key, string keyId, AwsSession session, CancellationToken cancellationToken)
    {
        try
        {
            var tags = await session.CallAsync("ListResourceTags", (kms, ct) => kms.ListResourceTagsAsync(new ListResourceTagsRequest { KeyId = keyId }, ct), cancellationToken).ConfigureAwait(false);
            return (tags.Tags ?? []).Any(t => t.TagKey == CloudKeyNames.UidTag && t.TagValue == key.Metadata.Uid);
        }
        catch (Exception ex) when (ex is NotFoundException or AmazonServiceException { StatusCode: HttpStatusCode.BadRequest, ErrorCode: "AccessDeniedException" })
        {
            return false; // not ours to look at (e.g. an AWS managed key)
        }
    }

    /// <summary>Enabled/disabled as the spec and expiration ask; a change made in AWS by hand is reported and undone.</summary>
    private async Task<KeyState> ConvergeStateAsync(V1Alpha1CloudKey key, V1Alpha1CloudKeyStatus status, KeyMetadata metadata, bool expired, bool proxyRefuses, List<string> drift, AwsSession session, CancellationToken cancellationToken)
    {
        var state = metadata.KeyState;
        var keyId = metadata.KeyId;
        var scheduleDeletion = expired && key.Spec.Expiration!.Action == V1Alpha1ExpirationAction.ScheduleDeletion;
        if (state == KeyState.PendingDeletion)
        {
            if (scheduleDeletion)
            {
                return state;
            }

            // The CloudKey exists, so the key must too: undo a deletion scheduled by hand (the safe direction).
            await session.CallAsync("CancelKeyDeletion", (kms, ct) => kms.CancelKeyDeletionAsync(new CancelKeyDeletionRequest { KeyId = keyId }, ct), cancellationToken).ConfigureAwait(false);
            drift.Add("its deletion was scheduled in AWS; cancelled");
            await events.WarningAsync(key, Reasons.Drift, $"KMS key {keyId} was scheduled for deletion outside the operator; cancelled the deletion", cancellationToken).ConfigureAwait(false);
            state = KeyState.Disabled;
        }

        if (scheduleDeletion)
        {
            await session.CallAsync("ScheduleKeyDeletion", (kms, ct) => kms.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = keyId, PendingWindowInDays = key.Spec.PendingWindowDays }, ct), cancellationToken).ConfigureAwait(false);
            await events.NormalAsync(key, Reasons.Expired, $"The key expired: scheduled KMS key {keyId} for deletion in {key.Spec.PendingWindowDays} days", cancellationToken).ConfigureAwait(false);
            return KeyState.PendingDeletion;
        }

        var wantEnabled = key.Spec.Enabled && !expired;
        if (wantEnabled && state == KeyState.Disabled)
        {
            await session.CallAsync("EnableKey", (kms, ct) => kms.EnableKeyAsync(new EnableKeyRequest { KeyId = keyId }, ct), cancellationToken).ConfigureAwait(false);
            if (status.KeyState == KeyState.Enabled.Value)
            {
                drift.Add("it was disabled in AWS; re-enabled");
                await events.WarningAsync(key, Reasons.Drift, $"KMS key {keyId} was disabled outside the operator; re-enabled it (spec.enabled is true)", cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await events.NormalAsync(key, Reasons.Enabled, $"Enabled KMS key {keyId}", cancellationToken).ConfigureAwait(false);
            }

            return KeyState.Enabled;
        }

        if (!wantEnabled && state == KeyState.Enabled && !proxyRefuses)
        {
            // The HYOK switch acts in the proxy first (the Vault renders the key disabled); the KMS key follows once
            // the config says so — a moment later, on the requeue below.
            return state;
        }

        if (!wantEnabled && state == KeyState.Enabled)
        {
            await session.CallAsync("DisableKey", (kms, ct) => kms.DisableKeyAsync(new DisableKeyRequest { KeyId = keyId }, ct), cancellationToken).ConfigureAwait(false);
            if (!expired && status.KeyState == KeyState.Disabled.Value && !key.Spec.Enabled)
            {
                drift.Add("it was enabled in AWS; disabled again");
            }

            await events.NormalAsync(key, expired ? Reasons.Expired : Reasons.Disabled, $"Disabled KMS key {keyId}{(expired ? ": the key expired" : "")}", cancellationToken).ConfigureAwait(false);
            return KeyState.Disabled;
        }

        return state;
    }

    /// <summary>alias/&lt;spec.alias&gt; on this key: created, moved back if pointed elsewhere by hand, the old one removed on rename.</summary>
    private async Task<string?> ConvergeAliasAsync(V1Alpha1CloudKey key, V1Alpha1CloudKeyStatus status, string keyId, List<string> drift, AwsSession session, CancellationToken cancellationToken)
    {
        var desired = CloudKeyNames.AliasName(key);
        var attached = await session.CallAsync("ListAliases", (kms, ct) => kms.ListAliasesAsync(new ListAliasesRequest { KeyId = keyId }, ct), cancellationToken).ConfigureAwait(false);
        var names = (attached.Aliases ?? []).Select(a => a.AliasName).ToHashSet(StringComparer.Ordinal);
        if (desired is not null && !names.Contains(desired))
        {
            try
            {
                await session.CallAsync("CreateAlias", (kms, ct) => kms.CreateAliasAsync(new CreateAliasRequest { AliasName = desired, TargetKeyId = keyId }, ct), cancellationToken).ConfigureAwait(false);
                await events.NormalAsync(key, Reasons.Created, $"Created alias {desired} for KMS key {keyId}", cancellationToken).ConfigureAwait(false);
            }
            catch (AlreadyExistsException)
            {
                await session.CallAsync("UpdateAlias", (kms, ct) => kms.UpdateAliasAsync(new UpdateAliasRequest { AliasName = desired, TargetKeyId = keyId }, ct), cancellationToken).ConfigureAwait(false);
                var message = $"alias {desired} pointed to another KMS key; moved it back to {keyId}";
                if (status.Alias == desired)
                {
                    drift.Add(message);
                }

                await events.WarningAsync(key, Reasons.Drift, message, cancellationToken).ConfigureAwait(false);
            }
        }

        if (status.Alias is { } previous && previous != desired && names.Contains(previous))
        {
            await session.CallAsync("DeleteAlias", (kms, ct) => kms.DeleteAliasAsync(new DeleteAliasRequest { AliasName = previous }, ct), cancellationToken).ConfigureAwait(false);
            await events.NormalAsync(key, Reasons.Deleted, $"Deleted alias {previous}: spec.alias is now {desired ?? "(none)"}", cancellationToken).ConfigureAwait(false);
        }

        return desired;
    }

    private async Task ConvergePolicyAsync(V1Alpha1CloudKey key, string keyId, string accountId, string partition, AwsSession session, CancellationToken cancellationToken)
    {
        var desired = KeyPolicyBuilder.Build(partition, accountId, key.Spec.Administrators, key.Spec.Users);
        var current = await session.CallAsync("GetKeyPolicy", (kms, ct) => kms.GetKeyPolicyAsync(new GetKeyPolicyRequest { KeyId = keyId, PolicyName = "default" }, ct), cancellationToken).ConfigureAwait(false);
        if (!KeyPolicyBuilder.AreEquivalent(current.Policy, desired))
        {
            await session.CallAsync("PutKeyPolicy", (kms, ct) => kms.PutKeyPolicyAsync(new PutKeyPolicyRequest { KeyId = keyId, PolicyName = "default", Policy = desired }, ct), cancellationToken).ConfigureAwait(false);
            await events.NormalAsync(key, Reasons.Updated, $"Set the key policy of KMS key {keyId} from spec.administrators and spec.users", cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Retain: the KMS key and its material stay (the proxy keeps serving the key). Delete: the KMS key is scheduled for
    /// deletion; the material stays until AWS has really deleted the key (the KeySet destroys it then).
    /// </summary>
    private async Task<ReconcileResult> FinalizeAsync(V1Alpha1CloudKey key, CancellationToken cancellationToken)
    {
        if (!(key.Metadata.Finalizers ?? []).Contains(Finalizer))
        {
            return ReconcileResult.Done;
        }

        var ns = key.Metadata.NamespaceProperty;
        var hasMaterial = await client.ReadSecretOrNullAsync(ns, KeyMaterialSecret.Name(key), cancellationToken).ConfigureAwait(false) is not null;
        if (key.Spec.DeletionPolicy == V1Alpha1DeletionPolicy.Delete && key.Status?.KeyId is { } keyId)
        {
            if (!_keySets.TryGet(new(ns, key.Spec.KeySetRef.Name), out var keySet) || !_accounts.TryGet(new(ns, keySet.Spec.CspAccountRef.Name), out var account))
            {
                await events.WarningAsync(key, Reasons.Retained, $"deletionPolicy Delete, but the KeySet or CspAccount is gone: KMS key {keyId} cannot be scheduled for deletion and stays in AWS; its material stays too", cancellationToken).ConfigureAwait(false);
                await ReleaseMaterialAsync(key, hasMaterial, V1Alpha1DeletionPolicy.Retain, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                var session = await aws.ForAccountAsync(account, KeySetNames.Region(keySet, account), cancellationToken).ConfigureAwait(false);
                var metadata = await DescribeAsync(session, keyId, cancellationToken).ConfigureAwait(false);
                if (metadata is not null && metadata.KeyState != KeyState.PendingDeletion)
                {
                    var scheduled = await session.CallAsync("ScheduleKeyDeletion", (kms, ct) => kms.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = keyId, PendingWindowInDays = key.Spec.PendingWindowDays }, ct), cancellationToken).ConfigureAwait(false);
                    Log.DeletionScheduled(logger, ns, key.Metadata.Name, keyId, scheduled.DeletionDate ?? DateTime.UtcNow);
                    await events.NormalAsync(key, Reasons.DeletionScheduled, $"Scheduled KMS key {keyId} for deletion on {scheduled.DeletionDate:yyyy-MM-dd} ({key.Spec.PendingWindowDays} days); its key material is kept until AWS has deleted it", cancellationToken).ConfigureAwait(false);
                }

                await ReleaseMaterialAsync(key, hasMaterial, V1Alpha1DeletionPolicy.Delete, cancellationToken).ConfigureAwait(false);
            }
        }
        else
        {
            await ReleaseMaterialAsync(key, hasMaterial, V1Alpha1DeletionPolicy.Retain, cancellationToken).ConfigureAwait(false);
            if (key.Status?.KeyId is { } retained)
            {
                await events.NormalAsync(key, Reasons.Retained, $"Left KMS key {retained} and its key material in place (deletionPolicy {key.Spec.DeletionPolicy}); adopt it again with spec.adopt.keyId", cancellationToken).ConfigureAwait(false);
            }
        }

        await writer.RemoveFinalizerAsync(key, Finalizer, cancellationToken).ConfigureAwait(false);
        return ReconcileResult.Done;
    }

    private Task ReleaseMaterialAsync(V1Alpha1CloudKey key, bool hasMaterial, V1Alpha1DeletionPolicy policy, CancellationToken cancellationToken) =>
        hasMaterial ? AnnotateMaterialAsync(key, CloudKeyNames.ReleasedAnnotation, policy.ToString(), cancellationToken) : Task.CompletedTask;

    /// <summary>Sets (or with null removes) one annotation of the key's material Secret with a merge patch.</summary>
    private async Task AnnotateMaterialAsync(V1Alpha1CloudKey key, string annotation, string? value, CancellationToken cancellationToken)
    {
        var patch = new { metadata = new { annotations = new Dictionary<string, string?> { [annotation] = value } } };
        await client.CoreV1.PatchNamespacedSecretAsync(new V1Patch(patch, V1Patch.PatchType.MergePatch), KeyMaterialSecret.Name(key), key.Metadata.NamespaceProperty,
            fieldManager: ServerSideApply.FieldManager, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    private async Task<byte[]?> MasterKeyAsync(V1Alpha1Vault vault, CancellationToken cancellationToken)
    {
        var secret = await client.ReadSecretOrNullAsync(vault.Metadata.NamespaceProperty, VaultNames.MasterKeySecret(vault), cancellationToken).ConfigureAwait(false);
        return secret?.Data?.TryGetValue(ProxyLayout.MasterKeyKey, out var bytes) == true && bytes.Length == ProxyLayout.MasterKeyLength ? bytes : null;
    }

    private static async Task<KeyMetadata?> DescribeAsync(AwsSession session, string keyId, CancellationToken cancellationToken)
    {
        try
        {
            var described = await session.CallAsync("DescribeKey", (kms, ct) => kms.DescribeKeyAsync(new DescribeKeyRequest { KeyId = keyId }, ct), cancellationToken).ConfigureAwait(false);
            return described.KeyMetadata;
        }
        catch (NotFoundException)
        {
            return null;
        }
    }

    private static V1Secret Label(V1Secret secret, V1Alpha1KeySet keySet, string? handledRotationRequest)
    {
        secret.Metadata.Labels ??= new Dictionary<string, string>();
        secret.Metadata.Labels[KeySetCredentialSecret.KeySetLabel] = keySet.Metadata.Name;
        secret.Metadata.Annotations ??= new Dictionary<string, string>();
        if (handledRotationRequest is not null)
        {
            secret.Metadata.Annotations[CloudKeyNames.HandledRotationRequestAnnotation] = handledRotationRequest;
        }

        return secret;
    }

    private static string? RotationRequest(V1Alpha1CloudKey key) =>
        key.Metadata.Annotation(CloudKeyNames.RotateKeyAnnotation) is { Length: > 0 } value ? value : null;

    private static string PartitionOf(string arn) => arn.Split(':') is { Length: > 1 } parts ? parts[1] : "aws";

    private TimeSpan NextCheck(V1Alpha1CloudKey key, MaterialState material, DateTimeOffset now)
    {
        var next = options.AwsResyncPeriod;
        if (GoDuration.TryParse(key.Spec.Rotation?.Every, out var every))
        {
            var due = material.Versions.Max(v => v.CreatedAt) + every - now;
            next = due < next ? due : next;
        }

        if (key.Spec.Expiration is { } expiration && new DateTimeOffset(DateTime.SpecifyKind(expiration.At, DateTimeKind.Utc)) - now is var untilExpiry && untilExpiry > TimeSpan.Zero && untilExpiry < next)
        {
            next = untilExpiry;
        }

        return next < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : next;
    }

    internal static List<string> Validate(V1Alpha1CloudKey key)
    {
        var problems = new List<string>();
        if (key.Spec.Alias is { } alias && alias.StartsWith("aws/", StringComparison.OrdinalIgnoreCase))
        {
            problems.Add($"spec.alias '{alias}' must not start with aws/ (reserved for AWS managed keys)");
        }

        if (key.Spec.Rotation?.Every is { } every && (!GoDuration.TryParse(every, out var interval) || interval < TimeSpan.FromMinutes(1)))
        {
            problems.Add($"spec.rotation.every '{every}' must be a duration of at least 1m");
        }

        return problems;
    }

    private sealed record MaterialState(string KeyId, IReadOnlyList<ProxyKeyVersionModel> Versions, V1Secret Secret)
    {
        /// <summary>A due rotation the HSM could not make yet: the Ready reason and message while it waits.</summary>
        public (string Reason, string Message)? Deferred { get; init; }
    }
}
