using System.Net;
using System.Security.Cryptography;
using System.Text;
using Xks.Proxy.Tests.Support;

namespace Xks.Proxy.Endpoints.Tests;

public sealed class EncryptDecryptTests : IAsyncLifetime
{
    private ProxyServer _server = null!;
    private XksClient _client = null!;

    public async Task InitializeAsync()
    {
        _server = await ProxyServer.StartAsync(b => b.Key("foo"));
        _client = new XksClient(_server.BaseAddress);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task Encrypt_ThenDecrypt_ReturnsThePlaintext()
    {
        var plaintext = Encoding.UTF8.GetBytes("Hello World!");
        var aad = Encoding.UTF8.GetBytes("project=nile,department=marketing");

        var encrypted = await _client.EncryptAsync("foo", plaintext, aad);
        Assert.True(encrypted.Status == HttpStatusCode.OK, _server.Logs.AllText);
        Assert.Equal(plaintext.Length, encrypted.Bytes("ciphertext").Length);
        Assert.Equal(12, encrypted.Bytes("initializationVector").Length);
        Assert.Equal(16, encrypted.Bytes("authenticationTag").Length);

        var decrypted = await _client.DecryptAsync("foo", encrypted, aad);
        Assert.Equal(HttpStatusCode.OK, decrypted.Status);
        Assert.Equal(plaintext, decrypted.Bytes("plaintext"));
    }

    [Fact]
    public async Task Encrypt_WithCdiv_ReturnsSha256OverAadMetadataIvCiphertextTag()
    {
        var aad = RandomNumberGenerator.GetBytes(100);
        var encrypted = await _client.EncryptAsync("foo", RandomNumberGenerator.GetBytes(64), aad, cdiv: true);

        var expected = SHA256.HashData([.. aad, .. encrypted.Bytes("ciphertextMetadata"), .. encrypted.Bytes("initializationVector"),
            .. encrypted.Bytes("ciphertext"), .. encrypted.Bytes("authenticationTag")]);
        Assert.Equal(expected, encrypted.Bytes("ciphertextDataIntegrityValue"));
    }
}
