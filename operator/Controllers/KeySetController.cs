using System.Net;
using Amazon.KeyManagementService;
using Amazon.KeyManagementService.Model;
using k8s;
using k8s.Autorest;
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
/// Converges one KeySet: its SigV4 credential (a Secret the Vault renders into the proxy config), the AWS external key
/// store (found by status, by spec.adopt or by name before anything is created, so a crash never makes a second one),
/// its connection (connected, a FAILED store disconnected and retried, ConnectionErrorCode as the Ready reason),
/// credential rotation without a failed request (new credential accepted by the proxy → UpdateCustomKeyStore → old
/// one dropped after a grace period) and deletion per deletionPolicy.
/// </summary>
internal sealed partial class KeySetController(
    IKubernetes client,
    CustomResourceWriter writer,
    ReadyReporter ready,
    EventRecorder events,
    InformerFactory informers,
    AwsClients aws,
    IHsmKeys hsm,
    OperatorOptions options,
    TimeProvider timeProvider,
    ILogger<KeySetController> logger) : IReconciler<V1Alpha1KeySet>, IControllerSetup<V1Alpha1KeySet>
{
    public const string Finalizer = "xks.dev/key-store";

    /// <summary>Its credential Secret, and the Vault, CspAccount and CloudKeys a KeySet depends on.</summary>
    public static void Setup(Controller<V1Alpha1KeySet> keySets, IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(keySets);
        keySets
            .Owns<V1Secret>(VaultController.ChildSelector)
            .Watches<V1Alpha1Vault>(vault => Referencing(keySets, vault, k => k.Spec.VaultRef.Name))
            .Watches<V1Alpha1CspAccount>(account => Referencing(keySets, account, k => k.Spec.CspAccountRef.Name))
            .Watches<V1Alpha1CloudKey>(key => [new ResourceKey(key.Metadata.NamespaceProperty, key.Spec.KeySetRef.Name)])
            // The Vault's config changed (it serves a new credential): its KeySets that are not Ready look again at once.
            .Watches<V1Secret>(
                secret => secret.Metadata?.Labels is { } labels && labels.TryGetValue(VaultLabels.VaultLabel, out var vault)
                    ? keySets.Informer.List(secret.Metadata.NamespaceProperty)
                        .Where(k => k.Spec?.VaultRef?.Name == vault && !Conditions.IsTrue(k.Status?.Conditions, ConditionTypes.Ready))
                        .Select(ResourceKey.From)
                        .ToList()
                    : [],
                VaultController.ChildSelector);
    }

    private static IEnumerable<ResourceKey> Referencing(Controller<V1Alpha1KeySet> keySets, IKubernetesObject<V1ObjectMeta> target, Func<V1Alpha1KeySet, string> reference)
    {
        var ns = target.Metadata.NamespaceProperty;
        return keySets.Informer.List(ns).Where(k => reference(k) == target.Metadata.Name).Select(k => new ResourceKey(ns, k.Metadata.Name));
    }

    private static readonly TimeSpan s_poll = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan s_waitForDependency = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan s_failedRetry = TimeSpan.FromSeconds(15);
    private readonly ResourceInformer<V1Alpha1Vault> _vaults = informers.GetInformer<V1Alpha1Vault>();
    private readonly ResourceInformer<V1Alpha1CspAccount> _accounts = informers.GetInformer<V1Alpha1CspAccount>();
    private readonly ResourceInformer<V1Alpha1CloudKey> _cloudKeys = informers.GetInformer<V1Alpha1CloudKey>();
    private readonly ResourceInformer<V1Secret> _secrets = informers.GetInformer<V1Secret>(VaultController.ChildSelector);

    public async Task<ReconcileResult> ReconcileAsync(V1Alpha1KeySet keySet, CancellationToken cancellationToken)
    {
        try
        {
            return await ConvergeAsync(keySet, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (TransientFailure.Classify(ex, $"CspAccount {keySet.Spec.CspAccountRef.Name}", cancellationToken.IsCancellationRequested) is { } failure)
        {
            return await ready.FailAsync<V1Alpha1KeySet, V1Alpha1KeySetStatus>(keySet, failure, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<ReconcileResult> ConvergeAsync(V1Alpha1KeySet keySet, CancellationToken cancellationToken)
    {
        if (keySet.Metadata.DeletionTimestamp is not null)
        {
            return await FinalizeAsync(keySet, cancellationToken).ConfigureAwait(false);
        }

        var problems = Validate(keySet);
        if (problems.Count > 0)
        {
            await ready.ReportAsync<V1Alpha1KeySet, V1Alpha1KeySetStatus>(keySet, Reasons.InvalidSpec, string.Join("; ", problems), cancellationToken).ConfigureAwait(false);
            return ReconcileResult.Done;
        }

        var ns = keySet.Metadata.NamespaceProperty;
        if (!_vaults.TryGet(new(ns, keySet.Spec.VaultRef.Name), out var vault))
        {
            await ready.ReportAsync<V1Alpha1KeySet, V1Alpha1KeySetStatus>(keySet, Reasons.VaultNotFound, $"Vault {keySet.Spec.VaultRef.Name} does not exist in namespace {ns}", cancellationToken).ConfigureAwait(false);
            return ReconcileResult.After(s_waitForDependency);
        }

        if (!_accounts.TryGet(new(ns, keySet.Spec.CspAccountRef.Name), out var account))
        {
            await ready.ReportAsync<V1Alpha1KeySet, V1Alpha1KeySetStatus>(keySet, Reasons.CspAccountNotFound, $"CspAccount {keySet.Spec.CspAccountRef.Name} does not exist in namespace {ns}", cancellationToken).ConfigureAwait(false);
            return ReconcileResult.After(s_waitForDependency);
        }

        await writer.AddFinalizerAsync(keySet, Finalizer, cancellationToken).ConfigureAwait(false);
        var status = CustomResourceWriter.CopyOf(keySet.Status);
        status.UriPath = KeySetNames.UriPath(keySet);
        status.CredentialSecretName = KeySetNames.CredentialSecret(keySet);
        status.ObservedGeneration = keySet.Metadata.Generation;

        var credentials = await EnsureCredentialsAsync(keySet, status, cancellationToken).ConfigureAwait(false);
        if (!Conditions.IsTrue(account.Status?.Conditions, ConditionTypes.Ready))
        {
            return await ready.WaitAsync(keySet, status, Reasons.WaitingForCspAccount, $"waiting for CspAccount {account.Metadata.Name} to be Ready", s_poll, cancellationToken).ConfigureAwait(false);
        }

        // KMS checks the proxy's health with the credential when the store is created, updated or connected: wait
        // until the Vault's rendered config includes every credential we are about to hand to KMS.
        var served = _secrets.ServedProxyConfig(vault);
        if (!served.AccessKeyIds.Contains(credentials.Current.AccessKeyId))
        {
            return await ready.WaitAsync(keySet, status, Reasons.WaitingForVault, $"waiting for Vault {vault.Metadata.Name}'s proxy config to include the key store's credential {credentials.Current.AccessKeyId}", s_poll, cancellationToken).ConfigureAwait(false);
        }

        // A pending credential goes to KMS only once the proxy accepts it; until then the store keeps working as it is.
        var pendingServed = credentials.Pending is not { } pending || served.AccessKeyIds.Contains(pending.AccessKeyId);

        var session = await aws.ForAccountAsync(account, KeySetNames.Region(keySet, account), cancellationToken).ConfigureAwait(false);
        var store = await FindStoreAsync(keySet, status, session, cancellationToken).ConfigureAwait(false);
        if (store is null)
        {
            if (status.CustomKeyStoreId is { } lost)
            {
                // It existed and is gone: someone deleted it in AWS. Creating a new one would orphan every KMS key of
                // the old one silently; a human decides (delete status or the KeySet to start over).
                status.ConnectionState = null;
                return await ready.WaitAsync(keySet, status, Reasons.KeyStoreNotFound, $"custom key store {lost} no longer exists in AWS KMS (deleted outside the operator); recreate the KeySet to make a new one", s_waitForDependency, cancellationToken).ConfigureAwait(false);
            }

            store = await CreateStoreAsync(keySet, vault, credentials.Current, session, cancellationToken).ConfigureAwait(false);
            status.CustomKeyStoreId = store.CustomKeyStoreId;
            await writer.WriteStatusAsync(keySet, status, cancellationToken).ConfigureAwait(false);
            status = CustomResourceWriter.CopyOf(keySet.Status);
        }

        var plan = KeySetDecisions.Plan(new KeyStoreObservation(
            store.CustomKeyStoreId, store.ConnectionState?.Value, store.ConnectionErrorCode?.Value, status.ConnectionErrorCode,
            NeedsEndpointUpdate(store, keySet, vault), keySet.Spec.Blocked, $"{Endpoint(vault)}{status.UriPath}"));
        status.CustomKeyStoreId = store.CustomKeyStoreId;
        status.ConnectionErrorCode = plan.ErrorCode;
        status.ConnectionState = store.ConnectionState?.Value;
        switch (plan.Action)
        {
            case KeyStoreAction.DisconnectToUpdate:
                await DisconnectAsync(keySet, session, store, "its endpoint, path or connectivity must change", cancellationToken).ConfigureAwait(false);
                return await WaitAsync(keySet, status, plan, cancellationToken).ConfigureAwait(false);
            case KeyStoreAction.Update:
                await session.CallAsync("UpdateCustomKeyStore", (kms, ct) => kms.UpdateCustomKeyStoreAsync(new UpdateCustomKeyStoreRequest
                {
                    CustomKeyStoreId = store.CustomKeyStoreId,
                    XksProxyUriEndpoint = Endpoint(vault),
                    XksProxyUriPath = KeySetNames.UriPath(keySet),
                    XksProxyConnectivity = Connectivity(keySet),
                    XksProxyVpcEndpointServiceName = keySet.Spec.ExternalKeyStore.VpcEndpointServiceName,
                    XksProxyAuthenticationCredential = Credential(credentials.Current),
                }, ct), cancellationToken).ConfigureAwait(false);
                await events.NormalAsync(keySet, Reasons.Updated, $"Updated custom key store {store.CustomKeyStoreId} to {Endpoint(vault)}{KeySetNames.UriPath(keySet)}", cancellationToken).ConfigureAwait(false);
                return await WaitAsync(keySet, status, plan, cancellationToken).ConfigureAwait(false);
        }

        var rotation = pendingServed
            ? await ConvergeCredentialAsync(keySet, status, credentials, store, session, cancellationToken).ConfigureAwait(false)
            : s_poll;
        await CollectReleasedMaterialAsync(keySet, session, cancellationToken).ConfigureAwait(false);

        switch (plan.Action)
        {
            case KeyStoreAction.DisconnectAfterFailure:
                await DisconnectAsync(keySet, session, store, $"its connection failed with {plan.ErrorCode}; it is retried", cancellationToken).ConfigureAwait(false);
                break;
            case KeyStoreAction.Connect:
                await session.CallAsync("ConnectCustomKeyStore", (kms, ct) => kms.ConnectCustomKeyStoreAsync(new ConnectCustomKeyStoreRequest { CustomKeyStoreId = store.CustomKeyStoreId }, ct), cancellationToken).ConfigureAwait(false);
                Log.Connecting(logger, keySet.Metadata.NamespaceProperty, keySet.Metadata.Name, store.CustomKeyStoreId);
                await events.NormalAsync(keySet, Reasons.Connecting, $"Connecting custom key store {store.CustomKeyStoreId}", cancellationToken).ConfigureAwait(false);
                break;
        }

        status.ConnectionState = plan.ConnectionState;
        if (plan.Connected is { } connected)
        {
            ready.Set(keySet, status, ConditionTypes.Connected, connected.Status, connected.Reason, connected.Message);
        }

        if (plan.Requeue == KeySetRequeue.Resync)
        {
            ready.Set(keySet, status, ConditionTypes.Ready, plan.Ready.Status, plan.Ready.Reason, plan.Ready.Message);
            await ready.WriteAsync(keySet, status, cancellationToken).ConfigureAwait(false);
            return ReconcileResult.After(NextCheck(rotation));
        }

        return await WaitAsync(keySet, status, plan, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes a plan's not-Ready condition with the status and requeues after the plan's pause.</summary>
    private Task<ReconcileResult> WaitAsync(V1Alpha1KeySet keySet, V1Alpha1KeySetStatus status, KeyStorePlan plan, CancellationToken cancellationToken) =>
        ready.WaitAsync(keySet, status, plan.Ready.Reason, plan.Ready.Message, plan.Requeue == KeySetRequeue.FailedRetry ? s_failedRetry : s_poll, cancellationToken);

    /// <summary>
    /// The credential Secret: created once; a rotation (scheduled, or asked for with the rotate-credential annotation)
    /// adds a pending credential next to the current one, so the proxy accepts both before KMS is told.
    /// </summary>
    private async Task<KeySetCredentialSecret> EnsureCredentialsAsync(V1Alpha1KeySet keySet, V1Alpha1KeySetStatus status, CancellationToken cancellationToken)
    {
        var ns = keySet.Metadata.NamespaceProperty;
        var name = KeySetNames.CredentialSecret(keySet);
        var secret = await client.ReadSecretOrNullAsync(ns, name, cancellationToken).ConfigureAwait(false);
        if (secret is null)
        {
            var fresh = new KeySetCredentialSecret(XksCredential.Generate()) { HandledRotationRequest = RotationRequest(keySet) };
            await client.CoreV1.CreateNamespacedSecretAsync(fresh.Build(keySet, KeySetNames.UriPath(keySet)), ns, fieldManager: ServerSideApply.FieldManager, cancellationToken: cancellationToken).ConfigureAwait(false);
            Log.CredentialCreated(logger, ns, keySet.Metadata.Name, fresh.Current.AccessKeyId);
            await events.NormalAsync(keySet, Reasons.Created, $"Created SigV4 credential Secret {name} (access key ID {fresh.Current.AccessKeyId})", cancellationToken).ConfigureAwait(false);
            status.LastRotationTime ??= timeProvider.GetUtcNow().UtcDateTime;
            return fresh;
        }

        if (!(secret.Metadata.OwnerReferences ?? []).Any(o => o.Controller == true && o.Uid == keySet.Metadata.Uid))
        {
            throw new ChildConflictException($"Secret {name} already exists and is not controlled by this KeySet; delete or rename it");
        }

        if (!KeySetCredentialSecret.TryRead(secret, out var credentials, out var problem))
        {
            // Never overwrite: KMS may hold this credential. A human fixes or deletes the Secret.
            throw new ChildConflictException(problem!);
        }

        var request = RotationRequest(keySet);
        var requested = request is not null && request != credentials!.HandledRotationRequest;
        var due = GoDuration.TryParse(keySet.Spec.CredentialRotation?.Every, out var every)
            && timeProvider.GetUtcNow() - (status.LastRotationTime ?? secret.Metadata.CreationTimestamp ?? DateTime.UtcNow) >= every;
        if (credentials!.Pending is null && (requested || due))
        {
            credentials = credentials with { Pending = XksCredential.Generate(), HandledRotationRequest = request ?? credentials.HandledRotationRequest };
            await ReplaceSecretAsync(keySet, secret, credentials, cancellationToken).ConfigureAwait(false);
            Log.RotationStarted(logger, ns, keySet.Metadata.Name, credentials.Pending!.AccessKeyId, requested ? "requested" : "scheduled");
            await events.NormalAsync(keySet, Reasons.RotatingCredential, $"Rotating the SigV4 credential ({(requested ? "requested by annotation" : "scheduled")}): new access key ID {credentials.Pending.AccessKeyId} added to the proxy", cancellationToken).ConfigureAwait(false);
        }

        return credentials;
    }

    /// <summary>
    /// Hands KMS the pending credential (UpdateCustomKeyStore health-checks it through the proxy, which already accepts
    /// it), then makes it current and keeps the old one for a grace period; also corrects a store whose credential was
    /// changed in AWS. Returns when to look again.
    /// </summary>
    private async Task<TimeSpan> ConvergeCredentialAsync(V1Alpha1KeySet keySet, V1Alpha1KeySetStatus status, KeySetCredentialSecret credentials, CustomKeyStoresListEntry store, AwsSession session, CancellationToken cancellationToken)
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
                XksProxyAuthenticationCredential = Credential(target),
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
            Log.CredentialRotated(logger, ns, keySet.Metadata.Name, pending.AccessKeyId, credentials.Current.AccessKeyId);
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

        return GoDuration.TryParse(keySet.Spec.CredentialRotation?.Every, out var every)
            ? (status.LastRotationTime is { } last ? new DateTimeOffset(last, TimeSpan.Zero) + every - now : every)
            : options.AwsResyncPeriod;
    }

    /// <summary>The key store this KeySet owns: by status, by spec.adopt, or by name (what a crashed create left).</summary>
    private async Task<CustomKeyStoresListEntry?> FindStoreAsync(V1Alpha1KeySet keySet, V1Alpha1KeySetStatus status, AwsSession session, CancellationToken cancellationToken)
    {
        var id = status.CustomKeyStoreId ?? keySet.Spec.Adopt?.CustomKeyStoreId;
        if (id is not null)
        {
            try
            {
                var byId = await session.CallAsync("DescribeCustomKeyStores", (kms, ct) => kms.DescribeCustomKeyStoresAsync(new DescribeCustomKeyStoresRequest { CustomKeyStoreId = id }, ct), cancellationToken).ConfigureAwait(false);
                var found = byId.CustomKeyStores?.FirstOrDefault();
                if (found is not null && status.CustomKeyStoreId is null)
                {
                    await events.NormalAsync(keySet, Reasons.Adopted, $"Adopted custom key store {found.CustomKeyStoreId} ({found.CustomKeyStoreName}) named in spec.adopt", cancellationToken).ConfigureAwait(false);
                }

                return found;
            }
            catch (CustomKeyStoreNotFoundException)
            {
                if (status.CustomKeyStoreId is null)
                {
                    throw new ChildConflictException($"spec.adopt.customKeyStoreId {id} does not exist in AWS KMS");
                }

                return null;
            }
        }

        var name = KeySetNames.KeyStoreName(keySet);
        try
        {
            var byName = await session.CallAsync("DescribeCustomKeyStores", (kms, ct) => kms.DescribeCustomKeyStoresAsync(new DescribeCustomKeyStoresRequest { CustomKeyStoreName = name }, ct), cancellationToken).ConfigureAwait(false);
            if (byName.CustomKeyStores?.FirstOrDefault() is not { } existing)
            {
                return null;
            }

            // Key stores carry no tags: the name (unique per account and region) and our path identify what an earlier
            // attempt made. A store of that name serving another path belongs to someone else.
            if (KeySetDecisions.StoreRefusal(name, existing.CustomKeyStoreId, existing.XksProxyConfiguration?.UriPath, KeySetNames.UriPath(keySet)) is { } refusal)
            {
                throw new ChildConflictException(refusal);
            }

            Log.Adopted(logger, keySet.Metadata.NamespaceProperty, keySet.Metadata.Name, existing.CustomKeyStoreId);
            await events.NormalAsync(keySet, Reasons.Adopted, $"Found custom key store {existing.CustomKeyStoreId} made by an earlier attempt; adopted it", cancellationToken).ConfigureAwait(false);
            return existing;
        }
        catch (CustomKeyStoreNotFoundException)
        {
            return null;
        }
    }

    private async Task<CustomKeyStoresListEntry> CreateStoreAsync(V1Alpha1KeySet keySet, V1Alpha1Vault vault, XksCredential credential, AwsSession session, CancellationToken cancellationToken)
    {
        var name = KeySetNames.KeyStoreName(keySet);
        var created = await session.CallAsync("CreateCustomKeyStore", (kms, ct) => kms.CreateCustomKeyStoreAsync(new CreateCustomKeyStoreRequest
        {
            CustomKeyStoreName = name,
            CustomKeyStoreType = CustomKeyStoreType.EXTERNAL_KEY_STORE,
            XksProxyUriEndpoint = Endpoint(vault),
            XksProxyUriPath = KeySetNames.UriPath(keySet),
            XksProxyConnectivity = Connectivity(keySet),
            XksProxyVpcEndpointServiceName = keySet.Spec.ExternalKeyStore.VpcEndpointServiceName,
            XksProxyAuthenticationCredential = Credential(credential),
        }, ct), cancellationToken).ConfigureAwait(false);
        Log.KeyStoreCreated(logger, keySet.Metadata.NamespaceProperty, keySet.Metadata.Name, created.CustomKeyStoreId, name);
        await events.NormalAsync(keySet, Reasons.Created, $"Created custom key store {created.CustomKeyStoreId} ({name}) for {Endpoint(vault)}{KeySetNames.UriPath(keySet)}", cancellationToken).ConfigureAwait(false);
        return new CustomKeyStoresListEntry
        {
            CustomKeyStoreId = created.CustomKeyStoreId,
            CustomKeyStoreName = name,
            ConnectionState = ConnectionStateType.DISCONNECTED,
            XksProxyConfiguration = new XksProxyConfigurationType { AccessKeyId = credential.AccessKeyId, UriEndpoint = Endpoint(vault), UriPath = KeySetNames.UriPath(keySet), Connectivity = Connectivity(keySet) },
        };
    }

    private async Task DisconnectAsync(V1Alpha1KeySet keySet, AwsSession session, CustomKeyStoresListEntry store, string why, CancellationToken cancellationToken)
    {
        if (store.ConnectionState == ConnectionStateType.DISCONNECTED || store.ConnectionState == ConnectionStateType.DISCONNECTING)
        {
            return;
        }

        await session.CallAsync("DisconnectCustomKeyStore", (kms, ct) => kms.DisconnectCustomKeyStoreAsync(new DisconnectCustomKeyStoreRequest { CustomKeyStoreId = store.CustomKeyStoreId }, ct), cancellationToken).ConfigureAwait(false);
        Log.Disconnected(logger, keySet.Metadata.NamespaceProperty, keySet.Metadata.Name, store.CustomKeyStoreId, why);
        await events.NormalAsync(keySet, Reasons.Disconnected, $"Disconnected custom key store {store.CustomKeyStoreId}: {why}", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Key material whose CloudKey was deleted with deletionPolicy Delete is destroyed only once KMS has really deleted
    /// the key (after its pending window) — never while the key could still be restored with CancelKeyDeletion. For a
    /// key in an HSM the version objects are destroyed first, then the Secret that lists them (a crash in between is
    /// finished by the next pass: destroying a key that has no objects left is a no-op).
    /// </summary>
    private async Task CollectReleasedMaterialAsync(V1Alpha1KeySet keySet, AwsSession session, CancellationToken cancellationToken)
    {
        var released = _secrets.List(keySet.Metadata.NamespaceProperty).Where(s =>
            s.Metadata.Label(KeySetCredentialSecret.KeySetLabel) == keySet.Metadata.Name
            && s.Metadata.Annotation(CloudKeyNames.ReleasedAnnotation) == nameof(V1Alpha1DeletionPolicy.Delete)
            && s.Metadata.Annotation(CloudKeyNames.KmsKeyIdAnnotation) is { Length: > 0 }).ToList();
        foreach (var secret in released)
        {
            var keyId = secret.Metadata.Annotations![CloudKeyNames.KmsKeyIdAnnotation];
            try
            {
                // Still pending deletion, or its deletion was cancelled in AWS (a new CloudKey can adopt it): keep the material.
                await session.CallAsync("DescribeKey", (kms, ct) => kms.DescribeKeyAsync(new DescribeKeyRequest { KeyId = keyId }, ct), cancellationToken).ConfigureAwait(false);
                continue;
            }
            catch (NotFoundException)
            {
            }

            if (!await DestroyHsmObjectsAsync(keySet, secret, keyId, cancellationToken).ConfigureAwait(false))
            {
                continue;
            }

            try
            {
                await client.CoreV1.DeleteNamespacedSecretAsync(secret.Metadata.Name, secret.Metadata.NamespaceProperty, cancellationToken: cancellationToken).ConfigureAwait(false);
                Log.MaterialDestroyed(logger, secret.Metadata.NamespaceProperty, secret.Metadata.Name, keyId);
                await events.NormalAsync(keySet, Reasons.KeyMaterialDestroyed, $"Destroyed key material Secret {secret.Metadata.Name}: KMS key {keyId} has been deleted by AWS", cancellationToken).ConfigureAwait(false);
            }
            catch (HttpOperationException ex) when (ex.Response.StatusCode == HttpStatusCode.NotFound)
            {
            }
        }
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
            if (!_vaults.TryGet(new(secret.Metadata.NamespaceProperty, vaultName), out var vault)
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

    private async Task<ReconcileResult> FinalizeAsync(V1Alpha1KeySet keySet, CancellationToken cancellationToken)
    {
        if (!(keySet.Metadata.Finalizers ?? []).Contains(Finalizer))
        {
            return ReconcileResult.Done;
        }

        var status = CustomResourceWriter.CopyOf(keySet.Status);
        var ns = keySet.Metadata.NamespaceProperty;
        if (status.CustomKeyStoreId is not { } id || !_accounts.TryGet(new(ns, keySet.Spec.CspAccountRef.Name), out var account))
        {
            if (status.CustomKeyStoreId is not null)
            {
                await events.WarningAsync(keySet, Reasons.CspAccountNotFound, $"CspAccount {keySet.Spec.CspAccountRef.Name} is gone: custom key store {status.CustomKeyStoreId} is left in AWS as it is", cancellationToken).ConfigureAwait(false);
            }

            await writer.RemoveFinalizerAsync(keySet, Finalizer, cancellationToken).ConfigureAwait(false);
            return ReconcileResult.Done;
        }

        if (keySet.Spec.DeletionPolicy == V1Alpha1DeletionPolicy.Delete)
        {
            var keys = _cloudKeys.List(ns).Where(k => k.Spec.KeySetRef.Name == keySet.Metadata.Name).Select(k => k.Metadata.Name).ToList();
            if (keys.Count > 0)
            {
                return await ready.WaitAsync(keySet, status, Reasons.Deleting, $"deletionPolicy Delete: waiting for {keys.Count} CloudKey(s) of this KeySet to be deleted first ({string.Join(", ", keys.Take(5))})", s_waitForDependency, cancellationToken).ConfigureAwait(false);
            }
        }

        var session = await aws.ForAccountAsync(account, KeySetNames.Region(keySet, account), cancellationToken).ConfigureAwait(false);
        CustomKeyStoresListEntry? store;
        try
        {
            var described = await session.CallAsync("DescribeCustomKeyStores", (kms, ct) => kms.DescribeCustomKeyStoresAsync(new DescribeCustomKeyStoresRequest { CustomKeyStoreId = id }, ct), cancellationToken).ConfigureAwait(false);
            store = described.CustomKeyStores?.FirstOrDefault();
        }
        catch (CustomKeyStoreNotFoundException)
        {
            store = null;
        }

        if (store is not null)
        {
            if (store.ConnectionState != ConnectionStateType.DISCONNECTED)
            {
                await DisconnectAsync(keySet, session, store, $"the KeySet is being deleted (deletionPolicy {keySet.Spec.DeletionPolicy})", cancellationToken).ConfigureAwait(false);
                return await ready.WaitAsync(keySet, status, Reasons.Disconnecting, "disconnecting the key store before the KeySet goes", s_poll, cancellationToken).ConfigureAwait(false);
            }

            if (keySet.Spec.DeletionPolicy == V1Alpha1DeletionPolicy.Delete)
            {
                try
                {
                    await session.CallAsync("DeleteCustomKeyStore", (kms, ct) => kms.DeleteCustomKeyStoreAsync(new DeleteCustomKeyStoreRequest { CustomKeyStoreId = id }, ct), cancellationToken).ConfigureAwait(false);
                    await events.NormalAsync(keySet, Reasons.Deleted, $"Deleted custom key store {id}", cancellationToken).ConfigureAwait(false);
                }
                catch (CustomKeyStoreHasCMKsException)
                {
                    // KMS keys (e.g. pending deletion) still live in it; AWS deletes them after their waiting period.
                    return await ready.WaitAsync(keySet, status, Reasons.Deleting, $"custom key store {id} still holds KMS keys (pending deletion?); it is deleted once AWS has removed them", TimeSpan.FromMinutes(10), cancellationToken).ConfigureAwait(false);
                }
            }
            else
            {
                await events.NormalAsync(keySet, Reasons.Retained, $"Left custom key store {id} in AWS, disconnected (deletionPolicy Retain)", cancellationToken).ConfigureAwait(false);
            }
        }

        await writer.RemoveFinalizerAsync(keySet, Finalizer, cancellationToken).ConfigureAwait(false);
        return ReconcileResult.Done;
    }

    /// <summary>Replaces the credential Secret guarded by its resourceVersion (a concurrent change → 409 → retry).</summary>
    private async Task ReplaceSecretAsync(V1Alpha1KeySet keySet, V1Secret existing, KeySetCredentialSecret credentials, CancellationToken cancellationToken)
    {
        var desired = credentials.Build(keySet, KeySetNames.UriPath(keySet));
        desired.Metadata.ResourceVersion = existing.Metadata.ResourceVersion;
        await client.CoreV1.ReplaceNamespacedSecretAsync(desired, desired.Metadata.Name, desired.Metadata.NamespaceProperty, fieldManager: ServerSideApply.FieldManager, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    internal static List<string> Validate(V1Alpha1KeySet keySet)
    {
        var problems = new List<string>();
        var store = keySet.Spec.ExternalKeyStore;
        if (store.Connectivity == V1Alpha1Connectivity.VpcEndpointService && string.IsNullOrEmpty(store.VpcEndpointServiceName))
        {
            problems.Add("spec.externalKeyStore.vpcEndpointServiceName is required with connectivity VpcEndpointService");
        }

        if (store.Connectivity == V1Alpha1Connectivity.PublicEndpoint && !string.IsNullOrEmpty(store.VpcEndpointServiceName))
        {
            problems.Add("spec.externalKeyStore.vpcEndpointServiceName is only allowed with connectivity VpcEndpointService");
        }

        var path = KeySetNames.UriPath(keySet);
        if (path.Length > 128)
        {
            problems.Add($"the key store's URI path {path} is {path.Length} characters; KMS allows at most 128 (set a shorter spec.uriPathPrefix)");
        }

        if (keySet.Spec.CredentialRotation?.Every is { } every && (!GoDuration.TryParse(every, out var interval) || interval < TimeSpan.FromMinutes(1)))
        {
            problems.Add($"spec.credentialRotation.every '{every}' must be a duration of at least 1m");
        }

        return problems;
    }

    private static bool NeedsEndpointUpdate(CustomKeyStoresListEntry store, V1Alpha1KeySet keySet, V1Alpha1Vault vault) =>
        store.XksProxyConfiguration is { } xks
        && (xks.UriEndpoint != Endpoint(vault) || xks.UriPath != KeySetNames.UriPath(keySet) || xks.Connectivity != Connectivity(keySet));

    private static string Endpoint(V1Alpha1Vault vault) => $"https://{vault.Spec.Hostname}";

    private static XksProxyConnectivityType Connectivity(V1Alpha1KeySet keySet) =>
        keySet.Spec.ExternalKeyStore.Connectivity == V1Alpha1Connectivity.VpcEndpointService
            ? XksProxyConnectivityType.VPC_ENDPOINT_SERVICE
            : XksProxyConnectivityType.PUBLIC_ENDPOINT;

    private static XksProxyAuthenticationCredentialType Credential(XksCredential credential) =>
        new() { AccessKeyId = credential.AccessKeyId, RawSecretAccessKey = credential.SecretAccessKey };

    private static string? RotationRequest(V1Alpha1KeySet keySet) =>
        keySet.Metadata.Annotation(CloudKeyNames.RotateCredentialAnnotation) is { Length: > 0 } value ? value : null;

    /// <summary>When to look again: the sooner of the next rotation step and the drift check, never under a second.</summary>
    private TimeSpan NextCheck(TimeSpan untilRotation) =>
        TimeSpan.FromTicks(Math.Clamp(untilRotation.Ticks, TimeSpan.TicksPerSecond, Math.Max(TimeSpan.TicksPerSecond, options.AwsResyncPeriod.Ticks)));
}
