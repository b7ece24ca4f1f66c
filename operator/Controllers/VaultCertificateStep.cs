using System.Net;
using k8s;
using k8s.Autorest;
using Xks.Operator.Api;
using Xks.Operator.Entities;
using Xks.Operator.Entities.CertManager;
using Xks.Operator.Resources;

namespace Xks.Operator.Controllers;

/// <summary>
/// A Vault's CertificateReady, found out: cert-manager's Certificate with issuerRef, else the user's own Secret as
/// <see cref="TlsCertificateChecks"/> finds it, and with backend TLS the backend Certificate too (Ready needs both).
/// Warns once when the serving certificate starts to expire soon. The reconciler sets the condition.
/// </summary>
internal sealed class VaultCertificateStep(IKubernetes client, EventRecorder events, TimeProvider time)
{
    /// <summary>
    /// The certificates' state; <paramref name="certificateApiMissing"/>: applying the Vault's Certificate found no
    /// cert-manager API. The outcome carries status.certificate (the user's certificate, else null) and, for a user's
    /// certificate, when its outcome changes by the clock alone.
    /// </summary>
    public async Task<VaultCertificateOutcome> ReconcileAsync(V1Alpha1Vault vault, bool certificateApiMissing, CancellationToken cancellationToken)
    {
        var outcome = certificateApiMissing
            ? new VaultCertificateOutcome(
                new ConditionVerdict(ConditionStatus.False, Reasons.CertManagerNotInstalled, "the cert-manager.io/v1 Certificate API is not served: install cert-manager, or set spec.tls.secretName to an existing kubernetes.io/tls Secret and drop spec.tls.issuerRef"),
                vault.Status?.Certificate,
                Recheck: null)
            : await BothCertificatesStateAsync(vault, cancellationToken).ConfigureAwait(false);
        if (outcome.CertificateReady.Reason == Reasons.CertificateExpiringSoon && Conditions.Get(vault.Status?.Conditions, ConditionTypes.CertificateReady)?.Reason != Reasons.CertificateExpiringSoon)
        {
            // Still serving (Ready stays True), but someone must renew it: say so once, when the warning starts.
            await events.WarningAsync(vault, Reasons.CertificateExpiringSoon, outcome.CertificateReady.Message, cancellationToken).ConfigureAwait(false);
        }

        return outcome;
    }

    /// <summary>The public certificate's state and, with backend TLS, the backend Certificate's: Ready needs both.</summary>
    private async Task<VaultCertificateOutcome> BothCertificatesStateAsync(V1Alpha1Vault vault, CancellationToken cancellationToken)
    {
        var outcome = await CertificateStateAsync(vault, cancellationToken).ConfigureAwait(false);
        var state = outcome.CertificateReady;
        if (state.Status != ConditionStatus.True || !ProxyConfigModel.BackendTls(vault))
        {
            return outcome;
        }

        var stored = await client.CustomObjects.GetNamespacedCustomObjectAsync("cert-manager.io", "v1", vault.Metadata.NamespaceProperty, "certificates", VaultNames.BackendCertificate(vault), cancellationToken).ConfigureAwait(false);
        var backend = KubernetesJson.Deserialize<V1Certificate>(KubernetesJson.Serialize(stored));
        var (status, reason, message) = VaultDecisions.CertificatesState((state.Status, state.Reason, state.Message), backend.Metadata.Name, VaultNames.BackendTlsSecret(vault), backend.Status?.Conditions?.FirstOrDefault(c => c.Type == ConditionTypes.Ready));
        return outcome with { CertificateReady = new ConditionVerdict(status, reason, message) };
    }

    /// <summary>The public certificate's state: cert-manager's Certificate with issuerRef, else the user's Secret.</summary>
    private async Task<VaultCertificateOutcome> CertificateStateAsync(V1Alpha1Vault vault, CancellationToken cancellationToken)
    {
        var ns = vault.Metadata.NamespaceProperty;
        if (vault.Spec.Tls?.IssuerRef is not null)
        {
            var stored = await client.CustomObjects.GetNamespacedCustomObjectAsync("cert-manager.io", "v1", ns, "certificates", VaultNames.Certificate(vault), cancellationToken).ConfigureAwait(false);
            var certificate = KubernetesJson.Deserialize<V1Certificate>(KubernetesJson.Serialize(stored));
            var ready = certificate.Status?.Conditions?.FirstOrDefault(c => c.Type == ConditionTypes.Ready);
            return Without(ready?.Status == ConditionStatus.True
                ? new ConditionVerdict(ConditionStatus.True, Reasons.CertificateIssued, $"Certificate {certificate.Metadata.Name} is issued into Secret {VaultNames.TlsSecret(vault)}")
                : new ConditionVerdict(ConditionStatus.False, Reasons.CertificatePending, $"waiting for cert-manager to issue Certificate {certificate.Metadata.Name}: {ready?.Reason ?? "no Ready condition yet"}{(string.IsNullOrEmpty(ready?.Message) ? "" : " - " + ready.Message)}"));
        }

        var secretName = VaultNames.TlsSecret(vault);
        try
        {
            var secret = await client.CoreV1.ReadNamespacedSecretAsync(secretName, ns, cancellationToken: cancellationToken).ConfigureAwait(false);
            var finding = VaultDecisions.UserCertificate(vault, secret, time.GetUtcNow());
            return finding is null
                ? Without(new ConditionVerdict(ConditionStatus.False, Reasons.SecretIncomplete, $"Secret {secretName} has no tls.crt and tls.key"))
                : new VaultCertificateOutcome(new ConditionVerdict(finding.Status, finding.Reason, $"Secret {secretName}: {finding.Message}"), finding.Certificate, finding.RecheckAfter);
        }
        catch (HttpOperationException ex) when (ex.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return Without(new ConditionVerdict(ConditionStatus.False, Reasons.SecretNotFound, $"Secret {secretName} (spec.tls.secretName) does not exist"));
        }

        static VaultCertificateOutcome Without(ConditionVerdict verdict) => new(verdict, Certificate: null, Recheck: null);
    }
}

/// <summary>What a Vault's certificates report.</summary>
/// <param name="CertificateReady">The CertificateReady condition.</param>
/// <param name="Certificate">status.certificate: the user's certificate as checked; null with cert-manager or when unreadable.</param>
/// <param name="Recheck">When the outcome changes by the clock alone (it becomes valid, the expiry warning starts, it expires).</param>
internal sealed record VaultCertificateOutcome(ConditionVerdict CertificateReady, V1Alpha1VaultCertificateStatus? Certificate, TimeSpan? Recheck);
