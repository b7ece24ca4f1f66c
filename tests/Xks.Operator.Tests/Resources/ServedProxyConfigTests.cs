namespace Xks.Operator.Resources.Tests;

public sealed class ServedProxyConfigTests
{
    [Fact]
    public void Parse_RenderedConfig_ReadsAccessKeyIdsAndKeysWithTheirSwitch()
    {
        var credential = XksCredential.Generate();
        var pending = XksCredential.Generate();
        var model = ProxyConfigModel.ForVault(ResourceTestSupport.MinimalVault(), [
            new ProxyKeyStoreModel("payments", "/payments",
                [new ProxyCredentialModel(credential.AccessKeyId, credential.SecretAccessKey), new ProxyCredentialModel(pending.AccessKeyId, pending.SecretAccessKey)],
                [new ProxyKeyModel("db-1", ["ENCRYPT", "DECRYPT"]), new ProxyKeyModel("logs-2", ["ENCRYPT", "DECRYPT"], Enabled: false)]),
        ]);

        var served = ServedProxyConfig.Parse(ProxyConfigRenderer.Render(model));

        Assert.Equal(new HashSet<string> { credential.AccessKeyId, pending.AccessKeyId }, served.AccessKeyIds);
        Assert.True(served.Keys["db-1"]);
        Assert.False(served.Keys["logs-2"]);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("{ not: [yaml")]
    [InlineData("keyStores: 3")]
    public void Parse_MissingOrMalformed_ServesNothing(string? yaml)
    {
        var served = ServedProxyConfig.Parse(yaml);
        Assert.Empty(served.AccessKeyIds);
        Assert.Empty(served.Keys);
    }
}
