using k8s.Models;
using Xks.Operator.Entities;

namespace Xks.Operator.Resources;

/// <summary>
/// The proxy's PodDisruptionBudget: at most one pod voluntarily evicted at a time (drains, cluster upgrades).
/// </summary>
/// <remarks>
/// policy/v1 exists from Kubernetes 1.21; the 1.20 API server of the tests only serves policy/v1beta1, and KubernetesClient
/// 21 has no v1beta1 model or typed client. The fields used here (selector, maxUnavailable) mean the same in both
/// versions, so the builder returns the policy/v1 model with the apiVersion the server serves, and the caller applies it
/// through the generic object endpoint (<c>/apis/policy/{version}/namespaces/{ns}/poddisruptionbudgets/{name}</c>) when it
/// is v1beta1. <see cref="SelectApiVersion"/> picks the version from the server's discovery of the policy group.
/// maxUnavailable (not minAvailable) so that a single-replica Vault never blocks a node drain.
/// </remarks>
public static class ProxyPodDisruptionBudgetBuilder
{
    public const string PolicyV1 = "policy/v1";
    public const string PolicyV1Beta1 = "policy/v1beta1";

    /// <summary>policy/v1 if the server serves it, else policy/v1beta1.</summary>
    /// <param name="servedPolicyVersions">Versions the server lists for the policy group, e.g. ["v1", "v1beta1"] (GET /apis/policy).</param>
    public static string SelectApiVersion(IEnumerable<string> servedPolicyVersions)
    {
        ArgumentNullException.ThrowIfNull(servedPolicyVersions);
        return servedPolicyVersions.Any(v => v is "v1" or PolicyV1) ? PolicyV1 : PolicyV1Beta1;
    }

    public static V1PodDisruptionBudget Build(V1Alpha1Vault vault, string apiVersion = PolicyV1)
    {
        if (apiVersion is not (PolicyV1 or PolicyV1Beta1))
        {
            throw new ArgumentException($"'{apiVersion}' is not {PolicyV1} or {PolicyV1Beta1}.", nameof(apiVersion));
        }

        return new V1PodDisruptionBudget
        {
            ApiVersion = apiVersion,
            Kind = "PodDisruptionBudget",
            Metadata = VaultOwnership.OwnedMetadata(vault, VaultNames.PodDisruptionBudget(vault)),
            Spec = new V1PodDisruptionBudgetSpec
            {
                MaxUnavailable = 1,
                Selector = new V1LabelSelector { MatchLabels = VaultLabels.SelectorFor(vault) },
            },
        };
    }
}
