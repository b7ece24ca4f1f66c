using k8s;
using k8s.Models;
using Xks.Operator.Entities;
using Xks.Operator.Entities.CertManager;

namespace Xks.Operator.Resources;

/// <summary>Inputs of the builders that come from the operator, not from the Vault.</summary>
/// <param name="DefaultProxyImage">The operator's --proxy-image, for Vaults without spec.proxy.image.</param>
/// <param name="PodDisruptionBudgetApiVersion">policy/v1, or policy/v1beta1 on servers before 1.21
/// (<see cref="ProxyPodDisruptionBudgetBuilder.SelectApiVersion"/>).</param>
/// <param name="NetworkPolicy">The operator's NetworkPolicy defaults; null: <see cref="VaultNetworkPolicyDefaults.Default"/>.</param>
public sealed record VaultResourceOptions(
    string DefaultProxyImage = V1Alpha1VaultProxy.DefaultImage,
    string PodDisruptionBudgetApiVersion = ProxyPodDisruptionBudgetBuilder.PolicyV1,
    VaultNetworkPolicyDefaults? NetworkPolicy = null);

/// <summary>A child the Vault must not have (any more), e.g. the Ingress after a switch to LoadBalancer.</summary>
public sealed record VaultChildReference(string ApiVersion, string Kind, string Name);

/// <summary>
/// The desired children of a Vault, except the master-key Secret (created once, never applied: see
/// <see cref="MasterKeySecretBuilder"/>).
/// </summary>
public sealed record VaultChildren(
    V1ServiceAccount ServiceAccount,
    V1Role Role,
    V1RoleBinding RoleBinding,
    V1Secret ConfigSecret,
    V1Certificate? Certificate,
    V1Certificate? BackendCertificate,
    V1Service Service,
    V1Service? LoadBalancerService,
    V1Deployment Deployment,
    V1PodDisruptionBudget PodDisruptionBudget,
    V1Ingress? Ingress,
    V1NetworkPolicy? NetworkPolicy,
    IReadOnlyList<VaultChildReference> Unwanted)
{
    /// <summary>
    /// The children that exist, in apply order: identity and config before the pods that use them, the Certificate
    /// before the Ingress that serves it, the NetworkPolicy last (it only narrows who reaches pods that exist).
    /// </summary>
    public IEnumerable<IKubernetesObject<V1ObjectMeta>> All()
    {
        IKubernetesObject<V1ObjectMeta>?[] all =
        [
            ServiceAccount, Role, RoleBinding, ConfigSecret, Certificate, BackendCertificate, Service, LoadBalancerService, Deployment,
            PodDisruptionBudget, Ingress, NetworkPolicy,
        ];
        return all.OfType<IKubernetesObject<V1ObjectMeta>>();
    }
}

/// <summary>Builds every desired child of a Vault in one call: what the Vault reconciler applies.</summary>
public static class VaultResources
{
    /// <param name="vault">A valid Vault (<see cref="VaultSpecValidator.Validate"/> returned no problem) read from the API.</param>
    /// <param name="options">The operator's inputs.</param>
    /// <param name="config">The proxy config; default <see cref="ProxyConfigModel.ForVault"/> without key stores.</param>
    /// <param name="additionalSecretNames">More Secrets the proxy may read (the key material of the Vault's keys).</param>
    public static VaultChildren Build(
        V1Alpha1Vault vault,
        VaultResourceOptions options,
        ProxyConfigModel? config = null,
        IEnumerable<string>? additionalSecretNames = null)
    {
        ArgumentNullException.ThrowIfNull(vault);
        ArgumentNullException.ThrowIfNull(options);
        var certificate = ProxyCertificateBuilder.Build(vault);
        var backendCertificate = ProxyCertificateBuilder.BuildBackend(vault);
        var loadBalancer = ProxyServiceBuilder.BuildLoadBalancerService(vault);
        var ingress = ProxyIngressBuilder.Build(vault);
        var networkPolicy = ProxyNetworkPolicyBuilder.Build(vault, options.NetworkPolicy ?? VaultNetworkPolicyDefaults.Default);

        var unwanted = new List<VaultChildReference>();
        if (certificate is null)
        {
            unwanted.Add(new VaultChildReference("cert-manager.io/v1", "Certificate", VaultNames.Certificate(vault)));
        }

        if (backendCertificate is null)
        {
            unwanted.Add(new VaultChildReference("cert-manager.io/v1", "Certificate", VaultNames.BackendCertificate(vault)));
        }

        if (loadBalancer is null)
        {
            unwanted.Add(new VaultChildReference("v1", "Service", VaultNames.LoadBalancerService(vault)));
        }

        if (ingress is null)
        {
            unwanted.Add(new VaultChildReference("networking.k8s.io/v1", "Ingress", VaultNames.Ingress(vault)));
        }

        if (networkPolicy is null)
        {
            unwanted.Add(new VaultChildReference("networking.k8s.io/v1", "NetworkPolicy", VaultNames.NetworkPolicy(vault)));
        }

        return new VaultChildren(
            ProxyRbacBuilder.BuildServiceAccount(vault),
            ProxyRbacBuilder.BuildRole(vault, additionalSecretNames),
            ProxyRbacBuilder.BuildRoleBinding(vault),
            ProxyConfigSecretBuilder.Build(vault, config ?? ProxyConfigModel.ForVault(vault)),
            certificate,
            backendCertificate,
            ProxyServiceBuilder.BuildClusterService(vault),
            loadBalancer,
            ProxyDeploymentBuilder.Build(vault, options.DefaultProxyImage),
            ProxyPodDisruptionBudgetBuilder.Build(vault, options.PodDisruptionBudgetApiVersion),
            ingress,
            networkPolicy,
            unwanted);
    }
}
