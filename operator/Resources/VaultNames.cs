using Xks.Operator.Entities;

namespace Xks.Operator.Resources;

/// <summary>
/// Names of every child object of a Vault, all in the Vault's namespace. Derived from the Vault's name only, so the
/// reconciler finds its children again after a restart without storing anything.
/// </summary>
public static class VaultNames
{
    /// <summary>ServiceAccount, Role, RoleBinding, Deployment, ClusterIP Service, PodDisruptionBudget and NetworkPolicy.</summary>
    public static string Proxy(V1Alpha1Vault vault) => Name(vault) + "-proxy";

    public static string ServiceAccount(V1Alpha1Vault vault) => Proxy(vault);

    public static string Role(V1Alpha1Vault vault) => Proxy(vault);

    public static string RoleBinding(V1Alpha1Vault vault) => Proxy(vault);

    public static string Deployment(V1Alpha1Vault vault) => Proxy(vault);

    public static string Service(V1Alpha1Vault vault) => Proxy(vault);

    public static string PodDisruptionBudget(V1Alpha1Vault vault) => Proxy(vault);

    /// <summary>The NetworkPolicy limiting who may connect to the proxy pods (unless disabled).</summary>
    public static string NetworkPolicy(V1Alpha1Vault vault) => Proxy(vault);

    /// <summary>The LoadBalancer Service (exposure LoadBalancer only).</summary>
    public static string LoadBalancerService(V1Alpha1Vault vault) => Name(vault) + "-proxy-lb";

    /// <summary>Secret holding the rendered proxy config (key <see cref="ProxyLayout.ConfigKey"/>).</summary>
    public static string ConfigSecret(V1Alpha1Vault vault) => Name(vault) + "-proxy-config";

    /// <summary>Secret holding the software backend's master key (key <see cref="ProxyLayout.MasterKeyKey"/>).</summary>
    public static string MasterKeySecret(V1Alpha1Vault vault) => Name(vault) + "-master-key";

    /// <summary>
    /// Label prefix of the root-key objects of a HsmSealed Vault in its token: <c>xks-root/&lt;namespace&gt;/&lt;vault&gt;</c>,
    /// each root version <c>…/r&lt;n&gt;</c>. From the namespace and name, not the UID, so a Vault restored from a backup
    /// finds its root key again.
    /// </summary>
    public static string RootKeyLabelPrefix(V1Alpha1Vault vault) => $"xks-root/{vault.Metadata.NamespaceProperty}/{Name(vault)}";

    /// <summary>The Secret holding a Shamir Vault's keyring: its root keys sealed under the custodians' unseal key.</summary>
    public static string KeyringSecret(V1Alpha1Vault vault) => Name(vault) + "-keyring";

    /// <summary>A Shamir Vault's id in its custodians' shares and keyring: <c>namespace_name</c>.</summary>
    public static string ShamirVaultId(V1Alpha1Vault vault) => $"{vault.Metadata.NamespaceProperty}_{Name(vault)}";

    /// <summary>The Ingress (exposure Ingress only).</summary>
    public static string Ingress(V1Alpha1Vault vault) => Name(vault);

    /// <summary>The cert-manager Certificate (when spec.tls.issuerRef is set).</summary>
    public static string Certificate(V1Alpha1Vault vault) => Name(vault);

    /// <summary>The cert-manager Certificate of the backend (spec.tls.backendIssuerRef, exposure Ingress).</summary>
    public static string BackendCertificate(V1Alpha1Vault vault) => Name(vault) + "-backend";

    /// <summary>The Secret cert-manager writes for <see cref="BackendCertificate"/> (tls.crt, tls.key, ca.crt).</summary>
    public static string BackendTlsSecret(V1Alpha1Vault vault) => Name(vault) + "-backend-tls";

    /// <summary>The in-cluster DNS name of the proxy Service, which the backend certificate names.</summary>
    public static string ServiceDnsName(V1Alpha1Vault vault)
    {
        ArgumentNullException.ThrowIfNull(vault);
        return $"{Service(vault)}.{vault.Metadata?.NamespaceProperty}.svc";
    }

    /// <summary>
    /// The Secret whose certificate the proxy serves when it serves TLS: the public one behind a LoadBalancer, the
    /// backend one behind an Ingress.
    /// </summary>
    public static string ServingTlsSecret(V1Alpha1Vault vault) =>
        ProxyConfigModel.ProxyTerminatesTls(vault) ? TlsSecret(vault) : BackendTlsSecret(vault);

    /// <summary>The kubernetes.io/tls Secret: spec.tls.secretName, or &lt;vault&gt;-tls for the Certificate to write.</summary>
    public static string TlsSecret(V1Alpha1Vault vault)
    {
        ArgumentNullException.ThrowIfNull(vault);
        return string.IsNullOrEmpty(vault.Spec?.Tls?.SecretName) ? Name(vault) + "-tls" : vault.Spec.Tls.SecretName;
    }

    private static string Name(V1Alpha1Vault vault)
    {
        ArgumentNullException.ThrowIfNull(vault);
        return vault.Metadata?.Name is { Length: > 0 } name
            ? name
            : throw new ArgumentException("The Vault has no metadata.name.", nameof(vault));
    }
}
