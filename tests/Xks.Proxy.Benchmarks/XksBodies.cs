using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Xks.Proxy.Benchmarks;

/// <summary>XKS request bodies shaped like AWS KMS's: full requestMetadata, Base64 fields, CDIV requested on Encrypt.</summary>
internal static class XksBodies
{
    private const string Principal = "arn:aws:iam::111122223333:role/BenchmarkRole";
    private const string KeyArn = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

    /// <summary>A 100-byte AAD, the size of a typical encryption context.</summary>
    public static readonly byte[] Aad = "aws:ebs:id=vol-0123456789abcdef0;aws:ebs:snapshot=snap-0fedcba9876543210;department=benchmarks;x=000"u8.ToArray();

    public static byte[] Encrypt(int plaintextBytes) => Serialize(new JsonObject
    {
        ["requestMetadata"] = Metadata("GenerateDataKey"),
        ["plaintext"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(plaintextBytes)),
        ["encryptionAlgorithm"] = "AES_GCM",
        ["additionalAuthenticatedData"] = Convert.ToBase64String(Aad),
        ["ciphertextDataIntegrityValueAlgorithm"] = "SHA_256",
    });

    /// <summary>The Decrypt that undoes an Encrypt, built from the Encrypt response the proxy returned.</summary>
    public static byte[] Decrypt(byte[] encryptResponse)
    {
        var encrypted = JsonNode.Parse(encryptResponse) ?? throw new BenchmarkException("the Encrypt response is empty");
        return Serialize(new JsonObject
        {
            ["requestMetadata"] = Metadata("Decrypt"),
            ["ciphertext"] = Field(encrypted, "ciphertext"),
            ["ciphertextMetadata"] = Field(encrypted, "ciphertextMetadata"),
            ["encryptionAlgorithm"] = "AES_GCM",
            ["additionalAuthenticatedData"] = Convert.ToBase64String(Aad),
            ["initializationVector"] = Field(encrypted, "initializationVector"),
            ["authenticationTag"] = Field(encrypted, "authenticationTag"),
        });
    }

    private static JsonObject Metadata(string kmsOperation) => new()
    {
        ["awsPrincipalArn"] = Principal,
        ["kmsKeyArn"] = KeyArn,
        ["kmsOperation"] = kmsOperation,
        ["kmsRequestId"] = Guid.NewGuid().ToString(),
        ["kmsViaService"] = "ebs",
    };

    private static string Field(JsonNode response, string name) =>
        response[name]?.GetValue<string>() ?? throw new BenchmarkException($"the Encrypt response has no {name}");

    private static byte[] Serialize(JsonObject body) => Encoding.UTF8.GetBytes(body.ToJsonString());
}
