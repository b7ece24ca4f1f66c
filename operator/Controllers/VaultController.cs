using System.Net;
using Xks.Operator.Api;
using Xks.Operator.Entities;
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

    private static readonly TimeSpan ChildConflictRecheck = TimeSpan.FromSeconds(5);
    private readonly ResourceInformer<V1Deployment> _deployments = informers.GetInformer<V1Deployment>(ChildSelector);
    private readonly ResourceInformer<V1Alpha1KeySet> _keySets = informers.GetInformer<V1Alpha1KeySet>();
    private readonly ResourceInformer<V1Alpha1CloudKey> _cloudKeys = informers.GetInformer<V1Alpha1CloudKey>();
    private readonly ResourceInformer<V1Alpha1CspAccount> _accounts = informers.GetInformer<V1Alpha1CspAccount>();
    private readonly ResourceInformer<V1Alpha1ClusterCspAccount>? _clusterAccounts = options.ServesClusterKinds ? informers.GetInformer<V1Alpha1ClusterCspAccount>() : null;
    private readonly ResourceInformer<V1Secret> _secrets = informers.GetInformer<V1Secret>(ChildSelector);
    private readonly VaultKeyCustodyStep _custody = new(client, events, hsm, timeProvider, logger);
    private readonly VaultChildrenStep _children = new(client, apply, events, informers, informers.GetInformer<V1Secret>(ChildSelector), logger);
    private readonly VaultCertificateStep _certificates = new(client, events, timeProvider);
    private readonly VaultDeletionStep _deletion = new(client, writer, events, logger);

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
            await ready.ReportAsync<V1Alpha1Vault, V1Alpha1VaultStatus>(vault, Reasons.ReconcileFailed, $"reconcile failed, retrying with backoff: {ApiErrors.Describe(ex)}", cancellationToken).ConfigureAwait(false);
            throw;
        }
    }

    private async Task<ReconcileResult> ConvergeAsync(V1Alpha1Vault vault, CancellationToken cancellationToken)
    {
        if (vault.Metadata.DeletionTimestamp is not null)
        {
            await _deletion.FinalizeAsync(vault, cancellationToken).ConfigureAwait(false);
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
            Log.InvalidSpec(logger, vault.Metadata.NamespaceProperty, vault.Metadata.Name, message);
            return await NotReadyAsync(vault, status, Reasons.InvalidSpec, message, null, cancellationToken).ConfigureAwait(false);
        }

        var refusals = options.VaultAllowList().Refusals(vault);
        if (refusals.Count > 0)
        {
            // Nothing is applied and no HSM is touched: what the spec asks for would run beyond the Vault.
            return await NotReadyAsync(vault, status, Reasons.NotAllowed, string.Join("; ", refusals), null, cancellationToken).ConfigureAwait(false);
        }

        var backend = ProxyBackendModel.ForVault(vault);
        var (rootStatus, rootReason, rootMessage) = VaultDecisions.RootKeyProtection(vault, backend);
        ready.Set(vault, status, ConditionTypes.RootKeyProtected, rootStatus, rootReason, rootMessage);
        var custody = await _custody.ReconcileAsync(vault, backend, cancellationToken).ConfigureAwait(false);
        if (custody.HsmAvailable is { } hsmAvailable)
        {
            ready.Set(vault, status, ConditionTypes.HsmAvailable, hsmAvailable.Status, hsmAvailable.Reason, hsmAvailable.Message);
        }
        else
        {
            Conditions.Remove(status.Conditions, ConditionTypes.HsmAvailable);
        }

        if (custody.KeyringProblem is { } keyringProblem)
        {
            return await NotReadyAsync(vault, status, keyringProblem.Reason, keyringProblem.Message, VaultDecisions.NotReadyRecheck, cancellationToken).ConfigureAwait(false);
        }

        backend = custody.Backend;
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
            Log.ConfigInvalid(logger, vault.Metadata.NamespaceProperty, vault.Metadata.Name, string.Join("; ", configProblems));
            return await NotReadyAsync(vault, status, Reasons.ConfigInvalid, $"the proxy would refuse the rendered config, so it is not applied: {string.Join("; ", configProblems)}", null, cancellationToken).ConfigureAwait(false);
        }

        var children = VaultResources.Build(
            vault,
            new VaultResourceOptions(options.ProxyImage, $"policy/{environment.PodDisruptionBudgetVersion}", options.NetworkPolicyDefaults()),
            config);
        var certificateApiMissing = await _children.ApplyAsync(vault, children, cancellationToken).ConfigureAwait(false);

        // ProxyAvailable from the Deployment (kept up to date by the informer that also wakes us on its changes).
        var desiredReplicas = children.Deployment.Spec.Replicas ?? 1;
        _deployments.TryGet(new Runtime.ResourceKey(vault.Metadata.NamespaceProperty, VaultNames.Deployment(vault)), out var deployment);
        status.Replicas = deployment?.Status?.Replicas ?? 0;
        status.ReadyReplicas = deployment?.Status?.ReadyReplicas ?? 0;
        var available = deployment?.Status?.AvailableReplicas ?? 0;
        var (proxyStatus, proxyReason, proxyMessage) = VaultDecisions.ProxyAvailability(vault, backend, available, desiredReplicas);
        ready.Set(vault, status, ConditionTypes.ProxyAvailable, proxyStatus, proxyReason, proxyMessage);

        status.CertificateSecretName = VaultNames.TlsSecret(vault);
        var certificate = await _certificates.ReconcileAsync(vault, certificateApiMissing, cancellationToken).ConfigureAwait(false);
        status.Certificate = certificate.Certificate;
        ready.Set(vault, status, ConditionTypes.CertificateReady, certificate.CertificateReady.Status, certificate.CertificateReady.Reason, certificate.CertificateReady.Message);

        var verdict = VaultDecisions.Ready(
            custody.ReadyProblem,
            Conditions.Get(status.Conditions, ConditionTypes.ProxyAvailable),
            Conditions.Get(status.Conditions, ConditionTypes.CertificateReady),
            status.Endpoint,
            available);
        ready.Set(vault, status, ConditionTypes.Ready, verdict.Status, verdict.Reason, verdict.Message);

        // A Vault that stops being Ready is a Warning: its proxy (and every key it serves) is affected.
        await ready.WriteAsync(vault, status, cancellationToken, warnWhenNotReady: true).ConfigureAwait(false);
        var recheck = VaultDecisions.Recheck(verdict.Status == ConditionStatus.True, custody.RootKeyRequeue, certificate.Recheck);
        return recheck is { } delay ? ReconcileResult.After(delay) : ReconcileResult.Done;
    }

    /// <summary>Ready=False with a Warning Event, written; looked at again after <paramref name="recheck"/> (else on the next change).</summary>
    private async Task<ReconcileResult> NotReadyAsync(V1Alpha1Vault vault, V1Alpha1VaultStatus status, string reason, string message, TimeSpan? recheck, CancellationToken cancellationToken)
    {
        ready.Set(vault, status, ConditionTypes.Ready, ConditionStatus.False, reason, message);
        await events.WarningAsync(vault, reason, message, cancellationToken).ConfigureAwait(false);
        await ready.WriteAsync(vault, status, cancellationToken).ConfigureAwait(false);
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

    private static bool IsConflict(Exception exception) =>
        exception is HttpOperationException { Response.StatusCode: HttpStatusCode.Conflict };
}
