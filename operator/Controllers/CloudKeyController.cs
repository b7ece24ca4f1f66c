using Amazon.KeyManagementService;
using Amazon.KeyManagementService.Model;
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

    /// <summary>
    /// A change of its KeySet (connected, blocked, credential rotated, spec.defaults changed) looks at every CloudKey of
    /// that KeySet again.
    /// </summary>
    public static void Setup(Controller<V1Alpha1CloudKey> cloudKeys, IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(cloudKeys);
        var keySets = cloudKeys.SharedInformer<V1Alpha1KeySet>();
        cloudKeys
            .Watches<V1Alpha1KeySet>(keySet => KeysOfKeySet(keySet, cloudKeys.Informer.List))
            // The Vault's config or master key changed: its keys that are not Ready yet (waiting for the proxy to serve
            // them, or to refuse them before KMS disables them) look again at once instead of polling.
            .Watches<V1Secret>(secret => NotReadyKeysOfVault(secret, keySets.List, cloudKeys.Informer.List).Concat(KeyOfDeletedMaterial(secret)), VaultController.ChildSelector);
    }

    /// <summary>Every CloudKey of <paramref name="keySet"/> (its namespace, its name in spec.keySetRef), whatever the change.</summary>
    /// <param name="keySet">The KeySet that changed.</param>
    /// <param name="cloudKeysIn">The cached CloudKeys of a namespace.</param>
    public static IEnumerable<ResourceKey> KeysOfKeySet(V1Alpha1KeySet keySet, Func<string, IEnumerable<V1Alpha1CloudKey>> cloudKeysIn)
    {
        ArgumentNullException.ThrowIfNull(keySet);
        ArgumentNullException.ThrowIfNull(cloudKeysIn);
        return cloudKeysIn(keySet.Metadata.NamespaceProperty)
            .Where(k => k.Spec.KeySetRef.Name == keySet.Metadata.Name)
            .Select(k => new ResourceKey(k.Metadata.NamespaceProperty, k.Metadata.Name))
            .ToList();
    }

    /// <summary>
    /// A key-material Secret someone deleted (it stays, held by the custody finalizer) wakes its CloudKey, which says so
    /// in a Warning Event at once.
    /// </summary>
    public static IEnumerable<ResourceKey> KeyOfDeletedMaterial(V1Secret secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        return secret.Metadata?.DeletionTimestamp is not null
            && secret.Metadata.Label(VaultLabels.XksComponentLabel) == VaultLabels.KeyMaterialComponent
            && secret.Metadata.Label(VaultLabels.CloudKeyLabel) is { Length: > 0 } cloudKey
                ? [new ResourceKey(secret.Metadata.NamespaceProperty ?? "", cloudKey)]
                : [];
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
    private static readonly TimeSpan VaultSafetyNet = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan WaitForDependency = TimeSpan.FromSeconds(5);
    private readonly ResourceInformer<V1Alpha1KeySet> _keySets = informers.GetInformer<V1Alpha1KeySet>();
    private readonly ResourceInformer<V1Secret> _operatorSecrets = informers.GetInformer<V1Secret>(VaultController.ChildSelector);
    private readonly ResourceInformer<V1Alpha1Vault> _vaults = informers.GetInformer<V1Alpha1Vault>();
    private readonly CspAccountResolver _accounts = new(informers, options);
    private readonly CloudKeyMaterialStep _material = new(client, events, hsm, logger);
    // A KMS key tagged with the UID of a CloudKey that still exists is that CloudKey's (CloudKeyOwnershipDecisions.KeyTagOwnership).
    private readonly CloudKeyKmsKeyStep _kmsKey = new(writer, events, logger, uid => informers.GetInformer<V1Alpha1CloudKey>().List().Any(k => k.Metadata.Uid == uid));

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
            return ReconcileResult.After(WaitForDependency);
        }

        if (!_vaults.TryGet(new(ns, keySet.Spec.VaultRef.Name), out var vault))
        {
            await ready.ReportAsync<V1Alpha1CloudKey, V1Alpha1CloudKeyStatus>(key, Reasons.WaitingForKeySet, $"KeySet {keySet.Metadata.Name}'s Vault {keySet.Spec.VaultRef.Name} does not exist", cancellationToken).ConfigureAwait(false);
            return ReconcileResult.After(WaitForDependency);
        }

        await writer.AddFinalizerAsync(key, Finalizer, cancellationToken).ConfigureAwait(false);
        var status = CustomResourceWriter.CopyOf(key.Status);
        status.ObservedGeneration = key.Metadata.Generation;
        var now = timeProvider.GetUtcNow();

        var material = await _material.EnsureAsync(key, keySet, vault, now, cancellationToken).ConfigureAwait(false);
        if (material is null)
        {
            var root = ProxyBackendModel.ForVault(vault).IsShamir ? $"keyring Secret {VaultNames.KeyringSecret(vault)} (made by the custodians' xks-operator shamir init)" : "master key";
            return await ready.WaitAsync(key, status, Reasons.WaitingForVault, $"waiting for Vault {vault.Metadata.Name}'s {root}", VaultSafetyNet, cancellationToken).ConfigureAwait(false);
        }

        status.XksKeyId = material.KeyId;
        var current = material.Versions.MaxBy(v => v.Version)!;
        status.CurrentVersion = current.Version.ToString(System.Globalization.CultureInfo.InvariantCulture);
        status.CurrentVersionCreatedTime = Conditions.Truncate(current.CreatedAt);
        status.NextRotationTime = CloudKeySettingsDecisions.NextRotation(CloudKeySettingsDecisions.EffectiveRotation(key, keySet), current.CreatedAt) is { } nextRotation ? Conditions.Truncate(nextRotation) : null;

        // KMS asks the proxy for the key's metadata at CreateKey: the Vault's config must serve it first.
        var served = _operatorSecrets.ServedProxyConfig(vault);
        if (!served.Keys.ContainsKey(material.KeyId))
        {
            return await ready.WaitAsync(key, status, Reasons.WaitingForVault, $"waiting for Vault {vault.Metadata.Name}'s proxy config to serve key {material.KeyId}", VaultSafetyNet, cancellationToken).ConfigureAwait(false);
        }

        if (keySet.Status?.CustomKeyStoreId is not { } storeId || !Conditions.IsTrue(keySet.Status.Conditions, ConditionTypes.Ready))
        {
            return await ready.WaitAsync(key, status, Reasons.WaitingForKeySet, $"waiting for KeySet {keySet.Metadata.Name}'s key store to be connected", WaitForDependency, cancellationToken).ConfigureAwait(false);
        }

        // The KeySet's account, checked again here: a ClusterCspAccount no longer shared with this namespace stops every call.
        var lookup = await _accounts.ResolveAsync(keySet, cancellationToken).ConfigureAwait(false);
        if (lookup.Account is not { } account)
        {
            return await ready.WaitAsync(key, status, lookup.Reason, $"KeySet {keySet.Metadata.Name}: {lookup.Message}", WaitForDependency, cancellationToken).ConfigureAwait(false);
        }

        if (account.Status?.AccountId is not { Length: > 0 } accountId)
        {
            return await ready.WaitAsync(key, status, Reasons.WaitingForCspAccount, $"waiting for {account.Description} to report its account ID", WaitForDependency, cancellationToken).ConfigureAwait(false);
        }

        var desiredAlias = CloudKeyNames.AliasName(key);
        var expiresAt = key.Spec.Expiration is { } expiry ? new DateTimeOffset(DateTime.SpecifyKind(expiry.At, DateTimeKind.Utc)) : (DateTimeOffset?)null;
        var checkedAt = key.Status?.LastAwsCheckTime is { } last ? new DateTimeOffset(DateTime.SpecifyKind(last, DateTimeKind.Utc)) : (DateTimeOffset?)null;
        var specChanged = key.Metadata.Generation != key.Status?.ObservedGeneration;
        var checkReason = CloudKeyDecisions.AwsCheckReason(new AwsCheckInputs(
            key.Status?.KeyId, key.Metadata.Generation, key.Status?.ObservedGeneration,
            Conditions.IsTrue(key.Status?.Conditions, ConditionTypes.Ready), Conditions.IsTrue(key.Status?.Conditions, ConditionTypes.Synced),
            checkedAt, key.Status?.KeyState, key.Spec.Enabled && !(expiresAt <= now), key.Status?.Alias, desiredAlias,
            Conditions.Get(keySet.Status?.Conditions, ConditionTypes.Ready)?.LastTransitionTime is { } keySetSince ? new DateTimeOffset(DateTime.SpecifyKind(keySetSince, DateTimeKind.Utc)) : null,
            expiresAt), now, options.AwsResyncPeriod);
        if (checkReason is null)
        {
            // Steady since the last check: the recorded state stands, no AWS call (rotation above is Kubernetes only).
            return await KeepRecordedAsync(key, keySet, status, storeId, material, checkedAt, now, cancellationToken).ConfigureAwait(false);
        }

        Log.AwsCheck(logger, ns, key.Metadata.Name, checkReason);
        var session = await aws.ForAccountAsync(account, KeySetNames.Region(keySet, account.Spec), cancellationToken).ConfigureAwait(false);
        KeyMetadata? metadata = null;
        var aliasVerified = false;
        if (CloudKeyDecisions.DescribeThroughAlias(status.KeyId, key.Status?.Alias, desiredAlias, specChanged) is { } probe
            && await CloudKeyKmsKeyStep.DescribeAsync(session, probe, cancellationToken).ConfigureAwait(false) is { } viaAlias
            && viaAlias.KeyId == status.KeyId)
        {
            metadata = viaAlias;
            aliasVerified = true;
        }

        var tagProven = false;
        if (metadata is null)
        {
            (metadata, tagProven) = await _kmsKey.FindOrCreateAsync(key, status, storeId, material.KeyId, accountId, session, cancellationToken).ConfigureAwait(false);
        }

        if (metadata is not null && CloudKeyOwnershipDecisions.KeyRefusal("KMS key", metadata.KeyId, metadata.CustomKeyStoreId, metadata.XksKeyConfiguration?.Id, storeId, material.KeyId) is { } notOurs)
        {
            // Nothing is changed on a key that is not provably ours: no policy, no enable/disable, no alias.
            throw new ChildConflictException(notOurs + "; status.keyId names a key this CloudKey does not own (edited by hand?) — clear status.keyId or fix spec.adopt");
        }

        if (metadata is null)
        {
            var lost = $"KMS key {status.KeyId} no longer exists in AWS (deleted outside the operator); the key material is kept";
            await events.WarningAsync(key, Reasons.KeyNotFound, lost, cancellationToken).ConfigureAwait(false);
            return await ready.WaitAsync(key, status, Reasons.KeyNotFound, lost, options.AwsResyncPeriod, cancellationToken).ConfigureAwait(false);
        }

        status.KeyId = metadata.KeyId;
        status.Arn = metadata.Arn;
        var drift = new List<string>();
        // The material records its KMS key; an expired key is refused by the proxy (the Vault renders it disabled)
        // before KMS hears of it. The mark goes again when the expiration moves later or is removed.
        var marks = KeyMaterialMarks.Of(material.Secret);
        var expiryPlan = CloudKeyKeyStateDecisions.PlanExpiry(marks.Expired, expiresAt, now);
        var expired = expiryPlan.Expired;
        await _material.MarkAsync(key, marks, marks with { KmsKeyId = metadata.KeyId, KmsKeyArn = metadata.Arn, Expired = expired }, cancellationToken).ConfigureAwait(false);
        if (expiryPlan.Unexpired)
        {
            await events.NormalAsync(key, Reasons.Unexpired, $"spec.expiration {(key.Spec.Expiration is { } later ? $"moved to {later.At:O}" : "removed")}: the proxy serves external key {material.KeyId} again{(key.Spec.Enabled ? "" : " once spec.enabled is true")}", cancellationToken).ConfigureAwait(false);
        }

        var proxyRefuses = served.Keys.TryGetValue(material.KeyId, out var servedEnabled) && !servedEnabled;
        var proof = _kmsKey.Proof(key, metadata.KeyId, session, proven: tagProven);
        var state = await _kmsKey.ConvergeStateAsync(key, status, metadata, expiryPlan, proxyRefuses, drift, session, proof, cancellationToken).ConfigureAwait(false);
        status.KeyState = state.Value;
        if (CloudKeyDecisions.AwaitsProxyRefusal(state, key.Spec.Enabled, expired))
        {
            return await ready.WaitAsync(key, status, Reasons.Disabling, $"the proxy refuses external key {material.KeyId} once Vault {vault.Metadata.Name}'s config says so; KMS key {metadata.KeyId} is disabled right after", VaultSafetyNet, cancellationToken).ConfigureAwait(false);
        }

        status.Alias = aliasVerified ? desiredAlias : await _kmsKey.ConvergeAliasAsync(key, status, metadata.KeyId, drift, session, proof, cancellationToken).ConfigureAwait(false);
        await _kmsKey.ConvergePolicyAsync(key, metadata.KeyId, accountId, AwsArns.PartitionOf(metadata.Arn), session, proof, cancellationToken).ConfigureAwait(false);
        if (state != KeyState.PendingDeletion)
        {
            // KMS refuses both on a key pending deletion.
            await _kmsKey.ConvergeDescriptionAsync(key, metadata, session, proof, cancellationToken).ConfigureAwait(false);
            status.TagKeys = await _kmsKey.ConvergeTagsAsync(key, status, metadata.KeyId, session, proof, cancellationToken).ConfigureAwait(false);
        }

        var synced = CloudKeyDecisions.Synced(drift);
        ready.Set(key, status, ConditionTypes.Synced, synced.Status, synced.Reason, synced.Message);
        var verdict = CloudKeyDecisions.Ready(new CloudKeyReadyInputs(
            metadata.KeyId, status.Alias, storeId, material.KeyId, status.CurrentVersion, state, key.Spec.Enabled,
            expired ? key.Spec.Expiration!.At : null, material.Deferred));
        ready.Set(key, status, ConditionTypes.Ready, verdict.Status, verdict.Reason, verdict.Message);
        status.LastAwsCheckTime = Conditions.Truncate(now);

        await ready.WriteAsync(key, status, cancellationToken).ConfigureAwait(false);
        return ReconcileResult.After(NextCheck(key, CloudKeySettingsDecisions.EffectiveRotation(key, keySet), material, now, options.AwsResyncPeriod));
    }

    /// <summary>Ready from the state recorded at the last check (and the material as it is now), written only if changed.</summary>
    private async Task<ReconcileResult> KeepRecordedAsync(V1Alpha1CloudKey key, V1Alpha1KeySet keySet, V1Alpha1CloudKeyStatus status, string storeId, CloudKeyMaterial material, DateTimeOffset? checkedAt, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var verdict = CloudKeyDecisions.Ready(new CloudKeyReadyInputs(
            status.KeyId!, status.Alias, storeId, material.KeyId, status.CurrentVersion!, KeyState.FindValue(status.KeyState), key.Spec.Enabled,
            null, material.Deferred));
        ready.Set(key, status, ConditionTypes.Ready, verdict.Status, verdict.Reason, verdict.Message);
        await ready.WriteAsync(key, status, cancellationToken).ConfigureAwait(false);
        return ReconcileResult.After(NextCheck(key, CloudKeySettingsDecisions.EffectiveRotation(key, keySet), material, now, CloudKeyDecisions.UntilAwsCheck(checkedAt, now, options.AwsResyncPeriod)));
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
        var materialSecret = await client.ReadSecretOrNullAsync(ns, KeyMaterialSecret.Name(key), cancellationToken).ConfigureAwait(false);
        if (key.Spec.DeletionPolicy == V1Alpha1DeletionPolicy.Delete && key.Status?.KeyId is { } keyId)
        {
            var keySet = _keySets.TryGet(new(ns, key.Spec.KeySetRef.Name), out var found) ? found : null;
            var lookup = keySet is null ? null : await _accounts.ResolveAsync(keySet, cancellationToken).ConfigureAwait(false);
            if (keySet is null || lookup?.Account is not { } account)
            {
                await events.WarningAsync(key, Reasons.Retained, $"deletionPolicy Delete, but {(keySet is null ? "the KeySet is gone" : lookup!.Message)}: KMS key {keyId} cannot be scheduled for deletion and stays in AWS; its material stays too", cancellationToken).ConfigureAwait(false);
                await ReleaseMaterialAsync(key, materialSecret, V1Alpha1DeletionPolicy.Retain, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                var session = await aws.ForAccountAsync(account, KeySetNames.Region(keySet, account.Spec), cancellationToken).ConfigureAwait(false);
                var metadata = await CloudKeyKmsKeyStep.DescribeAsync(session, keyId, cancellationToken).ConfigureAwait(false);
                var xksKeyId = materialSecret is not null && KeyMaterialSecret.TryRead(materialSecret, out var materialKeyId, out _, out _, out _) ? materialKeyId! : CloudKeyNames.XksKeyId(key);
                var notOurs = metadata is null ? null : CloudKeyOwnershipDecisions.KeyRefusal("KMS key", metadata.KeyId, metadata.CustomKeyStoreId, metadata.XksKeyConfiguration?.Id, keySet.Status?.CustomKeyStoreId ?? "(none)", xksKeyId);
                if (notOurs is null && metadata is not null && metadata.KeyState != KeyState.PendingDeletion)
                {
                    try
                    {
                        await _kmsKey.Proof(key, keyId, session).EnsureAsync(cancellationToken).ConfigureAwait(false);
                    }
                    catch (ChildConflictException ex)
                    {
                        notOurs = ex.Message;
                    }
                }

                if (notOurs is not null)
                {
                    // status.keyId names somebody else's key: it is not scheduled for deletion, whatever the policy says.
                    await events.WarningAsync(key, Reasons.Conflict, $"deletionPolicy Delete, but {notOurs}: that key is left alone", cancellationToken).ConfigureAwait(false);
                    await ReleaseMaterialAsync(key, materialSecret, V1Alpha1DeletionPolicy.Retain, cancellationToken).ConfigureAwait(false);
                    await writer.RemoveFinalizerAsync(key, Finalizer, cancellationToken).ConfigureAwait(false);
                    return ReconcileResult.Done;
                }

                var deletionDate = metadata?.DeletionDate is { } pendingSince ? new DateTimeOffset(DateTime.SpecifyKind(pendingSince, DateTimeKind.Utc)) : (DateTimeOffset?)null;
                if (metadata is not null && metadata.KeyState != KeyState.PendingDeletion)
                {
                    var scheduled = await session.CallAsync("ScheduleKeyDeletion", (kms, ct) => kms.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = keyId, PendingWindowInDays = key.Spec.PendingWindowDays }, ct), cancellationToken).ConfigureAwait(false);
                    Log.DeletionScheduled(logger, ns, key.Metadata.Name, keyId, scheduled.DeletionDate ?? DateTime.UtcNow);
                    await events.NormalAsync(key, Reasons.DeletionScheduled, $"Scheduled KMS key {keyId} for deletion on {scheduled.DeletionDate:yyyy-MM-dd} ({key.Spec.PendingWindowDays} days); its key material is kept until AWS has deleted it", cancellationToken).ConfigureAwait(false);
                    deletionDate = scheduled.DeletionDate is { } at ? new DateTimeOffset(DateTime.SpecifyKind(at, DateTimeKind.Utc)) : null;
                }

                // The ARN and date let the KeySet ask AWS in the key's own account and region, and not before the date.
                await ReleaseMaterialAsync(key, materialSecret, V1Alpha1DeletionPolicy.Delete, cancellationToken, metadata?.Arn ?? key.Status?.Arn, deletionDate).ConfigureAwait(false);
            }
        }
        else
        {
            await ReleaseMaterialAsync(key, materialSecret, V1Alpha1DeletionPolicy.Retain, cancellationToken).ConfigureAwait(false);
            if (key.Status?.KeyId is { } retained)
            {
                await events.NormalAsync(key, Reasons.Retained, $"Left KMS key {retained} and its key material in place (deletionPolicy {key.Spec.DeletionPolicy}); adopt it again with spec.adopt.keyId", cancellationToken).ConfigureAwait(false);
            }
        }

        await writer.RemoveFinalizerAsync(key, Finalizer, cancellationToken).ConfigureAwait(false);
        return ReconcileResult.Done;
    }

    private Task ReleaseMaterialAsync(V1Alpha1CloudKey key, V1Secret? material, V1Alpha1DeletionPolicy policy, CancellationToken cancellationToken, string? arn = null, DateTimeOffset? deletionDate = null)
    {
        if (material is null)
        {
            return Task.CompletedTask;
        }

        var marks = KeyMaterialMarks.Of(material);
        return _material.MarkAsync(key, marks, marks with { Released = policy, KmsKeyArn = arn ?? marks.KmsKeyArn, DeletionDate = deletionDate ?? marks.DeletionDate }, cancellationToken);
    }

    /// <summary>When to look again (<see cref="CloudKeyDecisions.NextCheck"/>), from the key, its rotation and material.</summary>
    private static TimeSpan NextCheck(V1Alpha1CloudKey key, V1Alpha1Rotation? rotation, CloudKeyMaterial material, DateTimeOffset now, TimeSpan untilAwsCheck) =>
        CloudKeyDecisions.NextCheck(
            untilAwsCheck,
            Random.Shared.NextDouble(),
            material.Deferred is not null,
            CloudKeySettingsDecisions.NextRotation(rotation, material.Versions.MaxBy(v => v.Version)!.CreatedAt),
            key.Spec.Expiration is { } expiration ? new DateTimeOffset(DateTime.SpecifyKind(expiration.At, DateTimeKind.Utc)) : null,
            now);

    internal static List<string> Validate(V1Alpha1CloudKey key)
    {
        var problems = new List<string>();
        if (CloudKeySettingsDecisions.AliasProblem(key.Spec.Alias, key.Metadata.Name, key.Spec.CreateAlias) is { } alias)
        {
            problems.Add(alias);
        }

        problems.AddRange(CloudKeySettingsDecisions.TagProblems(key.Spec.Tags));

        if (key.Spec.Rotation?.Every is { } every && (!GoDuration.TryParse(every, out var interval) || interval < TimeSpan.FromMinutes(1)))
        {
            problems.Add($"spec.rotation.every '{every}' must be a duration of at least 1m");
        }

        problems.AddRange(KeyPolicyBuilder.Problems(key.Spec.KeyPolicy));

        return problems;
    }
}
