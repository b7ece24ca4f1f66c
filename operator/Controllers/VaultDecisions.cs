using System.Security.Cryptography.X509Certificates;
using System.Text;
using k8s.Models;
using Xks.Operator.Entities;
using Xks.Operator.Entities.CertManager;
using Xks.Operator.Resources;

namespace Xks.Operator.Controllers;

/// <summary>
/// The Vault reconciler's choices (pure): CertificateReady with backend TLS, and, about its config Secret, which changes of the operator's Secrets may change
/// what it renders, and when the config Secret already holds what it would apply. At 1,000 keys a render is a 300 KB
/// document and its apply sends it twice over the wire, so neither happens for a change that cannot matter.
/// </summary>
public static class VaultDecisions
{
    /// <summary>
    /// The Vault's RootKeyProtected condition: on PKCS#11 the keys live in the HSM; with keyProtection HsmSealed a root
    /// key in the HSM wraps every version and no master key exists; otherwise the master key is a plain Secret
    /// (development mode), and the message says who therefore holds every key.
    /// </summary>
    public static (string Status, string Reason, string Message) RootKeyProtection(V1Alpha1Vault vault, ProxyBackendModel backend)
    {
        ArgumentNullException.ThrowIfNull(vault);
        ArgumentNullException.ThrowIfNull(backend);
        return backend switch
        {
            { IsPkcs11: true } => (ConditionStatus.True, Reasons.KeysInHsm, "key versions are generated and kept inside the HSM; no root key is stored in Kubernetes"),
            { IsShamir: true } => (ConditionStatus.True, Reasons.RootKeySplitAmongCustodians,
                $"the root key is sealed in Secret {VaultNames.KeyringSecret(vault)} under an unseal key split among custodians (Shamir); it exists in plaintext only in the memory of unsealed proxies, and key versions are derived there"),
            { Sealing: { } sealing } => (ConditionStatus.True, Reasons.RootKeyInHsm,
                $"key versions are generated and wrapped inside the HSM under root key {sealing.RootLabelPrefix}/r<n>, which never leaves it; Secrets and etcd hold sealed blobs only, and the proxy unwraps them through the HSM"),
            _ => (ConditionStatus.False, Reasons.PlaintextRootKey,
                $"development mode: the master key is the plain Secret {VaultNames.MasterKeySecret(vault)}; anyone who can read Secrets in namespace {vault.Metadata.NamespaceProperty}, etcd or an etcd backup holds every key of this Vault; set spec.keyProtection.mode HsmSealed (docs/key-custody.md)"),
        };
    }

    /// <summary>
    /// The ProxyAvailable condition from the Deployment's available replicas. With none on a Shamir Vault the likely
    /// cause is that the proxies are sealed (they start sealed, and a restarted replica needs the custodians again), so
    /// the reason is ProxySealed and the message says how to unseal.
    /// </summary>
    public static (string Status, string Reason, string Message) ProxyAvailability(V1Alpha1Vault vault, ProxyBackendModel backend, int available, int desired)
    {
        ArgumentNullException.ThrowIfNull(vault);
        ArgumentNullException.ThrowIfNull(backend);
        var counted = $"{available}/{desired} proxy replicas available";
        return available >= desired ? (ConditionStatus.True, Reasons.MinimumReplicasAvailable, counted)
            : available == 0 && backend.IsShamir ? (ConditionStatus.False, Reasons.ProxySealed,
                $"{counted}: a Shamir Vault's proxies start sealed until custodians unseal them — for each pod, `kubectl port-forward -n {vault.Metadata.NamespaceProperty} pod/<pod> {ProxyLayout.AdminPort}`, then k custodians each run `xks-proxy admin unseal --url http://127.0.0.1:{ProxyLayout.AdminPort} --share-file <their share>` (docs/key-custody.md)")
            : (ConditionStatus.False, available == 0 ? Reasons.NoReplicasAvailable : Reasons.ReplicasUnavailable, counted);
    }

    /// <summary>
    /// Whether a modification of one of the operator's Secrets may change what its Vault renders or applies: its labels
    /// (which Vault and KeySet it belongs to), its owners, the marks the config reads (released, expired) or its data.
    /// Not: a key-material Secret's KMS key ID or handled rotation request, nor the Vault's config Secret as the Vault
    /// wrote it (its data matches its config-hash annotation, so it is the Vault's own write coming back).
    /// </summary>
    public static bool SecretChangeMatters(V1Secret before, V1Secret after)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        if (!SameEntries(before.Metadata?.Labels, after.Metadata?.Labels) || !SameOwners(before.Metadata?.OwnerReferences, after.Metadata?.OwnerReferences))
        {
            return true;
        }

        if ((before.Metadata?.DeletionTimestamp is null) != (after.Metadata?.DeletionTimestamp is null))
        {
            // Someone deleted a custody-protected Secret: the Vault (master key) or CloudKey (material) says so at once.
            return true;
        }

        var (was, now) = (KeyMaterialMarks.Of(before), KeyMaterialMarks.Of(after));
        if (was.Released != now.Released || was.Expired != now.Expired)
        {
            return true;
        }

        return !SameData(before.Data, after.Data) && !IsConfigAsWritten(after);
    }

    /// <summary>
    /// True when <paramref name="cached"/> (the config Secret in the informer cache) already is <paramref name="desired"/>:
    /// controlled by the Vault <paramref name="vaultUid"/>, with the desired labels and config hash, and data that
    /// still hashes to that annotation (not edited by hand). Applying it again would change nothing.
    /// </summary>
    public static bool ConfigSecretCurrent(V1Secret? cached, V1Secret desired, string vaultUid)
    {
        ArgumentNullException.ThrowIfNull(desired);
        return cached is not null
            && (cached.Metadata.OwnerReferences ?? []).Any(o => o.Controller == true && o.Uid == vaultUid)
            && SameEntries(cached.Metadata.Labels, desired.Metadata.Labels)
            && cached.Metadata.Annotation(VaultLabels.ConfigHashAnnotation) is { } hash
            && hash == desired.Metadata.Annotation(VaultLabels.ConfigHashAnnotation)
            && IsConfigAsWritten(cached);
    }

    /// <summary>A config Secret whose config hashes to its own config-hash annotation: as the operator wrote it.</summary>
    private static bool IsConfigAsWritten(V1Secret secret) =>
        secret.Metadata?.Annotation(VaultLabels.ConfigHashAnnotation) is { Length: > 0 } hash
        && secret.Data is { } data && data.Count == 1
        && data.TryGetValue(ProxyLayout.ConfigKey, out var config) && config is not null
        && ProxyConfigRenderer.Hash(config) == hash;

    private static bool SameEntries(IDictionary<string, string>? a, IDictionary<string, string>? b) =>
        (a?.Count ?? 0) == (b?.Count ?? 0) && (a is null || a.All(e => b!.TryGetValue(e.Key, out var v) && v == e.Value));

    private static bool SameOwners(IList<V1OwnerReference>? a, IList<V1OwnerReference>? b) =>
        (a ?? []).Select(o => (o.Uid, o.Controller)).SequenceEqual((b ?? []).Select(o => (o.Uid, o.Controller)));

    private static bool SameData(IDictionary<string, byte[]>? a, IDictionary<string, byte[]>? b) =>
        (a?.Count ?? 0) == (b?.Count ?? 0) && (a is null || a.All(e => b!.TryGetValue(e.Key, out var v) && (v ?? []).AsSpan().SequenceEqual(e.Value ?? [])));

    /// <summary>How soon a Vault that is not Ready looks again without a change to wake it.</summary>
    public static readonly TimeSpan NotReadyRecheck = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The Vault's Ready condition, the first that applies: its key custody's problem (master key, HSM, root key); the
    /// proxy not available; the certificate not ready (its reason); else Available, naming the endpoint.
    /// </summary>
    /// <param name="custodyProblem">The key custody's Ready reason and message, or null when custody is fine.</param>
    /// <param name="proxyAvailable">The ProxyAvailable condition as just set.</param>
    /// <param name="certificateReady">The CertificateReady condition as just set.</param>
    /// <param name="endpoint">status.endpoint.</param>
    /// <param name="available">The Deployment's available replicas.</param>
    public static ConditionVerdict Ready((string Reason, string Message)? custodyProblem, V1Alpha1Condition? proxyAvailable, V1Alpha1Condition? certificateReady, string endpoint, int available) =>
        custodyProblem is { } custody ? new(ConditionStatus.False, custody.Reason, custody.Message)
        : proxyAvailable is { Status: not ConditionStatus.True } proxy ? new(ConditionStatus.False, Reasons.ProxyUnavailable, proxy.Message ?? "")
        : certificateReady is { Status: not ConditionStatus.True } certificate ? new(ConditionStatus.False, certificate.Reason, certificate.Message ?? "")
        : new(ConditionStatus.True, Reasons.Available, $"the proxy serves {endpoint} with {available} replicas");

    /// <summary>
    /// When the Vault looks again without a change to wake it, or null: the soonest of <see cref="NotReadyRecheck"/>
    /// while not Ready, a root-key rotation's next step (at least a second away), and the certificate's clock
    /// (<see cref="CertificateRecheck"/>).
    /// </summary>
    public static TimeSpan? Recheck(bool isReady, TimeSpan? rootKeyStep, TimeSpan? certificateDue)
    {
        TimeSpan? recheck = isReady ? null : NotReadyRecheck;
        if (rootKeyStep is { } rootKey)
        {
            var due = rootKey < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : rootKey;
            recheck = recheck is { } other && other < due ? other : due;
        }

        if (certificateDue is { } certificate)
        {
            var due = CertificateRecheck(certificate);
            recheck = recheck is { } other && other < due ? other : due;
        }

        return recheck;
    }

    /// <summary>The longest the Vault waits to look at a certificate again for the clock's sake (timers cap far below the 30-day warning).</summary>
    public static readonly TimeSpan MaxCertificateRecheck = TimeSpan.FromHours(12);

    /// <summary>
    /// The user's serving certificate (spec.tls.secretName without issuerRef) checked by <see cref="TlsCertificateChecks"/>
    /// for the Vault's hostname and spec.tls.privateCa, or null when the Secret lacks tls.crt or tls.key.
    /// </summary>
    /// <param name="vault">The Vault.</param>
    /// <param name="secret">Its TLS Secret.</param>
    /// <param name="now">The time the certificate must be valid at.</param>
    /// <param name="systemRoots">The roots standing for the system store (tests), or null for the operator's.</param>
    public static TlsCertificateFinding? UserCertificate(V1Alpha1Vault vault, V1Secret secret, DateTimeOffset now, X509Certificate2Collection? systemRoots = null)
    {
        ArgumentNullException.ThrowIfNull(vault);
        ArgumentNullException.ThrowIfNull(secret);
        if (secret.Data is not { } data || !data.TryGetValue("tls.crt", out var certificate) || !data.TryGetValue("tls.key", out var key))
        {
            return null;
        }

        var ca = data.TryGetValue("ca.crt", out var caBytes) && caBytes is { Length: > 0 } ? Encoding.UTF8.GetString(caBytes) : null;
        return TlsCertificateChecks.Check(new TlsCertificateInput(
            Encoding.UTF8.GetString(certificate ?? []),
            Encoding.UTF8.GetString(key ?? []),
            ca,
            vault.Spec.Hostname,
            now,
            vault.Spec.Tls?.PrivateCa == true,
            systemRoots));
    }

    /// <summary>When to look at a certificate again: at <paramref name="due"/> (a second late, never sooner than a second), at most <see cref="MaxCertificateRecheck"/>.</summary>
    public static TimeSpan CertificateRecheck(TimeSpan due)
    {
        var late = due + TimeSpan.FromSeconds(1);
        return late < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : late > MaxCertificateRecheck ? MaxCertificateRecheck : late;
    }

    /// <summary>
    /// CertificateReady of a Vault with backend TLS: the public certificate's state while it is not issued; once it is,
    /// True only when the backend Certificate's Ready condition is True too, else CertificatePending naming it.
    /// </summary>
    /// <param name="publicState">The public certificate's (status, reason, message).</param>
    /// <param name="backendCertificate">The backend Certificate's name.</param>
    /// <param name="backendSecret">The Secret it is issued into.</param>
    /// <param name="backendReady">The backend Certificate's Ready condition, or null when it has none yet.</param>
    public static (string Status, string Reason, string Message) CertificatesState(
        (string Status, string Reason, string Message) publicState, string backendCertificate, string backendSecret, V1CertificateCondition? backendReady)
    {
        if (publicState.Status != ConditionStatus.True)
        {
            return publicState;
        }

        return backendReady?.Status == ConditionStatus.True
            ? (ConditionStatus.True, publicState.Reason, $"{publicState.Message}; backend Certificate {backendCertificate} is issued into Secret {backendSecret}")
            : (ConditionStatus.False, Reasons.CertificatePending,
                $"waiting for cert-manager to issue the backend Certificate {backendCertificate} (spec.tls.backendIssuerRef): {backendReady?.Reason ?? "no Ready condition yet"}{(string.IsNullOrEmpty(backendReady?.Message) ? "" : " - " + backendReady.Message)}");
    }
}
