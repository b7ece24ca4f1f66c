using k8s.Models;
using Xks.Operator.Entities;

namespace Xks.Operator.Resources.Tests;

public class ProxyNetworkPolicyBuilderTests
{
    private static V1NetworkPolicy Build(V1Alpha1Vault vault, VaultNetworkPolicyDefaults? defaults = null) =>
        ProxyNetworkPolicyBuilder.Build(vault, defaults ?? VaultNetworkPolicyDefaults.Default)
        ?? throw new InvalidOperationException("no NetworkPolicy was built");

    [Theory]
    [InlineData("ingress-issuer", "networkpolicy.ingress-defaults.yaml")]
    [InlineData("loadbalancer-secret", "networkpolicy.loadbalancer-defaults.yaml")]
    [InlineData("networkpolicy-overrides", "networkpolicy.overrides.yaml")]
    public void Build_SampleVault_MatchesGoldenManifest(string sample, string golden)
    {
        var vault = ResourceTestSupport.LoadVault(sample);
        Assert.Empty(VaultSpecValidator.Validate(vault));

        ResourceTestSupport.AssertGolden(golden, ResourceTestSupport.ToYaml([Build(vault)]));
    }

    [Fact]
    public void Build_IngressExposure_AdmitsTheIngressControllerToTheApiPortAndMonitoringToMetricsOnly()
    {
        var policy = Build(ResourceTestSupport.MinimalVault());

        Assert.Equal("demo-proxy", policy.Metadata.Name);
        Assert.Equal(VaultLabels.SelectorFor(ResourceTestSupport.MinimalVault()), policy.Spec.PodSelector.MatchLabels);
        Assert.Equal(["Ingress"], policy.Spec.PolicyTypes);
        Assert.Collection(
            policy.Spec.Ingress,
            api =>
            {
                Assert.Equal(("xks", "TCP"), (Assert.Single(api.Ports).Port.Value, api.Ports[0].Protocol));
                Assert.Equal("ingress-nginx", Assert.Single(api.FromProperty).NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"]);
            },
            metrics =>
            {
                Assert.Equal("metrics", Assert.Single(metrics.Ports).Port.Value);
                Assert.Equal("monitoring", Assert.Single(metrics.FromProperty).NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"]);
            });
    }

    [Fact]
    public void Build_LoadBalancerExposure_AdmitsAnyAddressToTheApiPortButStillOnlyMonitoringToMetrics()
    {
        var policy = Build(ResourceTestSupport.MinimalVault(s => s.Exposure = new V1Alpha1VaultExposure { Type = V1Alpha1ExposureType.LoadBalancer }));

        Assert.Equal(["0.0.0.0/0", "::/0"], policy.Spec.Ingress[0].FromProperty.Select(p => p.IpBlock.Cidr));
        Assert.Equal("xks", policy.Spec.Ingress[0].Ports[0].Port.Value);
        Assert.Equal("monitoring", Assert.Single(policy.Spec.Ingress[1].FromProperty).NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"]);
    }

    [Fact]
    public void Build_OperatorDefaults_AreUsedForTheVaultsExposure()
    {
        var defaults = VaultNetworkPolicyDefaults.Default with
        {
            IngressApiFrom = [VaultNetworkPolicyDefaults.NamespaceNamed("traefik")],
            LoadBalancerApiFrom = [new V1NetworkPolicyPeer { IpBlock = new V1IPBlock { Cidr = "10.20.0.0/16" } }],
            MetricsFrom = [VaultNetworkPolicyDefaults.NamespaceNamed("prometheus")],
        };

        var ingress = Build(ResourceTestSupport.MinimalVault(), defaults);
        var loadBalancer = Build(ResourceTestSupport.MinimalVault(s => s.Exposure = new V1Alpha1VaultExposure { Type = V1Alpha1ExposureType.LoadBalancer }), defaults);

        Assert.Equal("traefik", ingress.Spec.Ingress[0].FromProperty[0].NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"]);
        Assert.Equal("10.20.0.0/16", Assert.Single(loadBalancer.Spec.Ingress[0].FromProperty).IpBlock.Cidr);
        Assert.Equal("prometheus", loadBalancer.Spec.Ingress[1].FromProperty[0].NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"]);
    }

    [Fact]
    public void Build_EmptySourceLists_LeaveNoRuleSoNoOneIsAdmitted()
    {
        // A rule without "from" would admit everyone; an empty list must mean no one.
        var vault = ResourceTestSupport.MinimalVault(s => s.NetworkPolicy = new V1Alpha1VaultNetworkPolicy { ApiFrom = [], MetricsFrom = [] });

        var policy = Build(vault);

        Assert.Equal(["Ingress"], policy.Spec.PolicyTypes);
        Assert.Empty(policy.Spec.Ingress);
    }

    [Fact]
    public void Build_DisabledByTheOperator_IsNullUnlessTheVaultEnablesIt()
    {
        var off = VaultNetworkPolicyDefaults.Default with { Enabled = false };

        Assert.Null(ProxyNetworkPolicyBuilder.Build(ResourceTestSupport.MinimalVault(), off));
        Assert.NotNull(ProxyNetworkPolicyBuilder.Build(ResourceTestSupport.MinimalVault(s => s.NetworkPolicy = new V1Alpha1VaultNetworkPolicy { Enabled = true }), off));
    }

    [Fact]
    public void Build_DisabledByTheVault_IsNull()
    {
        var vault = ResourceTestSupport.MinimalVault(s => s.NetworkPolicy = new V1Alpha1VaultNetworkPolicy { Enabled = false });

        Assert.Null(ProxyNetworkPolicyBuilder.Build(vault, VaultNetworkPolicyDefaults.Default));
    }

    [Fact]
    public void Build_Peers_AreCopiesNotSharedWithTheSpecOrTheDefaults()
    {
        var peer = VaultNetworkPolicyDefaults.NamespaceNamed("edge");
        var vault = ResourceTestSupport.MinimalVault(s => s.NetworkPolicy = new V1Alpha1VaultNetworkPolicy { ApiFrom = [peer] });

        var policy = Build(vault);
        policy.Spec.Ingress[0].FromProperty[0].NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"] = "changed";

        Assert.Equal("edge", peer.NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"]);
        Assert.Equal("monitoring", VaultNetworkPolicyDefaults.Default.MetricsFrom[0].NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"]);
        Assert.NotSame(VaultNetworkPolicyDefaults.Default.MetricsFrom[0], policy.Spec.Ingress[1].FromProperty[0]);
    }
}
