using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Xks.Operator.Api;
using Xks.Operator.Entities;
using Xks.Operator.Entities.CertManager;
using Xks.Operator.Hosting;
using Xks.Operator.Hsm;
using Xks.Operator.Options;
using Xks.Operator.Resources;
using Xks.Operator.Runtime.Controllers;
using Xks.Operator.Runtime.Informers;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Xks.Operator.Controllers;

/// <summary>
/// Converges one Vault: the proxy's identity and RBAC, its master key (created once, never overwritten), its rendered
/// config, Deployment, Services, Ingress or LoadBalancer, Certificate, PodDisruptionBudget and NetworkPolicy — applied with
/// server-side apply, so an unchanged world costs no writes and a child edited or deleted by hand is restored.
/// Status (endpoint, replicas, Ready / ProxyAvailable / CertificateReady, and HsmAvailable on the PKCS#11 backend) is
/// derived from the children and written through /status only when it changed. A Vault on the PKCS#11 backend has no
/// master key: its pods mount the PIN Secret, and the operator checks that it can log in to the HSM with it.
/// </summary>
internal sealed partial class VaultController(
    IKubernetes client,
    ServerSideApply apply,
    CustomResourceWriter writer,
    ReadyReporter ready,
    EventRecorder events,
    InformerFactory informers,
    IHsmKeys hsm,
    OperatorOptions options,
    OperatorEnvironment environment,
    TimeProvider timeProvider,
    ILogger<VaultController> logger) : IReconciler<V1Alpha1Vault>, IControllerSetup<V1Alpha1Vault>
{
    /// <summary>Keeps the master key from being deleted with the Vault while keys wrapped by it exist.</summary>
    public const string Finalizer = "xks.dev/master-key";

    /// <summary>Selects the children the operator watches (every child carries this label).</summary>
    public const string ChildSelector = VaultLabels.ManagedSelector;

    private static readonly TimeSpan NotReadyRecheck = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan ChildConflictRecheck = TimeSpan.FromSeconds(5);
    private readonly ResourceInformer<V1Deployment> _deployments = informers.GetInformer<V1Deployment>(ChildSelector);
    private readonly ResourceInformer<V1Alpha1KeySet> _keySets = informers.GetInformer<V1Alpha1KeySet>();
    private readonly ResourceInformer<V1Alpha1CloudKey> _cloudKeys = informers.GetInformer<V1Alpha1CloudKey>();
    private readonly ResourceInformer<V1Alpha1CspAccount> _accounts = informers.GetInformer<V1Alpha1CspAccount>();
    private readonly ResourceInformer<V1Alpha1ClusterCspAccount>? _clusterAccounts = options.ServesClusterKinds ? informers.GetInformer<V1Alpha1ClusterCspAccount>() : null;
    private readonly ResourceInformer<V1Secret> _secrets = informers.GetInformer<V1Secret>(ChildSelector);
    private readonly CachedChildMetadata _childMetadata = new(apply, informers, ChildSelector);
    private readonly RootKeyStep _rootKey = new(client, events, hsm, timeProvider);
    /// <summary>
    /// The Vault's children (by the managed-by label), its Secrets (by the vault label: the master key deliberately has
    /// no owner reference), the PIN Secret it names, and the KeySets and CloudKeys whose keys its config serves.
    /// </summary>
    public static void Setup(Controller<V1Alpha1Vault> vaults, IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(vaults);
        ArgumentNullException.ThrowIfNull(services);
        var client = services.GetRequiredService<IKubernetes>();
        var options = services.GetRequiredService<OperatorOptions>();
        var version = services.GetRequiredService<OperatorEnvironment>().PodDisruptionBudgetVersion;
        var keySets = vaults.SharedInformer<V1Alpha1KeySet>();
        vaults
            .Owns<V1Deployment>(ChildSelector)
            .Owns<V1Service>(ChildSelector)
            .Owns<V1ServiceAccount>(ChildSelector)
            .Owns<V1Role>(ChildSelector)
            .Owns<V1RoleBinding>(ChildSelector)
            .Owns<V1Ingress>(ChildSelector)
            .Owns<V1NetworkPolicy>(ChildSelector)
            .Owns(ResourceApi.Custom<V1PodDisruptionBudget>(client, options.Namespace, ResourceType.Of<V1PodDisruptionBudget>() with { Version = version }), ChildSelector)
            .Watches<V1Secret>(
                secret => secret.Metadata.Labels is { } labels && labels.TryGetValue(VaultLabels.VaultLabel, out var vault)
                    ? [new Runtime.ResourceKey(secret.Metadata.NamespaceProperty, vault)]
                    : [],
                ChildSelector,
                VaultDecisions.SecretChangeMatters)
            // The PIN Secret a Vault on the PKCS#11 backend names (a user's Secret, unlabelled): created or fixed → look again.
            // …and the serving-certificate Secret it names without issuerRef: renewed or fixed → checked again at once.
            .Watches(UserSecrets.Informer(services.GetRequiredService<InformerFactory>()), secret => VaultsUsingPinSecret(vaults.Informer, secret).Concat(VaultsUsingTlsSecret(vaults.Informer, secret)).Distinct())
            .Watches<V1Alpha1KeySet>(keySet => [new Runtime.ResourceKey(keySet.Metadata.NamespaceProperty, keySet.Spec.VaultRef.Name)])
            // The config depends on a CloudKey's spec and its deletion, not on its status: a status write (most of the
            // changes at scale) re-renders nothing.
            .Watches<V1Alpha1CloudKey>(key => ConfigMayChange(key) && keySets.TryGet(new Runtime.ResourceKey(key.Metadata.NamespaceProperty, key.Spec.KeySetRef.Name), out var keySet)
                ? [new Runtime.ResourceKey(key.Metadata.NamespaceProperty, keySet.Spec.VaultRef.Name)]
                : []);
    }

    /// <summary>
    /// True when <paramref name="key"/> may change what its Vault's config renders: new or with a spec not reconciled yet
    /// (observedGeneration behind generation), or being deleted. A status write of a reconciled spec is not.
    /// </summary>
    public static bool ConfigMayChange(V1Alpha1CloudKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return key.Metadata.DeletionTimestamp is not null || key.Status?.ObservedGeneration != key.Metadata.Generation;
    }

    /// <summary>The Vaults on the PKCS#11 backend or HsmSealed whose pinSecretRef names <paramref name="secret"/>.</summary>
    public static IEnumerable<Runtime.ResourceKey> VaultsUsingPinSecret(ResourceInformer<V1Alpha1Vault> vaults, V1Secret secret)
    {
        ArgumentNullException.ThrowIfNull(vaults);
        ArgumentNullException.ThrowIfNull(secret);
        var ns = secret.Metadata?.NamespaceProperty ?? "";
        var name = secret.Metadata?.Name;
        return vaults.List(ns)
            .Where(v => (v.Spec?.KeyBackend is { Type: V1Alpha1KeyBackendType.Pkcs11, Pkcs11.PinSecretRef: { } pin } && pin.Name == name)
                || (v.Spec?.KeyProtection is { Mode: V1Alpha1KeyProtectionMode.HsmSealed, Hsm.PinSecretRef: { } sealingPin } && sealingPin.Name == name))
            .Select(Runtime.ResourceKey.From)
            .ToList();
    }

    /// <summary>The Vaults whose spec.tls.secretName (without issuerRef: the user's own certificate) names <paramref name="secret"/>.</summary>
    public static IEnumerable<Runtime.ResourceKey> VaultsUsingTlsSecret(ResourceInformer<V1Alpha1Vault> vaults, V1Secret secret)
    {
        ArgumentNullException.ThrowIfNull(vaults);
        ArgumentNullException.ThrowIfNull(secret);
        var name = secret.Metadata?.Name;
        return vaults.List(secret.Metadata?.NamespaceProperty ?? "")
            .Where(v => UsesOwnTlsSecret(v, name))
            .Select(Runtime.ResourceKey.From)
            .ToList();
    }

    /// <summary>True when <paramref name="vault"/> serves the user's own certificate from the Secret <paramref name="secretName"/> (no issuerRef).</summary>
    public static bool UsesOwnTlsSecret(V1Alpha1Vault vault, string? secretName)
    {
        ArgumentNullException.ThrowIfNull(vault);
        return secretName is not null && vault.Spec?.Tls is { IssuerRef: null } tls && tls.SecretName == secretName;
    }

    public async Task<ReconcileResult> ReconcileAsync(V1Alpha1Vault vault, CancellationToken cancellationToken)
    {
        try
        {
            return await ConvergeAsync(vault, cancellationToken).ConfigureAwait(false);
        }
        catch (ChildConflictException ex)
        {
            // Not a fault to back off from: usually the garbage collector is still removing the children of a deleted
            // Vault of the same name. Look again soon (a deleted child also wakes us up at once).
            await ready.ReportAsync<V1Alpha1Vault, V1Alpha1VaultStatus>(vault, Reasons.ReconcileFailed, $"reconcile blocked: {ex.Message}", cancellationToken).ConfigureAwait(false);
            return ReconcileResult.After(ChildConflictRecheck);
        }
        catch (Exception ex) when (ex is not OperationCanceledException && !IsConflict(ex))
        {
            // The runtime retries with backoff; the user sees why in `kubectl describe` and in the Ready condition.
            await ready.ReportAsync<V1Alpha1Vault, V1Alpha1VaultStatus>(vault, Reasons.ReconcileFailed, $"reconcile failed, retrying with backoff: {Describe(ex)}", cancellationToken).ConfigureAwait(false);
            throw;
        }
    }

    private async Task<ReconcileResult> ConvergeAsync(V1Alpha1Vault vault, CancellationToken cancellationToken)
    {
        if (vault.Metadata.DeletionTimestamp is not null)
        {
            await FinalizeAsync(vault, cancellationToken).ConfigureAwait(false);
            return ReconcileResult.Done;
        }

        await writer.AddFinalizerAsync(vault, Finalizer, cancellationToken).ConfigureAwait(false);

        var status = CustomResourceWriter.CopyOf(vault.Status);
        status.ObservedGeneration = vault.Metadata.Generation;
        status.Endpoint = $"https://{vault.Spec.Hostname}";
        status.ConfigSecretName = VaultNames.ConfigSecret(vault);

        var problems = VaultSpecValidator.Validate(vault);
        if (problems.Count > 0)
        {
            var message = string.Join("; ", problems);
            ready.Set(vault, status, ConditionTypes.Ready, ConditionStatus.False, Reasons.InvalidSpec, message);
            await events.WarningAsync(vault, Reasons.InvalidSpec, message, cancellationToken).ConfigureAwait(false);
            await ready.WriteAsync(vault, status, cancellationToken).ConfigureAwait(false);
            Log.InvalidSpec(logger, vault.Metadata.NamespaceProperty, vault.Metadata.Name, message);
            return ReconcileResult.Done;
        }

        var refusals = options.VaultAllowList().Refusals(vault);
        if (refusals.Count > 0)
        {
            // Nothing is applied and no HSM is touched: what the spec asks for would run beyond the Vault.
            var message = string.Join("; ", refusals);
            ready.Set(vault, status, ConditionTypes.Ready, ConditionStatus.False, Reasons.NotAllowed, message);
            await events.WarningAsync(vault, Reasons.NotAllowed, message, cancellationToken).ConfigureAwait(false);
            await ready.WriteAsync(vault, status, cancellationToken).ConfigureAwait(false);
            return ReconcileResult.Done;
        }

        var backend = ProxyBackendModel.ForVault(vault);
        var masterKeyProblem = !backend.HasMasterKey ? null : await EnsureMasterKeyAsync(vault, cancellationToken).ConfigureAwait(false);
        var (rootStatus, rootReason, rootMessage) = VaultDecisions.RootKeyProtection(vault, backend);
        ready.Set(vault, status, ConditionTypes.RootKeyProtected, rootStatus, rootReason, rootMessage);
        TimeSpan? rootKeyRequeue = null;
        var hsmProblem = backend.Sealing is { } sealing && backend.IsHsmSealed
            ? await CheckRootKeyAsync(vault, status, sealing, requeue => rootKeyRequeue = requeue, cancellationToken).ConfigureAwait(false)
            : backend.IsPkcs11 ? await CheckHsmAsync(vault, status, cancellationToken).ConfigureAwait(false) : null;
        if (!backend.IsPkcs11 && !backend.IsHsmSealed)
        {
            Conditions.Remove(status.Conditions, ConditionTypes.HsmAvailable);
        }

        if (backend.IsShamir)
        {
            // The keyring (sealed roots) goes into the config; without it no proxy could ever be unsealed.
            var (withKeyring, keyringProblem) = await WithKeyringAsync(vault, backend, cancellationToken).ConfigureAwait(false);
            if (keyringProblem is { } problem)
            {
                ready.Set(vault, status, ConditionTypes.Ready, ConditionStatus.False, problem.Reason, problem.Message);
                await events.WarningAsync(vault, problem.Reason, problem.Message, cancellationToken).ConfigureAwait(false);
                await ready.WriteAsync(vault, status, cancellationToken).ConfigureAwait(false);
                return ReconcileResult.After(NotReadyRecheck);
            }

            backend = withKeyring;
        }

        var keyStores = KeyStoresOf(vault, backend);
        foreach (var problem in keyStores.Problems)
        {
            await events.WarningAsync(vault, Reasons.ConfigIncomplete, $"left out of the proxy config: {problem}", cancellationToken).ConfigureAwait(false);
        }

        var config = ProxyConfigModel.ForVault(vault, keyStores.KeyStores, keyStores.Regions) with { Backend = backend };
        var configProblems = ProxyConfigRenderer.Validate(config);
        if (configProblems.Count > 0)
        {
            // Never hand the proxy a config it would refuse: its replicas keep serving the last good one.
            var message = $"the proxy would refuse the rendered config, so it is not applied: {string.Join("; ", configProblems)}";
            ready.Set(vault, status, ConditionTypes.Ready, ConditionStatus.False, Reasons.ConfigInvalid, message);
            await events.WarningAsync(vault, Reasons.ConfigInvalid, message, cancellationToken).ConfigureAwait(false);
            await ready.WriteAsync(vault, status, cancellationToken).ConfigureAwait(false);
            Log.ConfigInvalid(logger, vault.Metadata.NamespaceProperty, vault.Metadata.Name, string.Join("; ", configProblems));
            return ReconcileResult.Done;
        }

        var children = VaultResources.Build(
            vault,
            new VaultResourceOptions(options.ProxyImage, $"policy/{environment.PodDisruptionBudgetVersion}", options.NetworkPolicyDefaults()),
            config);

        var certificateMissingApi = false;
        foreach (var child in children.All())
        {
            if (ReferenceEquals(child, children.ConfigSecret)
                && VaultDecisions.ConfigSecretCurrent(_secrets.TryGet(new Runtime.ResourceKey(vault.Metadata.NamespaceProperty, children.ConfigSecret.Metadata.Name), out var cached) ? cached : null, children.ConfigSecret, vault.Metadata.Uid))
            {
                continue;
            }

            try
            {
                await ApplyChildAsync(vault, child, cancellationToken).ConfigureAwait(false);
            }
            catch (HttpOperationException ex) when (child is V1Certificate && ex.Response.StatusCode == HttpStatusCode.NotFound)
            {
                certificateMissingApi = true;
            }
        }

        foreach (var unwanted in children.Unwanted)
        {
            await DeleteUnwantedAsync(vault, unwanted, cancellationToken).ConfigureAwait(false);
        }

        // ProxyAvailable from the Deployment (kept up to date by the informer that also wakes us on its changes).
        var desiredReplicas = children.Deployment.Spec.Replicas ?? 1;
        _deployments.TryGet(new Runtime.ResourceKey(vault.Metadata.NamespaceProperty, VaultNames.Deployment(vault)), out var deployment);
        status.Replicas = deployment?.Status?.Replicas ?? 0;
        status.ReadyReplicas = deployment?.Status?.ReadyReplicas ?? 0;
        var available = deployment?.Status?.AvailableReplicas ?? 0;
        var (proxyStatus, proxyReason, proxyMessage) = VaultDecisions.ProxyAvailability(vault, backend, available, desiredReplicas);
        ready.Set(vault, status, ConditionTypes.ProxyAvailable, proxyStatus, proxyReason, proxyMessage);

        status.CertificateSecretName = VaultNames.TlsSecret(vault);
        TimeSpan? certificateRecheck = null;
        var (certificateStatus, certificateReason, certificateMessage) = certificateMissingApi
            ? (ConditionStatus.False, Reasons.CertManagerNotInstalled, "the cert-manager.io/v1 Certificate API is not served: install cert-manager, or set spec.tls.secretName to an existing kubernetes.io/tls Secret and drop spec.tls.issuerRef")
            : await BothCertificatesStateAsync(vault, status, after => certificateRecheck = after, cancellationToken).ConfigureAwait(false);
        if (certificateReason == Reasons.CertificateExpiringSoon && Conditions.Get(vault.Status?.Conditions, ConditionTypes.CertificateReady)?.Reason != Reasons.CertificateExpiringSoon)
        {
            // Still serving (Ready stays True), but someone must renew it: say so once, when the warning starts.
            await events.WarningAsync(vault, Reasons.CertificateExpiringSoon, certificateMessage, cancellationToken).ConfigureAwait(false);
        }

        ready.Set(vault, status, ConditionTypes.CertificateReady, certificateStatus, certificateReason, certificateMessage);

        if (masterKeyProblem is { } masterKeyFailure)
        {
            ready.Set(vault, status, ConditionTypes.Ready, ConditionStatus.False, masterKeyFailure.Reason, masterKeyFailure.Problem);
        }
        else if (hsmProblem is { } hsmFailure)
        {
            ready.Set(vault, status, ConditionTypes.Ready, ConditionStatus.False, hsmFailure.Reason, hsmFailure.Message);
        }
        else if (Conditions.Get(status.Conditions, ConditionTypes.ProxyAvailable) is { Status: not ConditionStatus.True } proxy)
        {
            ready.Set(vault, status, ConditionTypes.Ready, ConditionStatus.False, Reasons.ProxyUnavailable, proxy.Message);
        }
        else if (Conditions.Get(status.Conditions, ConditionTypes.CertificateReady) is { Status: not ConditionStatus.True } certificate)
        {
            ready.Set(vault, status, ConditionTypes.Ready, ConditionStatus.False, certificate.Reason, certificate.Message);
        }
        else
        {
            ready.Set(vault, status, ConditionTypes.Ready, ConditionStatus.True, Reasons.Available, $"the proxy serves {status.Endpoint} with {available} replicas");
        }

        // A Vault that stops being Ready is a Warning: its proxy (and every key it serves) is affected.
        await ready.WriteAsync(vault, status, cancellationToken, warnWhenNotReady: true).ConfigureAwait(false);
        TimeSpan? recheck = Conditions.IsTrue(status.Conditions, ConditionTypes.Ready) ? null : NotReadyRecheck;
        if (rootKeyRequeue is { } rootKey)
        {
            // A root-key rotation in progress looks again when its next step is due (at least a second apart).
            var due = rootKey < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : rootKey;
            recheck = recheck is { } other && other < due ? other : due;
        }

        if (certificateRecheck is { } certificateDue)
        {
            // The certificate's outcome changes by the clock alone: when it becomes valid, the expiry warning starts, it expires.
            var due = VaultDecisions.CertificateRecheck(certificateDue);
            recheck = recheck is { } other && other < due ? other : due;
        }

        return recheck is { } delay ? ReconcileResult.After(delay) : ReconcileResult.Done;
    }

    /// <summary>
    /// The key stores the proxy serves, from the informer caches: the Vault's KeySets with their credential Secrets,
    /// and the key-material Secrets (with the CloudKeys that own them). Every one of these wakes the Vault on change.
    /// </summary>
    private ProxyKeyStoresResult KeyStoresOf(V1Alpha1Vault vault, ProxyBackendModel backend)
    {
        var ns = vault.Metadata.NamespaceProperty;
        var name = vault.Metadata.Name;
        return ProxyKeyStoresBuilder.Build(
            _keySets.List(ns).Where(k => k.Spec.VaultRef.Name == name),
            _cloudKeys.List(ns),
            _secrets.List(ns).Where(s => s.Metadata.Label(VaultLabels.VaultLabel) == name),
            _accounts.List(ns),
            backend.Name,
            _clusterAccounts?.List());
    }

    /// <summary>
    /// PKCS#11 backend: the PIN Secret exists and the operator can log in to a token with it (the operator generates
    /// every key version there). Sets HsmAvailable; returns the Ready reason and message when it cannot.
    /// </summary>
    /// <summary>
    /// PKCS#11 backend: the PIN Secret exists and the operator can log in to a token with it (the operator generates
    /// every key version there). Sets HsmAvailable; returns the Ready reason and message when it cannot.
    /// </summary>
    private async Task<(string Reason, string Message)?> CheckHsmAsync(V1Alpha1Vault vault, V1Alpha1VaultStatus status, CancellationToken cancellationToken)
    {
        try
        {
            var target = (await HsmTarget.ForVaultAsync(client, vault, cancellationToken).ConfigureAwait(false))!;
            var token = hsm.Check(target);
            ready.Set(vault, status, ConditionTypes.HsmAvailable, ConditionStatus.True, Reasons.LoggedIn, $"the operator logged in to {token} with the PIN from {target.PinSource}");
            return null;
        }
        catch (HsmException ex)
        {
            return HsmUnavailable(vault, status, ex, "generated");
        }
    }

    /// <summary>
    /// HsmSealed: the root key in the token (made, rotated, retired: <see cref="RootKeyStep"/>). Sets HsmAvailable;
    /// returns the Ready reason and message when the HSM cannot be used or the root key is missing.
    /// </summary>
    private async Task<(string Reason, string Message)?> CheckRootKeyAsync(V1Alpha1Vault vault, V1Alpha1VaultStatus status, ProxySealingModel sealing, Action<TimeSpan?> requeue, CancellationToken cancellationToken)
    {
        try
        {
            var target = (await HsmTarget.ForVaultAsync(client, vault, cancellationToken).ConfigureAwait(false))!;
            var outcome = await _rootKey.ReconcileAsync(vault, sealing, target, cancellationToken).ConfigureAwait(false);
            requeue(outcome.Requeue);
            if (outcome.Problem is { } problem)
            {
                ready.Set(vault, status, ConditionTypes.HsmAvailable, ConditionStatus.False, problem.Reason, problem.Message);
                return problem;
            }

            ready.Set(vault, status, ConditionTypes.HsmAvailable, ConditionStatus.True, Reasons.RootKeyReady,
                $"root key {sealing.RootLabelPrefix}/r{outcome.Plan.Target} seals the key versions (PIN from {target.PinSource}); {outcome.Plan.Message}");
            return null;
        }
        catch (HsmException ex)
        {
            return HsmUnavailable(vault, status, ex, "sealed");
        }
    }

    /// <summary>HsmAvailable=False from <paramref name="ex"/> (logged); the Ready reason and message it gives.</summary>
    private (string Reason, string Message) HsmUnavailable(V1Alpha1Vault vault, V1Alpha1VaultStatus status, HsmException ex, string what)
    {
        var message = ex.Reason == HsmException.HsmUnavailable
            ? $"the operator cannot use the HSM, so no key version can be {what}: {ex.Message}"
            : ex.Message;
        ready.Set(vault, status, ConditionTypes.HsmAvailable, ConditionStatus.False, ex.Reason, message);
        Log.HsmUnavailable(logger, vault.Metadata.NamespaceProperty, vault.Metadata.Name, ex.Reason, ex.Message);
        return (ex.Reason, message);
    }

    private async Task ApplyChildAsync(V1Alpha1Vault vault, IKubernetesObject<V1ObjectMeta> child, CancellationToken cancellationToken)
    {
        var existing = await _childMetadata.ReadAsync(child, cancellationToken).ConfigureAwait(false);
        if (existing is not null && !(existing.OwnerReferences ?? []).Any(o => o.Controller == true && o.Uid == vault.Metadata.Uid))
        {
            // Never take over what someone else made (or what a deleted Vault of the same name still owns until the
            // garbage collector removes it): report it and retry with backoff.
            throw new ChildConflictException(
                $"{child.Kind} {child.Metadata.Name} already exists and is not controlled by this Vault; delete or rename it (or wait for the garbage collector if a previous Vault of this name was just deleted)");
        }

        var stored = await apply.ApplyAsync(child, cancellationToken).ConfigureAwait(false);
        if (existing is null)
        {
            Log.ChildCreated(logger, child.Kind, vault.Metadata.NamespaceProperty, child.Metadata.Name);
            await events.NormalAsync(vault, Reasons.Created, $"Created {child.Kind} {child.Metadata.Name}", cancellationToken).ConfigureAwait(false);
        }
        else if (existing.ResourceVersion != stored.ResourceVersion)
        {
            Log.ChildUpdated(logger, child.Kind, vault.Metadata.NamespaceProperty, child.Metadata.Name);
            await events.NormalAsync(vault, Reasons.Updated, $"Updated {child.Kind} {child.Metadata.Name} to the desired state", cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Creates the software backend's master key once (<see cref="KeyCustodyDecisions.MasterKey"/>). An existing Secret is
    /// never overwritten (it is immutable too): if it is malformed, the Vault reports it and a human decides; if it is
    /// missing while material wrapped by it exists, nothing is created. Keeps the custody finalizer and annotations on
    /// it, and warns when someone tried to delete it. Returns the Ready reason and problem, or null when the key is fine.
    /// </summary>
    private async Task<(string Reason, string Problem)?> EnsureMasterKeyAsync(V1Alpha1Vault vault, CancellationToken cancellationToken)
    {
        var name = VaultNames.MasterKeySecret(vault);
        var ns = vault.Metadata.NamespaceProperty;
        var existing = await client.ReadSecretOrNullAsync(ns, name, cancellationToken).ConfigureAwait(false);
        var state = existing is null ? MasterKeyState.Missing
            : existing.Data is not null && existing.Data.TryGetValue(ProxyLayout.MasterKeyKey, out var bytes) && bytes.Length == ProxyLayout.MasterKeyLength ? MasterKeyState.Valid
            : MasterKeyState.Malformed;
        var material = state == MasterKeyState.Missing ? await SoftwareMaterialOfVaultAsync(vault, cancellationToken).ConfigureAwait(false) : [];
        var (action, reason, problem) = KeyCustodyDecisions.MasterKey(name, state, material);
        if (existing is not null)
        {
            await client.ProtectAsync(existing, cancellationToken).ConfigureAwait(false);
            if (existing.Metadata.DeletionTimestamp is not null)
            {
                await events.WarningAsync(vault, Reasons.MasterKeyDeletionBlocked, $"Secret {name} was deleted, but keys of this Vault are wrapped by it: it stays (finalizer {KeyCustody.Finalizer}) and the proxy keeps using it (docs/key-custody.md)", cancellationToken).ConfigureAwait(false);
            }
        }

        if (action == MasterKeyAction.Refuse)
        {
            if (reason == Reasons.MasterKeyMissing)
            {
                await events.WarningAsync(vault, reason, problem!, cancellationToken).ConfigureAwait(false);
            }

            return (reason!, problem!);
        }

        if (action == MasterKeyAction.Use)
        {
            return null;
        }

        var key = RandomNumberGenerator.GetBytes(ProxyLayout.MasterKeyLength);
        try
        {
            await client.CoreV1.CreateNamespacedSecretAsync(MasterKeySecretBuilder.Build(vault, key), ns, fieldManager: ServerSideApply.FieldManager, cancellationToken: cancellationToken).ConfigureAwait(false);
            Log.MasterKeyCreated(logger, ns, name);
            await events.NormalAsync(vault, Reasons.MasterKeyCreated, $"Created master key Secret {name}", cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException ex) when (ex.Response.StatusCode == HttpStatusCode.Conflict)
        {
            // Someone (a previous attempt) created it between our read and our create: theirs wins, ours is discarded.
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }

        return null;
    }

    /// <summary>
    /// A Shamir Vault's keyring from the Secret &lt;vault&gt;-keyring (made by the custodians' <c>xks-operator shamir
    /// init</c>; never by the operator, which would then have seen the root): the backend with it, or why not. The
    /// Secret gets the custody finalizer and keep annotations.
    /// </summary>
    private async Task<(ProxyBackendModel Backend, (string Reason, string Message)? Problem)> WithKeyringAsync(V1Alpha1Vault vault, ProxyBackendModel backend, CancellationToken cancellationToken)
    {
        var ns = vault.Metadata.NamespaceProperty;
        var name = VaultNames.KeyringSecret(vault);
        var secret = await client.ReadSecretOrNullAsync(ns, name, cancellationToken).ConfigureAwait(false);
        if (secret is null)
        {
            return (backend, (Reasons.KeyringMissing,
                $"Secret {name} does not exist: the custodians make it once with `xks-operator shamir init --namespace {ns} --vault {vault.Metadata.Name} --threshold K --shares N --out-dir DIR` (it writes the sealed keyring and one share file per custodian; docs/key-custody.md)"));
        }

        secret = await client.ProtectAsync(secret, cancellationToken).ConfigureAwait(false);
        var text = secret.Data?.TryGetValue(ProxyLayout.KeyringKey, out var bytes) == true ? System.Text.Encoding.UTF8.GetString(bytes) : null;
        var problem = KeyCustodyDecisions.KeyringProblem(text, backend.Shamir!.VaultId);
        return problem is not null
            ? (backend, (Reasons.KeyringInvalid, $"Secret {name}: {problem}; it is left as it is — restore it from a backup"))
            : (backend with { Shamir = backend.Shamir with { KeyringJson = text } }, null);
    }

    /// <summary>The key-material Secrets of the Vault whose versions are wrapped by its master key (not those in an HSM).</summary>
    private async Task<IReadOnlyList<string>> SoftwareMaterialOfVaultAsync(V1Alpha1Vault vault, CancellationToken cancellationToken)
    {
        var material = await client.CoreV1.ListNamespacedSecretAsync(
            vault.Metadata.NamespaceProperty, labelSelector: $"{VaultLabels.VaultLabel}={vault.Metadata.Name},{VaultLabels.XksComponentLabel}={VaultLabels.KeyMaterialComponent}",
            cancellationToken: cancellationToken).ConfigureAwait(false);
        return [.. material.Items
            .Where(s => !KeyMaterialSecret.TryRead(s, out _, out _, out var backend, out _) || backend == KeyMaterialSecret.SoftwareBackend)
            .Select(s => s.Metadata.Name)
            .Order(StringComparer.Ordinal)];
    }

    /// <summary>The public certificate's state and, with backend TLS, the backend Certificate's: Ready needs both.</summary>
    private async Task<(string Status, string Reason, string Message)> BothCertificatesStateAsync(V1Alpha1Vault vault, V1Alpha1VaultStatus status, Action<TimeSpan> recheck, CancellationToken cancellationToken)
    {
        var state = await CertificateStateAsync(vault, status, recheck, cancellationToken).ConfigureAwait(false);
        if (state.Status != ConditionStatus.True || !ProxyConfigModel.BackendTls(vault))
        {
            return state;
        }

        var stored = await client.CustomObjects.GetNamespacedCustomObjectAsync("cert-manager.io", "v1", vault.Metadata.NamespaceProperty, "certificates", VaultNames.BackendCertificate(vault), cancellationToken).ConfigureAwait(false);
        var backend = KubernetesJson.Deserialize<V1Certificate>(KubernetesJson.Serialize(stored));
        return VaultDecisions.CertificatesState(state, backend.Metadata.Name, VaultNames.BackendTlsSecret(vault), backend.Status?.Conditions?.FirstOrDefault(c => c.Type == ConditionTypes.Ready));
    }

    /// <summary>
    /// The public certificate's state: cert-manager's Certificate with issuerRef, else the user's Secret as
    /// <see cref="TlsCertificateChecks"/> finds it (which also fills status.certificate and says when to look again).
    /// </summary>
    private async Task<(string Status, string Reason, string Message)> CertificateStateAsync(V1Alpha1Vault vault, V1Alpha1VaultStatus status, Action<TimeSpan> recheck, CancellationToken cancellationToken)
    {
        status.Certificate = null;
        var ns = vault.Metadata.NamespaceProperty;
        if (vault.Spec.Tls?.IssuerRef is not null)
        {
            var stored = await client.CustomObjects.GetNamespacedCustomObjectAsync("cert-manager.io", "v1", ns, "certificates", VaultNames.Certificate(vault), cancellationToken).ConfigureAwait(false);
            var certificate = KubernetesJson.Deserialize<V1Certificate>(KubernetesJson.Serialize(stored));
            var ready = certificate.Status?.Conditions?.FirstOrDefault(c => c.Type == ConditionTypes.Ready);
            return ready?.Status == ConditionStatus.True
                ? (ConditionStatus.True, Reasons.CertificateIssued, $"Certificate {certificate.Metadata.Name} is issued into Secret {VaultNames.TlsSecret(vault)}")
                : (ConditionStatus.False, Reasons.CertificatePending, $"waiting for cert-manager to issue Certificate {certificate.Metadata.Name}: {ready?.Reason ?? "no Ready condition yet"}{(string.IsNullOrEmpty(ready?.Message) ? "" : " - " + ready.Message)}");
        }

        var secretName = VaultNames.TlsSecret(vault);
        try
        {
            var secret = await client.CoreV1.ReadNamespacedSecretAsync(secretName, ns, cancellationToken: cancellationToken).ConfigureAwait(false);
            var finding = VaultDecisions.UserCertificate(vault, secret, timeProvider.GetUtcNow());
            if (finding is null)
            {
                return (ConditionStatus.False, Reasons.SecretIncomplete, $"Secret {secretName} has no tls.crt and tls.key");
            }

            status.Certificate = finding.Certificate;
            if (finding.RecheckAfter is { } after)
            {
                recheck(after);
            }

            return (finding.Status, finding.Reason, $"Secret {secretName}: {finding.Message}");
        }
        catch (HttpOperationException ex) when (ex.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return (ConditionStatus.False, Reasons.SecretNotFound, $"Secret {secretName} (spec.tls.secretName) does not exist");
        }
    }

    private async Task DeleteUnwantedAsync(V1Alpha1Vault vault, VaultChildReference unwanted, CancellationToken cancellationToken)
    {
        var ns = vault.Metadata.NamespaceProperty;
        try
        {
            V1ObjectMeta meta = unwanted.Kind switch
            {
                "Ingress" => (await client.NetworkingV1.ReadNamespacedIngressAsync(unwanted.Name, ns, cancellationToken: cancellationToken).ConfigureAwait(false)).Metadata,
                "NetworkPolicy" => (await client.NetworkingV1.ReadNamespacedNetworkPolicyAsync(unwanted.Name, ns, cancellationToken: cancellationToken).ConfigureAwait(false)).Metadata,
                "Service" => (await client.CoreV1.ReadNamespacedServiceAsync(unwanted.Name, ns, cancellationToken: cancellationToken).ConfigureAwait(false)).Metadata,
                "Certificate" => KubernetesJson.Deserialize<V1Certificate>(KubernetesJson.Serialize(await client.CustomObjects.GetNamespacedCustomObjectAsync("cert-manager.io", "v1", ns, "certificates", unwanted.Name, cancellationToken).ConfigureAwait(false))).Metadata,
                _ => throw new InvalidOperationException($"no delete path for unwanted {unwanted.Kind}"),
            };
            if (!(meta.OwnerReferences ?? []).Any(o => o.Controller == true && o.Uid == vault.Metadata.Uid))
            {
                return; // not ours: never delete what the Vault did not create
            }

            switch (unwanted.Kind)
            {
                case "Ingress":
                    await client.NetworkingV1.DeleteNamespacedIngressAsync(unwanted.Name, ns, cancellationToken: cancellationToken).ConfigureAwait(false);
                    break;
                case "NetworkPolicy":
                    await client.NetworkingV1.DeleteNamespacedNetworkPolicyAsync(unwanted.Name, ns, cancellationToken: cancellationToken).ConfigureAwait(false);
                    break;
                case "Service":
                    await client.CoreV1.DeleteNamespacedServiceAsync(unwanted.Name, ns, cancellationToken: cancellationToken).ConfigureAwait(false);
                    break;
                default:
                    await client.CustomObjects.DeleteNamespacedCustomObjectAsync("cert-manager.io", "v1", ns, "certificates", unwanted.Name, cancellationToken: cancellationToken).ConfigureAwait(false);
                    break;
            }

            await events.NormalAsync(vault, Reasons.Deleted, $"Deleted {unwanted.Kind} {unwanted.Name}: no longer part of the Vault's {(unwanted.Kind == "NetworkPolicy" ? "spec (its NetworkPolicy is disabled)" : "exposure")}", cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException ex) when (ex.Response.StatusCode == HttpStatusCode.NotFound)
        {
        }
    }

    /// <summary>
    /// Deleting a Vault removes its children through garbage collection (owner references). The master key has no
    /// owner: it is deleted here only when no CloudKey of the Vault exists, otherwise it stays (a Vault re-created
    /// under the same name picks it up again) and an Event says so.
    /// </summary>
    private async Task FinalizeAsync(V1Alpha1Vault vault, CancellationToken cancellationToken)
    {
        if (!(vault.Metadata.Finalizers ?? []).Contains(Finalizer))
        {
            return;
        }

        var ns = vault.Metadata.NamespaceProperty;
        var masterKey = VaultNames.MasterKeySecret(vault);
        if (ProxyBackendModel.ForVault(vault).IsPkcs11 && await client.ReadSecretOrNullAsync(ns, masterKey, cancellationToken).ConfigureAwait(false) is null)
        {
            // Keys in an HSM stay there: deleting a Vault never destroys them (their CloudKeys and KeySets decide).
            await writer.RemoveFinalizerAsync(vault, Finalizer, cancellationToken).ConfigureAwait(false);
            return;
        }

        var keys = await KeysOfVaultAsync(vault, cancellationToken).ConfigureAwait(false);
        if (keys.Count == 0)
        {
            if (await client.DestroyAsync(ns, masterKey, cancellationToken).ConfigureAwait(false))
            {
                Log.MasterKeyDeleted(logger, ns, masterKey);
            }
        }
        else
        {
            var message = $"Kept master key Secret {masterKey}: {keys.Count} key(s) of this Vault are wrapped by it ({string.Join(", ", keys.Take(5))}); their CloudKeys and key-material Secrets must be gone before it is destroyed";
            Log.MasterKeyKept(logger, ns, masterKey, keys.Count);
            await events.WarningAsync(vault, Reasons.MasterKeyKept, message, cancellationToken).ConfigureAwait(false);
        }

        await writer.RemoveFinalizerAsync(vault, Finalizer, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// What the master key still protects: the CloudKeys of the Vault (through its KeySets), and every key-material
    /// Secret wrapped by it — including the material of CloudKeys deleted with deletionPolicy Retain, or whose KMS key
    /// is pending deletion, which a KMS key may still need.
    /// </summary>
    private async Task<IReadOnlyList<string>> KeysOfVaultAsync(V1Alpha1Vault vault, CancellationToken cancellationToken)
    {
        var ns = vault.Metadata.NamespaceProperty;
        var keys = new SortedSet<string>(StringComparer.Ordinal);
        var keySets = KubernetesJson.Deserialize<V1Alpha1KeySetList>(KubernetesJson.Serialize(
            await client.CustomObjects.ListNamespacedCustomObjectAsync("xks.dev", "v1alpha1", ns, "keysets", cancellationToken: cancellationToken).ConfigureAwait(false)));
        var ofVault = keySets.Items.Where(k => k.Spec.VaultRef.Name == vault.Metadata.Name).Select(k => k.Metadata.Name).ToHashSet(StringComparer.Ordinal);
        if (ofVault.Count > 0)
        {
            var cloudKeys = KubernetesJson.Deserialize<V1Alpha1CloudKeyList>(KubernetesJson.Serialize(
                await client.CustomObjects.ListNamespacedCustomObjectAsync("xks.dev", "v1alpha1", ns, "cloudkeys", cancellationToken: cancellationToken).ConfigureAwait(false)));
            keys.UnionWith(cloudKeys.Items.Where(c => ofVault.Contains(c.Spec.KeySetRef.Name)).Select(c => c.Metadata.Name));
        }

        var material = await client.CoreV1.ListNamespacedSecretAsync(
            ns, labelSelector: $"{VaultLabels.VaultLabel}={vault.Metadata.Name},{VaultLabels.XksComponentLabel}={VaultLabels.KeyMaterialComponent}",
            cancellationToken: cancellationToken).ConfigureAwait(false);
        keys.UnionWith(material.Items.Select(s => s.Metadata.Label(VaultLabels.CloudKeyLabel) ?? s.Metadata.Name));
        return [.. keys];
    }

    /// <summary>
    /// What went wrong, for an Event or a condition: the API server's status message (names objects and fields, never
    /// Secret data), else the exception's type and message.
    /// </summary>
    internal static string Describe(Exception exception)
    {
        if (exception is ChildConflictException)
        {
            return exception.Message;
        }

        if (exception is HttpOperationException { Response: { } response })
        {
            try
            {
                using var document = JsonDocument.Parse(response.Content ?? "");
                if (document.RootElement.TryGetProperty("message", out var text) && text.GetString() is { Length: > 0 } serverMessage)
                {
                    return $"{(int)response.StatusCode} {response.StatusCode}: {serverMessage}";
                }
            }
            catch (JsonException)
            {
            }

            return $"{(int)response.StatusCode} {response.StatusCode}";
        }

        return $"{exception.GetType().Name}: {exception.Message}";
    }

    private static bool IsConflict(Exception exception) =>
        exception is HttpOperationException { Response.StatusCode: HttpStatusCode.Conflict };

}

/// <summary>A child's name is taken by an object the Vault does not control.</summary>
internal sealed class ChildConflictException(string message) : Exception(message);
