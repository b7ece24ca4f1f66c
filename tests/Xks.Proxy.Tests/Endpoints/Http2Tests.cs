using System.Net;
using System.Security.Cryptography;
using Xks.Proxy.Tests.Support;
using Xks.Testing;

namespace Xks.Proxy.Endpoints.Tests;

public sealed class Http2Tests
{
    [Fact]
    public async Task EncryptAndDecrypt_OverHttp2WithTls_AreSignedAndServedLikeHttp11()
    {
        var directory = Directory.CreateTempSubdirectory("xks-h2-").FullName;
        var pem = SelfSignedCertificate.WriteServer(directory, "server");
        await using var server = await ProxyServer.StartAsync(
            b =>
            {
                b.Key("foo");
                b.Tls = $"certificateFile: {pem.CertificateFile}\nprivateKeyFile: {pem.KeyFile}";
            },
            directory: directory);

        using var handler = new SocketsHttpHandler
        {
            SslOptions = { RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate?.GetCertHashString() == pem.Certificate.GetCertHashString() },
        };
        using var client = new XksClient(server.BaseAddress, handler) { Version = HttpVersion.Version20 };

        var plaintext = RandomNumberGenerator.GetBytes(32);
        var encrypted = await client.EncryptAsync("foo", plaintext);
        Assert.True(encrypted.Status == HttpStatusCode.OK, encrypted.Body);
        Assert.Equal(HttpVersion.Version20, encrypted.Version);
        Assert.Equal(plaintext, (await client.DecryptAsync("foo", encrypted)).Bytes("plaintext"));
    }
}
