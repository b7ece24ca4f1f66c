namespace Xks.Operator.Resources.Tests;

public class ProxyPodDisruptionBudgetBuilderTests
{
    [Theory]
    [InlineData(new[] { "v1", "v1beta1" }, "policy/v1")]
    [InlineData(new[] { "v1beta1" }, "policy/v1beta1")]
    [InlineData(new string[0], "policy/v1beta1")]
    public void SelectApiVersion_ServedVersions_PrefersV1(string[] served, string expected) =>
        Assert.Equal(expected, ProxyPodDisruptionBudgetBuilder.SelectApiVersion(served));

    [Theory]
    [InlineData("policy/v1")]
    [InlineData("policy/v1beta1")]
    public void Build_AnyServedVersion_AllowsOnePodDown(string apiVersion)
    {
        var vault = ResourceTestSupport.MinimalVault();

        var pdb = ProxyPodDisruptionBudgetBuilder.Build(vault, apiVersion);

        Assert.Equal(apiVersion, pdb.ApiVersion);
        Assert.Equal("PodDisruptionBudget", pdb.Kind);
        Assert.Equal("demo-proxy", pdb.Metadata.Name);
        Assert.Equal("1", pdb.Spec.MaxUnavailable.Value);
        Assert.Null(pdb.Spec.MinAvailable);
        Assert.Equal(VaultLabels.SelectorFor(vault), pdb.Spec.Selector.MatchLabels);
    }

    [Fact]
    public void Build_UnknownVersion_Throws() =>
        Assert.Throws<ArgumentException>(() => ProxyPodDisruptionBudgetBuilder.Build(ResourceTestSupport.MinimalVault(), "policy/v2"));
}
