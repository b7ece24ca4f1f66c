using Xks.Operator.Entities;

namespace Xks.Operator.Resources.Tests;

public class VaultNamesTests
{
    [Fact]
    public void Names_OfEveryChild_DeriveFromTheVaultName()
    {
        var vault = ResourceTestSupport.MinimalVault();

        Assert.Equal(
            ["demo-proxy", "demo-proxy", "demo-proxy", "demo-proxy", "demo-proxy", "demo-proxy", "demo-proxy-lb", "demo-proxy-config", "demo-master-key", "demo", "demo", "demo-tls"],
            [
                VaultNames.ServiceAccount(vault), VaultNames.Role(vault), VaultNames.RoleBinding(vault), VaultNames.Deployment(vault),
                VaultNames.Service(vault), VaultNames.PodDisruptionBudget(vault), VaultNames.LoadBalancerService(vault),
                VaultNames.ConfigSecret(vault), VaultNames.MasterKeySecret(vault), VaultNames.Ingress(vault), VaultNames.Certificate(vault),
                VaultNames.TlsSecret(vault),
            ]);
    }

    [Fact]
    public void TlsSecret_SecretNameInSpec_WinsOverTheDefault() =>
        Assert.Equal("given", VaultNames.TlsSecret(ResourceTestSupport.MinimalVault(s => s.Tls = new V1Alpha1VaultTls { SecretName = "given" })));

    [Fact]
    public void Names_VaultWithoutName_Throw()
    {
        var vault = ResourceTestSupport.MinimalVault();
        vault.Metadata.Name = null;

        Assert.Throws<ArgumentException>(() => VaultNames.Proxy(vault));
    }
}

public class VaultLabelsTests
{
    [Fact]
    public void For_Vault_HasTheRecommendedLabelsSorted()
    {
        var labels = VaultLabels.For(ResourceTestSupport.MinimalVault());

        Assert.Equal(
            [
                new("app.kubernetes.io/component", "proxy"),
                new("app.kubernetes.io/instance", "demo"),
                new("app.kubernetes.io/managed-by", "xks-operator"),
                new("app.kubernetes.io/name", "xks-proxy"),
                new KeyValuePair<string, string>("xks.dev/vault", "demo"),
            ],
            labels);
    }

    [Fact]
    public void SelectorFor_Vault_IsASubsetOfTheLabels()
    {
        var vault = ResourceTestSupport.MinimalVault();
        var labels = VaultLabels.For(vault);

        var selector = VaultLabels.SelectorFor(vault);

        Assert.Equal(3, selector.Count);
        Assert.All(selector, pair => Assert.Equal(pair.Value, labels[pair.Key]));
    }
}

public class VaultOwnershipTests
{
    [Fact]
    public void ControllerReference_Vault_PointsAtItAsController()
    {
        var owner = VaultOwnership.ControllerReference(ResourceTestSupport.MinimalVault());

        Assert.Equal(("xks.dev/v1alpha1", "Vault", "demo", "11111111-2222-3333-4444-555555555555"), (owner.ApiVersion, owner.Kind, owner.Name, owner.Uid));
        Assert.True(owner.Controller);
        Assert.True(owner.BlockOwnerDeletion);
    }

    [Fact]
    public void ControllerReference_VaultWithoutUid_Throws()
    {
        var vault = ResourceTestSupport.MinimalVault();
        vault.Metadata.Uid = null;

        var error = Assert.Throws<ArgumentException>(() => VaultOwnership.ControllerReference(vault));
        Assert.Contains("metadata.uid", error.Message, StringComparison.Ordinal);
    }
}
