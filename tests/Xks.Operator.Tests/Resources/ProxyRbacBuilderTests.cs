namespace Xks.Operator.Resources.Tests;

public class ProxyRbacBuilderTests
{
    [Fact]
    public void BuildRole_ReadsOnlyItsOwnConfigAndMasterKeySecrets()
    {
        var role = ProxyRbacBuilder.BuildRole(ResourceTestSupport.MinimalVault());

        var rule = Assert.Single(role.Rules);
        Assert.Equal([""], rule.ApiGroups);
        Assert.Equal(["secrets"], rule.Resources);
        Assert.Equal(["demo-master-key", "demo-proxy-config"], rule.ResourceNames);
        Assert.Equal(["get", "list", "watch"], rule.Verbs);
    }

    [Fact]
    public void BuildRole_AdditionalSecrets_AreAddedSortedAndOnce()
    {
        var role = ProxyRbacBuilder.BuildRole(ResourceTestSupport.MinimalVault(), ["z-key", "demo-proxy-config", "a-key"]);

        Assert.Equal(["a-key", "demo-master-key", "demo-proxy-config", "z-key"], Assert.Single(role.Rules).ResourceNames);
    }

    [Fact]
    public void BuildServiceAccount_MountsItsToken()
    {
        var account = ProxyRbacBuilder.BuildServiceAccount(ResourceTestSupport.MinimalVault());

        Assert.Equal("demo-proxy", account.Metadata.Name);
        Assert.True(account.AutomountServiceAccountToken);
    }

    [Fact]
    public void BuildRoleBinding_BindsTheRoleToTheProxyServiceAccount()
    {
        var binding = ProxyRbacBuilder.BuildRoleBinding(ResourceTestSupport.MinimalVault());

        Assert.Equal(("rbac.authorization.k8s.io", "Role", "demo-proxy"), (binding.RoleRef.ApiGroup, binding.RoleRef.Kind, binding.RoleRef.Name));
        var subject = Assert.Single(binding.Subjects);
        Assert.Equal(("ServiceAccount", "demo-proxy", "ns1"), (subject.Kind, subject.Name, subject.NamespaceProperty));
    }
}
