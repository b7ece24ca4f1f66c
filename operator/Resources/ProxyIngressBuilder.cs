using k8s.Models;
using Xks.Operator.Entities;

namespace Xks.Operator.Resources;

/// <summary>
/// The Ingress for exposure Ingress: TLS for the hostname terminates there; plain HTTP to the proxy Service, or
/// verified HTTPS with backend TLS (spec.tls.backendIssuerRef).
/// </summary>
public static class ProxyIngressBuilder
{
    /// <summary>
    /// Defaults under the user's annotations (the user's win). ingress-nginx: the backend speaks plain HTTP. Other
    /// controllers ignore the key. The controller's TLS must offer a suite AWS KMS accepts (TLS 1.3, or TLS 1.2 with
    /// ECDHE and AES-256-GCM); ingress-nginx's defaults do.
    /// </summary>
    public static IReadOnlyDictionary<string, string> DefaultAnnotations { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["nginx.ingress.kubernetes.io/backend-protocol"] = "HTTP",
    };

    /// <summary>
    /// Backend TLS (spec.tls.backendIssuerRef), for ingress-nginx: HTTPS to the proxy, whose certificate must chain to
    /// the backend Secret's ca.crt and name the Service's cluster DNS name. These win over the user's annotations:
    /// a Vault cannot ask for backend TLS and switch its verification off.
    /// </summary>
    public static IReadOnlyDictionary<string, string> BackendTlsAnnotations(V1Alpha1Vault vault)
    {
        ArgumentNullException.ThrowIfNull(vault);
        return new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["nginx.ingress.kubernetes.io/backend-protocol"] = "HTTPS",
            ["nginx.ingress.kubernetes.io/proxy-ssl-verify"] = "on",
            ["nginx.ingress.kubernetes.io/proxy-ssl-verify-depth"] = "2",
            ["nginx.ingress.kubernetes.io/proxy-ssl-name"] = VaultNames.ServiceDnsName(vault),
            ["nginx.ingress.kubernetes.io/proxy-ssl-server-name"] = "on",
            ["nginx.ingress.kubernetes.io/proxy-ssl-secret"] = $"{vault.Metadata.NamespaceProperty}/{VaultNames.BackendTlsSecret(vault)}",
        };
    }

    /// <summary>The Ingress, or null when the Vault is exposed through a LoadBalancer.</summary>
    public static V1Ingress? Build(V1Alpha1Vault vault)
    {
        ArgumentNullException.ThrowIfNull(vault);
        if (ProxyConfigModel.ProxyTerminatesTls(vault))
        {
            return null;
        }

        var ingress = vault.Spec.Exposure?.Ingress;
        var backendTls = ProxyConfigModel.BackendTls(vault);
        var annotations = backendTls
            ? Annotations.Merge(ingress?.Annotations, new Dictionary<string, string>(BackendTlsAnnotations(vault), StringComparer.Ordinal))
            : Annotations.Merge(DefaultAnnotations, ingress?.Annotations);
        return new V1Ingress
        {
            ApiVersion = "networking.k8s.io/v1",
            Kind = "Ingress",
            Metadata = VaultOwnership.OwnedMetadata(vault, VaultNames.Ingress(vault), annotations),
            Spec = new V1IngressSpec
            {
                IngressClassName = string.IsNullOrEmpty(ingress?.ClassName) ? null : ingress.ClassName,
                Tls = [new V1IngressTLS { Hosts = [vault.Spec.Hostname], SecretName = VaultNames.TlsSecret(vault) }],
                Rules =
                [
                    new V1IngressRule
                    {
                        Host = vault.Spec.Hostname,
                        Http = new V1HTTPIngressRuleValue
                        {
                            Paths =
                            [
                                new V1HTTPIngressPath
                                {
                                    Path = "/",
                                    PathType = "Prefix",
                                    Backend = new V1IngressBackend
                                    {
                                        Service = new V1IngressServiceBackend
                                        {
                                            Name = VaultNames.Service(vault),
                                            Port = new V1ServiceBackendPort { Name = backendTls ? ProxyServiceBuilder.HttpsPortName : ProxyServiceBuilder.HttpPortName },
                                        },
                                    },
                                },
                            ],
                        },
                    },
                ],
            },
        };
    }
}
