using System.Net;
using System.Security.Cryptography;
using Xks.Proxy.Tests.Support;

namespace Xks.Proxy.Endpoints.Tests;

public class KeyStateTests : ProxyTestBase
{
    protected override void Configure(ProxyConfigBuilder builder) => builder
        .Key("both")
        .Key("enc", usage: "[ENCRYPT]")
        .Key("dec", usage: "[DECRYPT]")
        .Key("none", usage: "[]")
        .Key("off", enabled: false)
        .Key("guarded", authorization: """
            principals: ["arn:aws:iam::111122223333:role/*"]
            viaServices: [ebs]
            """);

    [Theory]
    [InlineData("both", "[\"ENCRYPT\",\"DECRYPT\"]", "ENABLED")]
    [InlineData("enc", "[\"ENCRYPT\"]", "ENABLED")]
    [InlineData("dec", "[\"DECRYPT\"]", "ENABLED")]
    [InlineData("none", "[]", "ENABLED")]
    [InlineData("off", "[\"ENCRYPT\",\"DECRYPT\"]", "DISABLED")]
    public async Task GetKeyMetadata_ConfiguredKey_ReportsAes256ItsUsageAndStatus(string keyId, string usage, string status)
    {
        var response = await Client.MetadataAsync(keyId);
        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Equal("AES_256", response["keySpec"]);
        Assert.Equal(usage, response.Json!["keyUsage"]!.ToJsonString());
        Assert.Equal(status, response["keyStatus"]);
    }

    [Fact]
    public async Task GetKeyMetadata_UnknownKey_ReturnsKeyNotFound() =>
        Assert.Equal("KeyNotFoundException", (await Client.MetadataAsync("nope")).ErrorName);

    // (key, encrypt without CDIV, encrypt with CDIV, decrypt) → expected outcome (null = success)
    [Theory]
    [InlineData("both", null, null, null)]
    [InlineData("enc", null, "InvalidKeyUsageException", "InvalidKeyUsageException")]
    [InlineData("dec", "InvalidKeyUsageException", "InvalidKeyUsageException", "InvalidCiphertextException")]
    [InlineData("none", "InvalidKeyUsageException", "InvalidKeyUsageException", "InvalidKeyUsageException")]
    [InlineData("off", "InvalidStateException", "InvalidStateException", "InvalidStateException")]
    public async Task Crypto_EachKeyUsageAndState_IsPermittedOrRefusedAsTheSpecSays(string keyId, string? encrypt, string? encryptWithCdiv, string? decrypt)
    {
        var plain = await Client.EncryptAsync(keyId, RandomNumberGenerator.GetBytes(16), cdiv: false);
        Assert.Equal(encrypt, plain.ErrorName);
        Assert.Equal(encrypt is null ? HttpStatusCode.OK : HttpStatusCode.BadRequest, plain.Status);

        var withCdiv = await Client.EncryptAsync(keyId, RandomNumberGenerator.GetBytes(16), cdiv: true);
        Assert.Equal(encryptWithCdiv, withCdiv.ErrorName);

        // A ciphertext of the full key: the full key decrypts it; a decrypt-only key gets past the usage check to the
        // tag check (it is another key's ciphertext); the others are refused before any crypto.
        var source = await Client.EncryptAsync("both", RandomNumberGenerator.GetBytes(16));
        Assert.Equal(decrypt, (await Client.DecryptAsync(keyId, source)).ErrorName);
    }

    [Fact]
    public async Task Decrypt_CiphertextOfAnotherKey_ReturnsInvalidCiphertext()
    {
        var source = await Client.EncryptAsync("both", RandomNumberGenerator.GetBytes(16));
        Assert.Equal("InvalidCiphertextException", (await Client.DecryptAsync("dec", source)).ErrorName);
    }

    [Fact]
    public async Task SecondaryAuthorization_AllowedPrincipalAndService_IsServed()
    {
        var metadata = XksClient.Metadata("Encrypt", principal: "arn:aws:iam::111122223333:role/App");
        metadata["kmsViaService"] = "ebs";
        var response = await Client.EncryptAsync("guarded", RandomNumberGenerator.GetBytes(8), metadata: metadata);
        Assert.Equal(HttpStatusCode.OK, response.Status);
    }

    [Fact]
    public async Task SecondaryAuthorization_OtherAccount_ReturnsAccessDeniedAndLogsTheRule()
    {
        var metadata = XksClient.Metadata("Encrypt", principal: "arn:aws:iam::999999999999:role/App", requestId: "deny-principal-1");
        metadata["kmsViaService"] = "ebs";
        var response = await Client.EncryptAsync("guarded", RandomNumberGenerator.GetBytes(8), metadata: metadata);

        Assert.Equal(HttpStatusCode.Forbidden, response.Status);
        Assert.Equal("AccessDeniedException", response.ErrorName);
        Assert.Contains(Server.Logs.Lines, l => l.Contains("deny-principal-1", StringComparison.Ordinal) && l.Contains("'principals'", StringComparison.Ordinal));
        var audit = await Server.WaitForAuditAsync("deny-principal-1");
        Assert.Contains(audit, l => l.Contains("\"deniedBy\":\"principals\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SecondaryAuthorization_OtherViaService_ReturnsAccessDenied()
    {
        var metadata = XksClient.Metadata("Decrypt", principal: "arn:aws:iam::111122223333:role/App");
        metadata["kmsViaService"] = "rds";
        var source = await Client.EncryptAsync("both", RandomNumberGenerator.GetBytes(8));
        Assert.Equal("AccessDeniedException", (await Client.DecryptAsync("guarded", source, metadata: metadata)).ErrorName);
    }

    [Fact]
    public async Task SecondaryAuthorization_NeverAppliesToHealth()
    {
        var response = await Client.HealthAsync();
        Assert.Equal(HttpStatusCode.OK, response.Status);
    }
}
