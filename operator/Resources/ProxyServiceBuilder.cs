using k8s.Models;
using Xks.Operator.Entities;

namespace Xks.Operator.Resources;

/// <summary>The proxy's Services: an in-cluster ClusterIP Service always, a LoadBalancer Service for exposure LoadBalancer.</summary>
public static class ProxyServiceBuilder
{
    /// <summary>Port name of the XKS API on the ClusterIP Service when an Ingress fronts it (plain HTTP).</summary>
    public const string HttpPortName = "http";

    /// <summary>Port name of the XKS API when the proxy terminates TLS.</summary>
    public const string HttpsPortName = "https";

    /// <summary>
    /// ClusterIP <c>&lt;vault&gt;-proxy</c>: the Ingress backend (http 80 → xks 8080, or https 443 → 8443 with backend
    /// TLS) or in-cluster HTTPS (443 → 8443),
    /// plus metrics 9090 for Prometheus. Metrics are only ever on this in-cluster Service.
    /// </summary>
    public static V1Service BuildClusterService(V1Alpha1Vault vault)
    {
        var tls = ProxyConfigModel.ProxyServesTls(vault);
        return new V1Service
        {
            ApiVersion = "v1",
            Kind = "Service",
            Metadata = VaultOwnership.OwnedMetadata(vault, VaultNames.Service(vault)),
            Spec = new V1ServiceSpec
            {
                Type = "ClusterIP",
                Selector = VaultLabels.SelectorFor(vault),
                Ports =
                [
                    tls
                        ? new V1ServicePort { Name = HttpsPortName, Port = 443, TargetPort = ProxyLayout.XksPortName, Protocol = "TCP" }
                        : new V1ServicePort { Name = HttpPortName, Port = 80, TargetPort = ProxyLayout.XksPortName, Protocol = "TCP" },
                    new V1ServicePort { Name = ProxyLayout.MetricsPortName, Port = ProxyLayout.MetricsPort, TargetPort = ProxyLayout.MetricsPortName, Protocol = "TCP" },
                ],
            },
        };
    }

    /// <summary>
    /// <c>&lt;vault&gt;-proxy-lb</c>, type LoadBalancer, 443 → xks 8443 (the proxy terminates TLS); only for exposure
    /// LoadBalancer, null otherwise. externalTrafficPolicy Local unless the Vault says Cluster: the load balancer sends
    /// traffic only to nodes that run a proxy pod (no second hop through kube-proxy inside KMS's 250 ms budget, no SNAT),
    /// so the proxy's audit log and any source-range filtering see the real client address.
    /// </summary>
    public static V1Service? BuildLoadBalancerService(V1Alpha1Vault vault)
    {
        if (!ProxyConfigModel.ProxyTerminatesTls(vault))
        {
            return null;
        }

        var lb = vault.Spec.Exposure.LoadBalancer;
        var annotations = lb?.Annotations is { Count: > 0 } ? Annotations.Sorted(lb.Annotations) : null;
        return new V1Service
        {
            ApiVersion = "v1",
            Kind = "Service",
            Metadata = VaultOwnership.OwnedMetadata(vault, VaultNames.LoadBalancerService(vault), annotations),
            Spec = new V1ServiceSpec
            {
                Type = "LoadBalancer",
                ExternalTrafficPolicy = (lb?.ExternalTrafficPolicy ?? V1Alpha1ExternalTrafficPolicy.Local).ToString(),
                Selector = VaultLabels.SelectorFor(vault),
                LoadBalancerSourceRanges = lb?.LoadBalancerSourceRanges is { Count: > 0 } ranges ? [.. ranges] : null,
                Ports =
                [
                    new V1ServicePort { Name = HttpsPortName, Port = 443, TargetPort = ProxyLayout.XksPortName, Protocol = "TCP" },
                ],
            },
        };
    }
}
