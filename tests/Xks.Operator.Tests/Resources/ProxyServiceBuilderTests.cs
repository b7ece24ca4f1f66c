using Xks.Operator.Entities;

namespace Xks.Operator.Resources.Tests;

public class ProxyServiceBuilderTests
{
    private static V1Alpha1Vault LoadBalancerVault(V1Alpha1VaultLoadBalancer? settings = null) => ResourceTestSupport.MinimalVault(s =>
        s.Exposure = new V1Alpha1VaultExposure { Type = V1Alpha1ExposureType.LoadBalancer, LoadBalancer = settings });

    [Fact]
    public void BuildClusterService_Ingress_ServesHttpAndMetrics()
    {
        var vault = ResourceTestSupport.MinimalVault();

        var service = ProxyServiceBuilder.BuildClusterService(vault);

        Assert.Equal("demo-proxy", service.Metadata.Name);
        Assert.Equal("ClusterIP", service.Spec.Type);
        Assert.Equal(VaultLabels.SelectorFor(vault), service.Spec.Selector);
        Assert.Equal([("http", 80, "xks"), ("metrics", 9090, "metrics")], service.Spec.Ports.Select(p => (p.Name, p.Port, p.TargetPort.Value)));
    }

    [Fact]
    public void BuildClusterService_LoadBalancer_ServesHttpsAndMetrics()
    {
        var service = ProxyServiceBuilder.BuildClusterService(LoadBalancerVault());

        Assert.Equal([("https", 443, "xks"), ("metrics", 9090, "metrics")], service.Spec.Ports.Select(p => (p.Name, p.Port, p.TargetPort.Value)));
    }

    [Fact]
    public void BuildLoadBalancerService_Ingress_IsNull() =>
        Assert.Null(ProxyServiceBuilder.BuildLoadBalancerService(ResourceTestSupport.MinimalVault()));

    [Fact]
    public void BuildLoadBalancerService_LoadBalancer_Exposes443OnlyWithLocalTrafficPolicy()
    {
        var vault = LoadBalancerVault(new V1Alpha1VaultLoadBalancer
        {
            Annotations = new Dictionary<string, string> { ["z"] = "1", ["a"] = "2" },
            LoadBalancerSourceRanges = ["192.0.2.0/24"],
        });

        var service = ProxyServiceBuilder.BuildLoadBalancerService(vault)!;

        Assert.Equal("demo-proxy-lb", service.Metadata.Name);
        Assert.Equal("LoadBalancer", service.Spec.Type);
        Assert.Equal("Local", service.Spec.ExternalTrafficPolicy);
        Assert.Equal(["192.0.2.0/24"], service.Spec.LoadBalancerSourceRanges);
        Assert.Equal(["a", "z"], service.Metadata.Annotations.Keys);
        Assert.Equal([("https", 443, "xks")], service.Spec.Ports.Select(p => (p.Name, p.Port, p.TargetPort.Value)));
    }

    [Theory]
    [InlineData(V1Alpha1ExternalTrafficPolicy.Local, "Local")]
    [InlineData(V1Alpha1ExternalTrafficPolicy.Cluster, "Cluster")]
    public void BuildLoadBalancerService_ExternalTrafficPolicy_IsTheVaults(V1Alpha1ExternalTrafficPolicy policy, string expected)
    {
        var service = ProxyServiceBuilder.BuildLoadBalancerService(LoadBalancerVault(new V1Alpha1VaultLoadBalancer { ExternalTrafficPolicy = policy }))!;

        Assert.Equal(expected, service.Spec.ExternalTrafficPolicy);
    }

    [Fact]
    public void BuildLoadBalancerService_NoSettings_HasNoAnnotationsNorRanges()
    {
        var service = ProxyServiceBuilder.BuildLoadBalancerService(LoadBalancerVault())!;

        Assert.Null(service.Metadata.Annotations);
        Assert.Null(service.Spec.LoadBalancerSourceRanges);
    }
}
