using Xks.Operator.Entities;

namespace Xks.Operator.Resources.Tests;

public class ProxyIngressBuilderTests
{
    [Fact]
    public void Build_Ingress_RoutesTheHostnameToTheHttpPortWithTls()
    {
        var ingress = ProxyIngressBuilder.Build(ResourceTestSupport.MinimalVault())!;

        Assert.Equal("demo", ingress.Metadata.Name);
        Assert.Null(ingress.Spec.IngressClassName);
        var tls = Assert.Single(ingress.Spec.Tls);
        Assert.Equal(["xks.demo.example.com"], tls.Hosts);
        Assert.Equal("demo-tls", tls.SecretName);
        var rule = Assert.Single(ingress.Spec.Rules);
        Assert.Equal("xks.demo.example.com", rule.Host);
        var path = Assert.Single(rule.Http.Paths);
        Assert.Equal(("/", "Prefix"), (path.Path, path.PathType));
        Assert.Equal(("demo-proxy", "http"), (path.Backend.Service.Name, path.Backend.Service.Port.Name));
        Assert.Equal("HTTP", ingress.Metadata.Annotations["nginx.ingress.kubernetes.io/backend-protocol"]);
    }

    [Fact]
    public void Build_UserAnnotationsAndClass_AreUsedAndOverrideDefaults()
    {
        var vault = ResourceTestSupport.MinimalVault(s => s.Exposure = new V1Alpha1VaultExposure
        {
            Ingress = new V1Alpha1VaultIngress
            {
                ClassName = "traefik",
                Annotations = new Dictionary<string, string> { ["nginx.ingress.kubernetes.io/backend-protocol"] = "GRPC", ["x"] = "y" },
            },
        });

        var ingress = ProxyIngressBuilder.Build(vault)!;

        Assert.Equal("traefik", ingress.Spec.IngressClassName);
        Assert.Equal("GRPC", ingress.Metadata.Annotations["nginx.ingress.kubernetes.io/backend-protocol"]);
        Assert.Equal("y", ingress.Metadata.Annotations["x"]);
    }

    [Fact]
    public void Build_ExistingTlsSecret_IsReferenced() =>
        Assert.Equal("mine", Assert.Single(ProxyIngressBuilder.Build(ResourceTestSupport.MinimalVault(s => s.Tls = new V1Alpha1VaultTls { SecretName = "mine" }))!.Spec.Tls).SecretName);

    [Fact]
    public void Build_LoadBalancer_IsNull() =>
        Assert.Null(ProxyIngressBuilder.Build(ResourceTestSupport.MinimalVault(s => s.Exposure = new V1Alpha1VaultExposure { Type = V1Alpha1ExposureType.LoadBalancer })));
}
