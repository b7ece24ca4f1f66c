using k8s;
using k8s.Models;
using Xks.Operator.Entities;

namespace Xks.Operator.Resources;

/// <summary>
/// The operator's defaults for every Vault's NetworkPolicy (its --network-policy* flags, chart values
/// vaults.networkPolicy.*); a Vault's spec.networkPolicy overrides each field.
/// </summary>
public sealed record VaultNetworkPolicyDefaults
{
    /// <summary>The operator's defaults when no flag changes them.</summary>
    public static VaultNetworkPolicyDefaults Default { get; } = new();

    /// <summary>Whether a Vault without spec.networkPolicy.enabled gets a NetworkPolicy.</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>Who may reach the XKS API port with exposure Ingress: the ingress controller's namespace.</summary>
    public IReadOnlyList<V1NetworkPolicyPeer> IngressApiFrom { get; init; } = [NamespaceNamed("ingress-nginx")];

    /// <summary>
    /// Who may reach the XKS API port with exposure LoadBalancer: anyone, since AWS KMS calls from outside the cluster
    /// (externalTrafficPolicy Local keeps its address); the SigV4 signature and mTLS are the gate there.
    /// </summary>
    public IReadOnlyList<V1NetworkPolicyPeer> LoadBalancerApiFrom { get; init; } =
    [
        new V1NetworkPolicyPeer { IpBlock = new V1IPBlock { Cidr = "0.0.0.0/0" } },
        new V1NetworkPolicyPeer { IpBlock = new V1IPBlock { Cidr = "::/0" } },
    ];

    /// <summary>Who may scrape the metrics port: the monitoring namespace.</summary>
    public IReadOnlyList<V1NetworkPolicyPeer> MetricsFrom { get; init; } = [NamespaceNamed("monitoring")];

    /// <summary>A peer selecting one namespace by the label Kubernetes 1.21+ sets on every namespace.</summary>
    public static V1NetworkPolicyPeer NamespaceNamed(string name) => new()
    {
        NamespaceSelector = new V1LabelSelector
        {
            MatchLabels = new Dictionary<string, string>(StringComparer.Ordinal) { ["kubernetes.io/metadata.name"] = name },
        },
    };
}

/// <summary>
/// The NetworkPolicy <c>&lt;vault&gt;-proxy</c>: selects the Vault's proxy pods and admits ingress to the XKS API port
/// only from the API sources and to the metrics port only from the metrics sources; nothing else (policyTypes
/// Ingress, so an empty source list admits no one). Ports are named (xks, metrics), so the policy holds for 8080 and
/// 8443 alike. Egress is not restricted (the proxy talks to the API server and, on PKCS#11, to its HSM).
/// </summary>
public static class ProxyNetworkPolicyBuilder
{
    /// <summary>The NetworkPolicy, or null when it is disabled (by the Vault or by the operator's default).</summary>
    public static V1NetworkPolicy? Build(V1Alpha1Vault vault, VaultNetworkPolicyDefaults defaults)
    {
        ArgumentNullException.ThrowIfNull(vault);
        ArgumentNullException.ThrowIfNull(defaults);
        var spec = vault.Spec.NetworkPolicy;
        if (!(spec?.Enabled ?? defaults.Enabled))
        {
            return null;
        }

        var apiDefault = ProxyConfigModel.ProxyTerminatesTls(vault) ? defaults.LoadBalancerApiFrom : defaults.IngressApiFrom;
        var api = spec?.ApiFrom is { } apiOverride ? [.. apiOverride] : apiDefault;
        var metrics = spec?.MetricsFrom is { } metricsOverride ? [.. metricsOverride] : defaults.MetricsFrom;
        var rules = new List<V1NetworkPolicyIngressRule>();
        // A rule without sources would admit everyone: a port whose list is empty gets no rule at all.
        if (api.Count > 0)
        {
            rules.Add(Rule(ProxyLayout.XksPortName, api));
        }

        if (metrics.Count > 0)
        {
            rules.Add(Rule(ProxyLayout.MetricsPortName, metrics));
        }

        return new V1NetworkPolicy
        {
            ApiVersion = "networking.k8s.io/v1",
            Kind = "NetworkPolicy",
            Metadata = VaultOwnership.OwnedMetadata(vault, VaultNames.NetworkPolicy(vault)),
            Spec = new V1NetworkPolicySpec
            {
                PodSelector = new V1LabelSelector { MatchLabels = VaultLabels.SelectorFor(vault) },
                PolicyTypes = ["Ingress"],
                Ingress = rules,
            },
        };
    }

    private static V1NetworkPolicyIngressRule Rule(string portName, IReadOnlyList<V1NetworkPolicyPeer> from) => new()
    {
        Ports = [new V1NetworkPolicyPort { Port = portName, Protocol = "TCP" }],
        // Copies: the desired object never shares a peer with the spec or with the operator's defaults.
        FromProperty = [.. from.Select(p => KubernetesJson.Deserialize<V1NetworkPolicyPeer>(KubernetesJson.Serialize(p)))],
    };
}
