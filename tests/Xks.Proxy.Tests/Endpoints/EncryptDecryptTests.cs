using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Xks.Proxy.Tests.Support;

namespace Xks.Proxy.Endpoints.Tests;

public class EncryptDecryptTests : ProxyTestBase
{
    private static readonly byte[] Aad = Encoding.UTF8.GetBytes("project=nile,department=marketing");

    [Fact]
    public async Task Encrypt_ThenDecrypt_ReturnsThePlaintext()
    {
        var plaintext = Encoding.UTF8.GetBytes("Hello World!");

        var encrypted = await Client.EncryptAsync("foo", plaintext, Aad);
        Assert.True(encrypted.Status == HttpStatusCode.OK, encrypted.Body);
        Assert.Equal(plaintext.Length, encrypted.Bytes("ciphertext").Length);
        Assert.Equal(12, encrypted.Bytes("initializationVector").Length);
        Assert.Equal(16, encrypted.Bytes("authenticationTag").Length);
        Assert.InRange(encrypted.Bytes("ciphertextMetadata").Length, 1, 20);

        var decrypted = await Client.DecryptAsync("foo", encrypted, Aad);
        Assert.Equal(HttpStatusCode.OK, decrypted.Status);
        Assert.Equal(plaintext, decrypted.Bytes("plaintext"));
    }

    [Fact]
    public async Task Encrypt_WithoutAad_DecryptsWithoutAad()
    {
        var plaintext = RandomNumberGenerator.GetBytes(32);
        var encrypted = await Client.EncryptAsync("foo", plaintext, aad: null, cdiv: false);
        Assert.Null(encrypted["ciphertextDataIntegrityValue"]);
        Assert.Equal(plaintext, (await Client.DecryptAsync("foo", encrypted)).Bytes("plaintext"));
    }

    [Fact]
    public async Task Encrypt_SamePlaintextTwice_UsesFreshIvs()
    {
        var plaintext = RandomNumberGenerator.GetBytes(32);
        var first = await Client.EncryptAsync("foo", plaintext);
        var second = await Client.EncryptAsync("foo", plaintext);
        Assert.NotEqual(first["initializationVector"], second["initializationVector"]);
        Assert.NotEqual(first["ciphertext"], second["ciphertext"]);
    }

    [Fact]
    public async Task Encrypt_WithCdiv_ReturnsSha256OverAadMetadataIvCiphertextTag()
    {
        var aad = RandomNumberGenerator.GetBytes(100);
        var encrypted = await Client.EncryptAsync("foo", RandomNumberGenerator.GetBytes(64), aad, cdiv: true);

        var expected = SHA256.HashData([.. aad, .. encrypted.Bytes("ciphertextMetadata"), .. encrypted.Bytes("initializationVector"),
            .. encrypted.Bytes("ciphertext"), .. encrypted.Bytes("authenticationTag")]);
        Assert.Equal(expected, encrypted.Bytes("ciphertextDataIntegrityValue"));
    }

    [Fact]
    public async Task Encrypt_SpecMinimumSizes_4300BytePlaintextAnd8192ByteAad_RoundTrip()
    {
        var plaintext = RandomNumberGenerator.GetBytes(4300);
        var aad = RandomNumberGenerator.GetBytes(8192);
        var encrypted = await Client.EncryptAsync("foo", plaintext, aad);
        Assert.Equal(HttpStatusCode.OK, encrypted.Status);
        Assert.Equal(plaintext, (await Client.DecryptAsync("foo", encrypted, aad)).Bytes("plaintext"));
    }

    [Fact]
    public async Task Encrypt_EmptyPlaintext_RoundTrips()
    {
        var encrypted = await Client.EncryptAsync("foo", [], Aad);
        Assert.Equal(HttpStatusCode.OK, encrypted.Status);
        Assert.Empty((await Client.DecryptAsync("foo", encrypted, Aad)).Bytes("plaintext"));
    }

    public static TheoryData<string, Action<JsonObject>> Tampering => new()
    {
        { "ciphertext", b => b["ciphertext"] = Flip(b["ciphertext"]!.GetValue<string>()) },
        { "initializationVector", b => b["initializationVector"] = Flip(b["initializationVector"]!.GetValue<string>()) },
        { "authenticationTag", b => b["authenticationTag"] = Flip(b["authenticationTag"]!.GetValue<string>()) },
        { "ciphertextMetadata", b => b["ciphertextMetadata"] = Flip(b["ciphertextMetadata"]!.GetValue<string>()) },
        { "additionalAuthenticatedData", b => b["additionalAuthenticatedData"] = Flip(b["additionalAuthenticatedData"]!.GetValue<string>()) },
        { "AAD removed", b => b.Remove("additionalAuthenticatedData") },
        { "AAD replaced", b => b["additionalAuthenticatedData"] = Convert.ToBase64String(Encoding.UTF8.GetBytes("project=blue,department=finance")) },
        { "metadata removed", b => b.Remove("ciphertextMetadata") },
        { "metadata moved into the AAD", b => { b["additionalAuthenticatedData"] = b["ciphertextMetadata"]!.DeepClone(); b.Remove("ciphertextMetadata"); } },
        { "metadata naming another version", b => b["ciphertextMetadata"] = Convert.ToBase64String(Convert.FromHexString("0100000002")) },
        { "16-byte IV", b => b["initializationVector"] = Convert.ToBase64String(new byte[16]) },
        { "ciphertext truncated", b => b["ciphertext"] = Convert.ToBase64String(Convert.FromBase64String(b["ciphertext"]!.GetValue<string>())[..^1]) },
    };

    [Theory]
    [MemberData(nameof(Tampering))]
    public async Task Decrypt_TamperedField_ReturnsInvalidCiphertext(string field, Action<JsonObject> tamper)
    {
        var encrypted = await Client.EncryptAsync("foo", RandomNumberGenerator.GetBytes(24), Aad);
        var response = await Client.DecryptAsync("foo", encrypted, Aad, tamper);
        Assert.True(response.ErrorName == "InvalidCiphertextException", $"{field}: {response.Body}");
        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.DoesNotContain("plaintext", response.Body, StringComparison.Ordinal);
    }

    private static string Flip(string base64)
    {
        var bytes = Convert.FromBase64String(base64);
        bytes[^1] ^= 0x01;
        return Convert.ToBase64String(bytes);
    }

    public static TheoryData<string, Func<JsonObject, JsonObject>, string> Malformed => new()
    {
        { "plaintext missing", b => Without(b, "plaintext"), "plaintext is required" },
        { "algorithm missing", b => Without(b, "encryptionAlgorithm"), "encryptionAlgorithm is required" },
        { "algorithm AES_CBC", b => With(b, "encryptionAlgorithm", "AES_CBC"), "must be AES_GCM" },
        { "CDIV algorithm SHA_1", b => With(b, "ciphertextDataIntegrityValueAlgorithm", "SHA_1"), "must be SHA_256" },
        { "URL-safe Base64", b => With(b, "plaintext", "-_-_"), "standard Base64" },
        { "Base64 without padding", b => With(b, "plaintext", "SGVsbG8gV29ybGQ"), "standard Base64" },
        { "plaintext a number", b => { b["plaintext"] = 5; return b; }, "not valid JSON" },
        { "requestMetadata missing", b => Without(b, "requestMetadata"), "requestMetadata is required" },
        { "kmsRequestId missing", b => WithoutMetadata(b, "kmsRequestId"), "kmsRequestId is required" },
        { "kmsOperation missing", b => WithoutMetadata(b, "kmsOperation"), "kmsOperation is required" },
        { "awsPrincipalArn missing", b => WithoutMetadata(b, "awsPrincipalArn"), "awsPrincipalArn is required" },
        { "kmsKeyArn missing", b => WithoutMetadata(b, "kmsKeyArn"), "kmsKeyArn is required" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public async Task Encrypt_MalformedRequest_ReturnsValidationExceptionNamingTheProblem(string scenario, Func<JsonObject, JsonObject> change, string message)
    {
        var response = await Client.PostAsync("keys/foo/encrypt", change(EncryptBody()));
        Assert.True(response.ErrorName == "ValidationException", $"{scenario}: {response.Body}");
        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Contains(message, response["errorMessage"], StringComparison.Ordinal);
    }

    public static TheoryData<string, Func<JsonObject, JsonObject>> MalformedDecrypt => new()
    {
        { "ciphertext missing", b => Without(b, "ciphertext") },
        { "IV missing", b => Without(b, "initializationVector") },
        { "tag missing", b => Without(b, "authenticationTag") },
        { "IV of 13 bytes", b => With(b, "initializationVector", Convert.ToBase64String(new byte[13])) },
        { "IV of 24 bytes", b => With(b, "initializationVector", Convert.ToBase64String(new byte[24])) },
        { "tag of 15 bytes", b => With(b, "authenticationTag", Convert.ToBase64String(new byte[15])) },
        { "metadata of 21 bytes", b => With(b, "ciphertextMetadata", Convert.ToBase64String(new byte[21])) },
        { "algorithm missing", b => Without(b, "encryptionAlgorithm") },
    };

    [Theory]
    [MemberData(nameof(MalformedDecrypt))]
    public async Task Decrypt_MalformedRequest_ReturnsValidationException(string scenario, Func<JsonObject, JsonObject> change)
    {
        var encrypted = await Client.EncryptAsync("foo", RandomNumberGenerator.GetBytes(8));
        var response = await Client.DecryptAsync("foo", encrypted, transform: b => change(b));
        Assert.True(response.ErrorName == "ValidationException", $"{scenario}: {response.Body}");
    }

    [Fact]
    public async Task Encrypt_UnknownFieldsAndUnknownKmsOperation_AreAccepted()
    {
        var body = EncryptBody();
        body["someFutureField"] = new JsonObject { ["nested"] = true };
        body["requestMetadata"]!["kmsOperation"] = "SomeFutureKmsOperation";
        body["requestMetadata"]!["kmsRecipientAttestationImageSha384"] = "abc";
        var response = await Client.PostAsync("keys/foo/encrypt", body);
        Assert.Equal(HttpStatusCode.OK, response.Status);
    }

    [Fact]
    public async Task Encrypt_PlaintextAboveTheConfiguredLimit_ReturnsUnsupportedOperation()
    {
        var response = await Client.EncryptAsync("foo", new byte[6145]);
        Assert.Equal(HttpStatusCode.NotImplemented, response.Status);
        Assert.Equal("UnsupportedOperationException", response.ErrorName);
    }

    [Fact]
    public async Task Encrypt_AadAboveTheConfiguredLimit_ReturnsUnsupportedOperation()
    {
        var response = await Client.EncryptAsync("foo", new byte[1], new byte[12289]);
        Assert.Equal("UnsupportedOperationException", response.ErrorName);
    }

    [Fact]
    public async Task Encrypt_UnknownKey_ReturnsKeyNotFound()
    {
        var response = await Client.EncryptAsync("non_existing_key", new byte[4]);
        Assert.Equal(HttpStatusCode.NotFound, response.Status);
        Assert.Equal("KeyNotFoundException", response.ErrorName);
    }

    private static JsonObject EncryptBody() => new()
    {
        ["requestMetadata"] = XksClient.Metadata("Encrypt"),
        ["plaintext"] = "SGVsbG8gV29ybGQh",
        ["encryptionAlgorithm"] = "AES_GCM",
    };

    private static JsonObject Without(JsonObject body, string field)
    {
        body.Remove(field);
        return body;
    }

    private static JsonObject With(JsonObject body, string field, string value)
    {
        body[field] = value;
        return body;
    }

    private static JsonObject WithoutMetadata(JsonObject body, string field)
    {
        ((JsonObject)body["requestMetadata"]!).Remove(field);
        return body;
    }
}
