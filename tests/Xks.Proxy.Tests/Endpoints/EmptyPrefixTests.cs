using System.Net;
using System.Text;
using Xks.Proxy.Tests.Support;

namespace Xks.Proxy.Endpoints.Tests;

/// <summary>A key store with an empty uriPathPrefix (a KeySet alone on its Vault): KMS calls /kms/xks/v1/… directly.</summary>
public sealed class EmptyPrefixTests : ProxyTestBase
{
    protected override void Configure(ProxyConfigBuilder builder)
    {
        builder.Prefix = "";
        builder.Key("foo");
    }

    [Fact]
    public async Task EncryptDecrypt_AtTheBareApiPath_RoundTrip()
    {
        Client.Prefix = "";
        var plaintext = Encoding.UTF8.GetBytes("no prefix");

        Assert.Equal(HttpStatusCode.OK, (await Client.HealthAsync()).Status);
        Assert.Equal("ENABLED", (await Client.MetadataAsync("foo"))["keyStatus"]);
        var encrypted = await Client.EncryptAsync("foo", plaintext);
        Assert.True(encrypted.Status == HttpStatusCode.OK, encrypted.Body);
        var decrypted = await Client.DecryptAsync("foo", encrypted);
        Assert.Equal(plaintext, decrypted.Bytes("plaintext"));
    }

    [Fact]
    public async Task Metadata_UnderAPrefix_IsNotThisKeyStore()
    {
        Client.Prefix = TestCredentials.Prefix;

        var response = await Client.MetadataAsync("foo");

        Assert.Equal(HttpStatusCode.NotFound, response.Status);
        Assert.Equal("InvalidUriPathException", response.ErrorName);
    }
}
