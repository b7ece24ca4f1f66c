using k8s.Models;
using Xks.Operator.Aws;
using Xks.Operator.Entities;
using Xks.Operator.Resources;

namespace Xks.Operator.Options;

/// <summary>The operator's settings, from its command line (<see cref="OperatorCommandLine"/>).</summary>
public sealed class OperatorOptions
{
    /// <summary>Path of a kubeconfig; null: in-cluster configuration, else $KUBECONFIG / ~/.kube/config.</summary>
    public string? Kubeconfig { get; set; }

    /// <summary>Watch one namespace only (namespace-scoped install); null: all namespaces.</summary>
    public string? Namespace { get; set; }

    public bool LeaderElect { get; set; } = true;

    public string? LeaderElectionNamespace { get; set; }

    public int Workers { get; set; } = 2;

    public string HttpAddress { get; set; } = "0.0.0.0";

    public int HttpPort { get; set; } = 8080;

    /// <summary>How often every cached object is reconciled again, a safety net for missed events (no AWS call for a steady CloudKey).</summary>
    public TimeSpan ResyncPeriod { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Proxy image for Vaults that do not name one in spec.proxy.image.</summary>
    public string ProxyImage { get; set; } = V1Alpha1VaultProxy.DefaultImage;

    /// <summary>
    /// How often a steady CloudKey's KMS key is read from AWS to find drift (a key disabled, an alias moved or a key policy
    /// changed by hand): two reads per check, so 3 h keeps a key under one AWS read an hour. A spec change, a KeySet
    /// transition or a key not Ready reads at once. KeySets re-read their key store at least this often.
    /// </summary>
    public TimeSpan AwsResyncPeriod { get; set; } = TimeSpan.FromHours(3);

    /// <summary>How long the proxy still accepts a KeySet's previous SigV4 credential after KMS switched to the new one.</summary>
    public TimeSpan CredentialGracePeriod { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// IAM access-key rotation: how long the previous key stays active after the Secret holds the new one, so sessions
    /// still signing with it wind down before it is deactivated.
    /// </summary>
    public TimeSpan AccessKeySettle { get; set; } = TimeSpan.FromMinutes(3);

    /// <summary>Namespaces whose CspAccounts may use the operator's own AWS identity (credentials.source Default without assumeRole).</summary>
    public List<string> AmbientCredentialsNamespaces { get; } = [];

    /// <summary>
    /// Serve the cluster-scoped kinds (ClusterCspAccounts, and read Namespaces' labels for them). Null: when watching
    /// all namespaces — a namespaced install's RBAC grants neither.
    /// </summary>
    public bool? ServeClusterKinds { get; set; }

    /// <summary>Whether this operator serves the cluster-scoped kinds (<see cref="ServeClusterKinds"/>).</summary>
    public bool ServesClusterKinds => ServeClusterKinds ?? string.IsNullOrEmpty(Namespace);

    /// <summary>
    /// Where the Secrets of cluster-scoped kinds live (a ClusterCspAccount's credentials), like cert-manager's cluster
    /// resource namespace. Default: the operator's own namespace ($POD_NAMESPACE), else xks-system.
    /// </summary>
    public string ClusterResourceNamespace { get; set; } = Environment.GetEnvironmentVariable("POD_NAMESPACE") is { Length: > 0 } podNamespace ? podNamespace : "xks-system";

    /// <summary>Role ARN patterns (<c>*</c> wildcard) a CspAccount may assume; empty: any role.</summary>
    public List<string> AllowedRoleArns { get; } = [];

    /// <summary>Accept plain-http CspAccount endpoints on non-loopback hosts (tests only).</summary>
    public bool AllowHttpEndpoints { get; set; }

    /// <summary>Proxy image patterns Vaults may name in spec.proxy.image; empty: the repository of <see cref="ProxyImage"/>.</summary>
    public List<string> AllowedProxyImages { get; } = [];

    /// <summary>PKCS#11 library path patterns Vaults may name; empty: the usual vendor modules' paths (<see cref="Options.VaultAllowList.KnownPkcs11Libraries"/>).</summary>
    public List<string> AllowedPkcs11Libraries { get; } = [];

    /// <summary>Annotation key patterns for a Vault's Ingress, Service and pods; empty: any (snippets never).</summary>
    public List<string> AllowedAnnotationKeys { get; } = [];

    /// <summary>Whether Vaults get a NetworkPolicy unless their spec.networkPolicy.enabled says otherwise (--network-policy).</summary>
    public bool NetworkPolicy { get; set; } = true;

    /// <summary>Sources of the XKS API port with exposure Ingress (--network-policy-api-from); null: the ingress-nginx namespace.</summary>
    public List<V1NetworkPolicyPeer>? NetworkPolicyApiFrom { get; set; }

    /// <summary>Sources of the XKS API port with exposure LoadBalancer (--network-policy-load-balancer-api-from); null: any address.</summary>
    public List<V1NetworkPolicyPeer>? NetworkPolicyLoadBalancerApiFrom { get; set; }

    /// <summary>Sources of the metrics port (--network-policy-metrics-from); null: the monitoring namespace.</summary>
    public List<V1NetworkPolicyPeer>? NetworkPolicyMetricsFrom { get; set; }

    /// <summary>The NetworkPolicy defaults these flags make.</summary>
    public VaultNetworkPolicyDefaults NetworkPolicyDefaults()
    {
        var defaults = VaultNetworkPolicyDefaults.Default;
        return defaults with
        {
            Enabled = NetworkPolicy,
            IngressApiFrom = NetworkPolicyApiFrom is { } api ? [.. api] : defaults.IngressApiFrom,
            LoadBalancerApiFrom = NetworkPolicyLoadBalancerApiFrom is { } lb ? [.. lb] : defaults.LoadBalancerApiFrom,
            MetricsFrom = NetworkPolicyMetricsFrom is { } metrics ? [.. metrics] : defaults.MetricsFrom,
        };
    }

    /// <summary>The Vault allow-list these flags make.</summary>
    public VaultAllowList VaultAllowList() => new()
    {
        ProxyImages = [.. AllowedProxyImages],
        DefaultProxyImage = ProxyImage,
        Pkcs11Libraries = AllowedPkcs11Libraries.Count == 0 ? Options.VaultAllowList.KnownPkcs11Libraries : [.. AllowedPkcs11Libraries],
        AnnotationKeys = AllowedAnnotationKeys.Count == 0 ? ["*"] : [.. AllowedAnnotationKeys],
    };

    /// <summary>The identity policy these flags make.</summary>
    public AwsIdentityPolicy AwsIdentity() => new()
    {
        AmbientNamespaces = new HashSet<string>(AmbientCredentialsNamespaces, StringComparer.Ordinal),
        AllowedRoleArns = AllowedRoleArns.Count == 0 ? ["*"] : [.. AllowedRoleArns],
        AllowHttpEndpoints = AllowHttpEndpoints,
    };
}
