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

    /// <summary>
    /// Its credential Secret, and the Vault, CspAccount (or ClusterCspAccount, and the labels of its own Namespace that
    /// decide whether it may use one) and CloudKeys a KeySet depends on.
    /// </summary>
    public static void Setup(Controller<V1Alpha1KeySet> keySets, IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(keySets);
        ArgumentNullException.ThrowIfNull(services);
        if (services.GetRequiredService<OperatorOptions>().ServesClusterKinds)
        {
            keySets
                .Watches<V1Alpha1ClusterCspAccount>(account => CspAccountResolver.KeySetsUsingClusterAccount(keySets.Informer.List(), account.Metadata.Name))
                .Watches<V1Namespace>(
                    ns => CspAccountResolver.KeySetsOfNamespaceUsingClusterAccounts(keySets.Informer.List(ns.Metadata.Name)),
                    modifiedMatters: CspAccountDecisions.NamespaceChangeMatters);
        }

        keySets
            .Owns<V1Secret>(VaultController.ChildSelector)
            .Watches<V1Alpha1Vault>(vault => Referencing(keySets, vault, k => k.Spec.VaultRef.Name))
            .Watches<V1Alpha1CspAccount>(account => Referencing(keySets, account, k => k.Spec.CspAccountRef.Kind == V1Alpha1CspAccountKind.CspAccount ? k.Spec.CspAccountRef.Name : ""))
            // A CloudKey going away releases its material (collected here) and may be what a deleting KeySet waits for;
            // its other changes (status writes above all) are no concern of the KeySet's and cost no key store read.
            .Watches<V1Alpha1CloudKey>(key => key.Metadata.DeletionTimestamp is null ? [] : [new ResourceKey(key.Metadata.NamespaceProperty, key.Spec.KeySetRef.Name)])
            // Key material released for deletion (its CloudKey deleted with deletionPolicy Delete): its KeySet learns the
            // deletion date at once, whichever informer heard first, and looks again then.
            .Watches<V1Secret>(ReleasedMaterialOf, VaultController.ChildSelector, modifiedMatters: (before, after) => KeyMaterialMarks.Of(before) != KeyMaterialMarks.Of(after))
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

    /// <summary>The KeySet that collects <paramref name="secret"/>, when it is key material released for deletion.</summary>
    internal static IEnumerable<ResourceKey> ReleasedMaterialOf(V1Secret secret) =>
        secret.Metadata?.Label(KeySetCredentialSecret.KeySetLabel) is { Length: > 0 } keySet && KeyMaterialMarks.Of(secret).ReleasedForDeletion
            ? [new ResourceKey(secret.Metadata.NamespaceProperty, keySet)]
            : [];

    private static IEnumerable<ResourceKey> Referencing(Controller<V1Alpha1KeySet> keySets, IKubernetesObject<V1ObjectMeta> target, Func<V1Alpha1KeySet, string> reference)
    {
        var ns = target.Metadata.NamespaceProperty;
        return keySets.Informer.List(ns).Where(k => reference(k) == target.Metadata.Name).Select(k => new ResourceKey(ns, k.Metadata.Name));
    }

    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan WaitForDependency = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan FailedStoreRetry = TimeSpan.FromSeconds(15);
    private readonly ResourceInformer<V1Alpha1Vault> _vaults = informers.GetInformer<V1Alpha1Vault>();
    private readonly ResourceInformer<V1Alpha1KeySet> _keySets = informers.GetInformer<V1Alpha1KeySet>();
    private readonly CspAccountResolver _accounts = new(informers, options);
    private readonly ResourceInformer<V1Alpha1CloudKey> _cloudKeys = informers.GetInformer<V1Alpha1CloudKey>();
    private readonly ResourceInformer<V1Secret> _secrets = informers.GetInformer<V1Secret>(VaultController.ChildSelector);
    private readonly KeySetCredentialStep _credentials = new(client, events, options, timeProvider, logger);
    private readonly KeySetKeyStoreStep _keyStore = new(events, logger);
    private readonly ReleasedMaterialCollector _releasedMaterial = new(client, events, hsm, informers.GetInformer<V1Secret>(VaultController.ChildSelector), informers.GetInformer<V1Alpha1Vault>(), logger);

    public async Task<ReconcileResult> ReconcileAsync(V1Alpha1KeySet keySet, CancellationToken cancellationToken)
    {
        try
        {
            return await ConvergeAsync(keySet, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (TransientFailure.Classify(ex, $"{keySet.Spec.CspAccountRef.Kind} {keySet.Spec.CspAccountRef.Name}", cancellationToken.IsCancellationRequested) is { } failure)
        {
            // KMS's VPC endpoint service refusals name the rule; the operator adds what to check in EC2.
            _vaults.TryGet(new(keySet.Metadata.NamespaceProperty, keySet.Spec.VaultRef.Name), out var vault);
            if (VpcEndpointServiceChecks.Hint(failure.Reason, keySet, vault) is { } hint)
            {
                failure = failure with { Message = $"{failure.Message}; {hint}" };
            }

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
            return ReconcileResult.After(WaitForDependency);
        }

        // An empty prefix needs the Vault to itself; a prefix is served once (the KeySet that came first keeps it).
        if (KeySetNames.UriPathPrefixConflict(keySet, _keySets.List(ns)) is { } clash)
        {
            await ready.ReportAsync<V1Alpha1KeySet, V1Alpha1KeySetStatus>(keySet, Reasons.Conflict, clash, cancellationToken).ConfigureAwait(false);
            return ReconcileResult.After(WaitForDependency);
        }

        // Not found, or a ClusterCspAccount not shared with this namespace: nothing is called in AWS for this KeySet.
        var lookup = await _accounts.ResolveAsync(keySet, cancellationToken).ConfigureAwait(false);
        if (lookup.Account is not { } account)
        {
            await ready.ReportAsync<V1Alpha1KeySet, V1Alpha1KeySetStatus>(keySet, lookup.Reason, lookup.Message, cancellationToken).ConfigureAwait(false);
            return ReconcileResult.After(WaitForDependency);
        }

        await writer.AddFinalizerAsync(keySet, Finalizer, cancellationToken).ConfigureAwait(false);
        var status = CustomResourceWriter.CopyOf(keySet.Status);
        status.UriPath = KeySetNames.UriPath(keySet);
        status.CredentialSecretName = KeySetNames.CredentialSecret(keySet);
        status.ObservedGeneration = keySet.Metadata.Generation;

        var credentials = await _credentials.EnsureAsync(keySet, status, cancellationToken).ConfigureAwait(false);
        if (!Conditions.IsTrue(account.Status?.Conditions, ConditionTypes.Ready))
        {
            return await ready.WaitAsync(keySet, status, Reasons.WaitingForCspAccount, $"waiting for {account.Description} to be Ready", Poll, cancellationToken).ConfigureAwait(false);
        }

        // KMS checks the proxy's health with the credential when the store is created, updated or connected: wait
        // until the Vault's rendered config includes every credential we are about to hand to KMS.
        var served = _secrets.ServedProxyConfig(vault);
        if (!served.AccessKeyIds.Contains(credentials.Current.AccessKeyId))
        {
            return await ready.WaitAsync(keySet, status, Reasons.WaitingForVault, $"waiting for Vault {vault.Metadata.Name}'s proxy config to include the key store's credential {credentials.Current.AccessKeyId}", Poll, cancellationToken).ConfigureAwait(false);
        }

        // KMS would refuse the proxy's certificate (expired, wrong name, untrusted, …): no key store call until it is fixed.
        if (KeySetDecisions.VaultCertificateRefusal(vault) is { } certificate)
        {
            return await ready.WaitAsync(keySet, status, Reasons.VaultCertificateNotReady, certificate, WaitForDependency, cancellationToken).ConfigureAwait(false);
        }

        if (keySet.Spec.ExternalKeyStore.Connectivity == V1Alpha1Connectivity.VpcEndpointService
            && VpcEndpointServiceChecks.RegionProblem(keySet.Spec.ExternalKeyStore.VpcEndpointServiceName, KeySetNames.Region(keySet, account.Spec)) is { } regionProblem)
        {
            return await ready.WaitAsync(keySet, status, Reasons.VpcEndpointServiceInvalid, regionProblem, WaitForDependency, cancellationToken).ConfigureAwait(false);
        }

        // A pending credential goes to KMS only once the proxy accepts it; until then the store keeps working as it is.
        var pendingServed = credentials.Pending is not { } pending || served.AccessKeyIds.Contains(pending.AccessKeyId);

        var session = await aws.ForAccountAsync(account, KeySetNames.Region(keySet, account.Spec), cancellationToken).ConfigureAwait(false);
        var store = await _keyStore.FindAsync(keySet, status, credentials.AccessKeyIds, session, cancellationToken).ConfigureAwait(false);
        if (store is null)
        {
            if (status.CustomKeyStoreId is { } lost)
            {
                // It existed and is gone: someone deleted it in AWS. Creating a new one would orphan every KMS key of
                // the old one silently; a human decides (delete status or the KeySet to start over).
                status.ConnectionState = null;
                return await ready.WaitAsync(keySet, status, Reasons.KeyStoreNotFound, $"custom key store {lost} no longer exists in AWS KMS (deleted outside the operator); recreate the KeySet to make a new one", WaitForDependency, cancellationToken).ConfigureAwait(false);
            }

            store = await _keyStore.CreateAsync(keySet, vault, credentials.Current, session, cancellationToken).ConfigureAwait(false);
            status.CustomKeyStoreId = store.CustomKeyStoreId;
            await writer.WriteStatusAsync(keySet, status, cancellationToken).ConfigureAwait(false);
            status = CustomResourceWriter.CopyOf(keySet.Status);
        }

        var plan = KeySetDecisions.Plan(new KeyStoreObservation(
            store.CustomKeyStoreId, store.ConnectionState?.Value, store.ConnectionErrorCode?.Value, status.ConnectionErrorCode,
            KeySetKeyStoreStep.NeedsEndpointUpdate(store, keySet, vault), keySet.Spec.Blocked, $"{KeySetKeyStoreStep.Endpoint(vault)}{status.UriPath}"));
        status.CustomKeyStoreId = store.CustomKeyStoreId;
        status.ConnectionErrorCode = plan.ErrorCode;
        status.ConnectionState = store.ConnectionState?.Value;
        switch (plan.Action)
        {
            case KeyStoreAction.DisconnectToUpdate:
                await _keyStore.DisconnectAsync(keySet, session, store, "its endpoint, path or connectivity must change", cancellationToken).ConfigureAwait(false);
                return await WaitAsync(keySet, status, plan, cancellationToken).ConfigureAwait(false);
            case KeyStoreAction.Update:
                await _keyStore.UpdateAsync(keySet, vault, store, credentials.Current, session, cancellationToken).ConfigureAwait(false);
                return await WaitAsync(keySet, status, plan, cancellationToken).ConfigureAwait(false);
        }

        var rotation = pendingServed
            ? await _credentials.ConvergeAsync(keySet, status, credentials, store, session, cancellationToken).ConfigureAwait(false)
            : Poll;
        var materialDue = await _releasedMaterial.CollectAsync(keySet, session, account.Status?.AccountId, timeProvider.GetUtcNow(), cancellationToken).ConfigureAwait(false);

        switch (plan.Action)
        {
            case KeyStoreAction.DisconnectAfterFailure:
                await _keyStore.DisconnectAsync(keySet, session, store, $"its connection failed with {plan.ErrorCode}; it is retried", cancellationToken).ConfigureAwait(false);
                break;
            case KeyStoreAction.Connect:
                await _keyStore.ConnectAsync(keySet, store, session, cancellationToken).ConfigureAwait(false);
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
            return ReconcileResult.After(NextCheck(materialDue is { } due && due < rotation ? due : rotation));
        }

        return await WaitAsync(keySet, status, plan, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes a plan's not-Ready condition with the status and requeues after the plan's pause.</summary>
    private Task<ReconcileResult> WaitAsync(V1Alpha1KeySet keySet, V1Alpha1KeySetStatus status, KeyStorePlan plan, CancellationToken cancellationToken) =>
        ready.WaitAsync(keySet, status, plan.Ready.Reason, plan.Ready.Message, plan.Requeue == KeySetRequeue.FailedRetry ? FailedStoreRetry : Poll, cancellationToken);

    private async Task<ReconcileResult> FinalizeAsync(V1Alpha1KeySet keySet, CancellationToken cancellationToken)
    {
        if (!(keySet.Metadata.Finalizers ?? []).Contains(Finalizer))
        {
            return ReconcileResult.Done;
        }

        var status = CustomResourceWriter.CopyOf(keySet.Status);
        var ns = keySet.Metadata.NamespaceProperty;
        var lookup = status.CustomKeyStoreId is null ? null : await _accounts.ResolveAsync(keySet, cancellationToken).ConfigureAwait(false);
        if (status.CustomKeyStoreId is not { } id || lookup?.Account is not { } account)
        {
            if (lookup is not null)
            {
                await events.WarningAsync(keySet, lookup.Reason, $"{lookup.Message}: custom key store {status.CustomKeyStoreId} is left in AWS as it is", cancellationToken).ConfigureAwait(false);
            }

            await writer.RemoveFinalizerAsync(keySet, Finalizer, cancellationToken).ConfigureAwait(false);
            return ReconcileResult.Done;
        }

        if (keySet.Spec.DeletionPolicy == V1Alpha1DeletionPolicy.Delete)
        {
            var keys = _cloudKeys.List(ns).Where(k => k.Spec.KeySetRef.Name == keySet.Metadata.Name).Select(k => k.Metadata.Name).ToList();
            if (keys.Count > 0)
            {
                return await ready.WaitAsync(keySet, status, Reasons.Deleting, $"deletionPolicy Delete: waiting for {keys.Count} CloudKey(s) of this KeySet to be deleted first ({string.Join(", ", keys.Take(5))})", WaitForDependency, cancellationToken).ConfigureAwait(false);
            }
        }

        var session = await aws.ForAccountAsync(account, KeySetNames.Region(keySet, account.Spec), cancellationToken).ConfigureAwait(false);
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

        if (store is not null && await NotOursAsync(keySet, store, cancellationToken).ConfigureAwait(false) is { } notOurs)
        {
            // status.customKeyStoreId names a store this KeySet cannot prove is its own: never disconnect or delete it.
            await events.WarningAsync(keySet, Reasons.Conflict, $"the KeySet is being deleted, but {notOurs}", cancellationToken).ConfigureAwait(false);
            await writer.RemoveFinalizerAsync(keySet, Finalizer, cancellationToken).ConfigureAwait(false);
            return ReconcileResult.Done;
        }

        if (store is not null)
        {
            if (store.ConnectionState != ConnectionStateType.DISCONNECTED)
            {
                await _keyStore.DisconnectAsync(keySet, session, store, $"the KeySet is being deleted (deletionPolicy {keySet.Spec.DeletionPolicy})", cancellationToken).ConfigureAwait(false);
                return await ready.WaitAsync(keySet, status, Reasons.Disconnecting, "disconnecting the key store before the KeySet goes", Poll, cancellationToken).ConfigureAwait(false);
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

    /// <summary>Why <paramref name="store"/> is not provably this KeySet's (its credential Secret unreadable counts), or null.</summary>
    private async Task<string?> NotOursAsync(V1Alpha1KeySet keySet, CustomKeyStoresListEntry store, CancellationToken cancellationToken)
    {
        var secret = await client.ReadSecretOrNullAsync(keySet.Metadata.NamespaceProperty, KeySetNames.CredentialSecret(keySet), cancellationToken).ConfigureAwait(false);
        var ours = secret is not null && KeySetCredentialSecret.TryRead(secret, out var credentials, out _) ? credentials!.AccessKeyIds : [];
        return KeySetDecisions.StoreOwnershipRefusal(store.CustomKeyStoreId, store.CustomKeyStoreName, store.XksProxyConfiguration?.AccessKeyId, ours);
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

        if (store.Connectivity == V1Alpha1Connectivity.VpcEndpointService)
        {
            problems.AddRange(VpcEndpointServiceChecks.NameProblems(store.VpcEndpointServiceName));
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

        if (keySet.Spec.Defaults?.Rotation?.Every is { } keyEvery && (!GoDuration.TryParse(keyEvery, out var keyInterval) || keyInterval < TimeSpan.FromMinutes(1)))
        {
            problems.Add($"spec.defaults.rotation.every '{keyEvery}' must be a duration of at least 1m");
        }

        return problems;
    }

    /// <summary>
    /// When to look again: the soonest of the next rotation step or released material's deletion date (whichever the
    /// caller passes) and the drift check, never under a second.
    /// </summary>
    private TimeSpan NextCheck(TimeSpan untilNextStep) =>
        TimeSpan.FromTicks(Math.Clamp(untilNextStep.Ticks, TimeSpan.TicksPerSecond, Math.Max(TimeSpan.TicksPerSecond, options.AwsResyncPeriod.Ticks)));
}
