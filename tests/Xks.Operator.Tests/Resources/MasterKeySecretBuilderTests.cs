namespace Xks.Operator.Resources.Tests;

public class MasterKeySecretBuilderTests
{
    [Fact]
    public void Build_Key_IsStoredAsIsInAnImmutableOpaqueSecret()
    {
        var key = Enumerable.Range(100, 32).Select(i => (byte)i).ToArray();

        var secret = MasterKeySecretBuilder.Build(ResourceTestSupport.MinimalVault(), key);

        Assert.Equal("demo-master-key", secret.Metadata.Name);
        Assert.Equal("ns1", secret.Metadata.NamespaceProperty);
        Assert.Equal("Opaque", secret.Type);
        Assert.True(secret.Immutable);
        Assert.Equal(key, Assert.Single(secret.Data, d => d.Key == "master.key").Value);
        Assert.Null(secret.StringData);
    }

    [Fact]
    public void Build_Secret_HasNoOwnerSoDeletingTheVaultKeepsTheKey()
    {
        var secret = MasterKeySecretBuilder.Build(ResourceTestSupport.MinimalVault(), new byte[32]);

        Assert.Null(secret.Metadata.OwnerReferences);
        Assert.Equal("true", secret.Metadata.Annotations[VaultLabels.NeverDeleteAnnotation]);
        Assert.Equal("demo", secret.Metadata.Labels[VaultLabels.VaultLabel]);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(16)]
    [InlineData(33)]
    public void Build_WrongKeyLength_Throws(int length) =>
        Assert.Throws<ArgumentException>(() => MasterKeySecretBuilder.Build(ResourceTestSupport.MinimalVault(), new byte[length]));
}
