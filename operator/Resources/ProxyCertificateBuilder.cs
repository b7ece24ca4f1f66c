using Xks.Operator.Entities;
using Xks.Operator.Entities.CertManager;

namespace Xks.Operator.Resources;

/// <summary>The cert-manager Certificate for the hostname, when spec.tls.issuerRef is set.</summary>
public static class ProxyCertificateBuilder
{
    /// <summary>
    /// ECDSA P-256. AWS KMS accepts TLS 1.3 (TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256, which work with any
    /// certificate key) or TLS 1.2 with TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 or TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    /// so RSA and ECDSA certificates both qualify; the proxy offers all four suites. ECDSA P-256 signs far faster than
    /// RSA-2048 at the same or better strength and keeps handshakes small — each KMS connection must complete inside its
    /// 250 ms budget — and every public CA KMS trusts (Let's Encrypt, Amazon, DigiCert, …) issues it.
    /// </summary>
    public const string PrivateKeyAlgorithm = "ECDSA";

    public const int PrivateKeySize = 256;

    /// <summary>The Certificate, or null when the Vault uses an existing Secret (no issuerRef).</summary>
    public static V1Certificate? Build(V1Alpha1Vault vault)
    {
        ArgumentNullException.ThrowIfNull(vault);
        if (vault.Spec.Tls?.IssuerRef is not { } issuer)
        {
            return null;
        }

        return new V1Certificate
        {
            Metadata = VaultOwnership.OwnedMetadata(vault, VaultNames.Certificate(vault)),
            Spec = new V1CertificateSpec
            {
                SecretName = VaultNames.TlsSecret(vault),
                // AWS KMS (and the seed's checks) want the hostname as the subject's CN too, not only as a DNS SAN.
                CommonName = vault.Spec.Hostname,
                DnsNames = [vault.Spec.Hostname],
                IssuerRef = IssuerOf(issuer),
                Duration = NullIfEmpty(vault.Spec.Tls.Duration),
                RenewBefore = NullIfEmpty(vault.Spec.Tls.RenewBefore),
                PrivateKey = new V1CertificatePrivateKey
                {
                    Algorithm = PrivateKeyAlgorithm,
                    Size = PrivateKeySize,
                    // A new key on every renewal: a leaked key stops working at the next renewal.
                    RotationPolicy = V1CertificatePrivateKey.RotationPolicyAlways,
                },
            },
        };
    }

    /// <summary>
    /// The backend Certificate (exposure Ingress with spec.tls.backendIssuerRef): the Service's cluster DNS names, so
    /// the Ingress can verify the proxy; or null without backend TLS.
    /// </summary>
    public static V1Certificate? BuildBackend(V1Alpha1Vault vault)
    {
        ArgumentNullException.ThrowIfNull(vault);
        if (!ProxyConfigModel.BackendTls(vault) || vault.Spec.Tls?.BackendIssuerRef is not { } issuer)
        {
            return null;
        }

        var service = VaultNames.ServiceDnsName(vault);
        return new V1Certificate
        {
            Metadata = VaultOwnership.OwnedMetadata(vault, VaultNames.BackendCertificate(vault)),
            Spec = new V1CertificateSpec
            {
                SecretName = VaultNames.BackendTlsSecret(vault),
                DnsNames = [service, service + ".cluster.local"],
                IssuerRef = IssuerOf(issuer),
                PrivateKey = new V1CertificatePrivateKey
                {
                    Algorithm = PrivateKeyAlgorithm,
                    Size = PrivateKeySize,
                    RotationPolicy = V1CertificatePrivateKey.RotationPolicyAlways,
                },
            },
        };
    }

    private static V1CertificateIssuerReference IssuerOf(V1Alpha1IssuerReference issuer) => new()
    {
        Name = issuer.Name,
        Kind = string.IsNullOrEmpty(issuer.Kind) ? "Issuer" : issuer.Kind,
        Group = string.IsNullOrEmpty(issuer.Group) ? "cert-manager.io" : issuer.Group,
    };

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
