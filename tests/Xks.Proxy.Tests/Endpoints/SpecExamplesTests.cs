using System.Net;
using System.Text;
using Xks.Proxy.Authentication;
using Xks.Proxy.Options;
using Xks.Proxy.Tests.Support;

namespace Xks.Proxy.Endpoints.Tests;

/// <summary>Every example in the XKS proxy API specification's text, reproduced against the proxy.</summary>
public class SpecExamplesTests : ProxyTestBase
{

    private Task<XksResponse> PostVerbatimAsync(string route, string json) =>
        Client.SendRawAsync(HttpMethod.Post, $"{TestCredentials.Prefix}/kms/xks/v1/{route}", Encoding.UTF8.GetBytes(json));

    [Fact]
    public async Task GetKeyMetadata_SpecExampleRequest_GivesTheSpecExampleResponse()
    {
        var response = await PostVerbatimAsync("keys/foo/metadata", """
            { "requestMetadata": { "awsPrincipalArn": "arn:aws:iam::123456789012:user/Alice",
                                   "kmsOperation": "CreateKey",
                                   "kmsRequestId": "4112f4d6-db54-4af4-ae30-c55a22a8dfae" } }
            """);
        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Equal("""{"keySpec":"AES_256","keyUsage":["ENCRYPT","DECRYPT"],"keyStatus":"ENABLED"}""", response.Body);
    }

    [Fact]
    public async Task EncryptThenDecrypt_SpecExampleRequest_DecryptsToTheSpecExamplePlaintext()
    {
        var encrypted = await PostVerbatimAsync("keys/foo/encrypt", """
            { "requestMetadata": { "awsPrincipalArn": "arn:aws:iam::123456789012:user/Alice",
                "kmsKeyArn": "arn:aws:kms:us-east-2:123456789012:/key/1234abcd-12ab-34cd-56ef-1234567890ab",
                "kmsOperation": "Encrypt", "kmsRequestId": "4112f4d6-db54-4af4-ae30-c55a22a8dfae", "kmsViaService": "ebs" },
              "additionalAuthenticatedData": "cHJvamVjdD1uaWxlLGRlcGFydG1lbnQ9bWFya2V0aW5n",
              "plaintext": "SGVsbG8gV29ybGQh", "encryptionAlgorithm": "AES_GCM",
              "ciphertextDataIntegrityValueAlgorithm": "SHA_256" }
            """);
        Assert.Equal(HttpStatusCode.OK, encrypted.Status);
        Assert.Equal(16, encrypted["ciphertext"]!.Length);           // same length as the example's "ghxkK1txeDNn3q8Y"
        Assert.Equal(16, encrypted["initializationVector"]!.Length); // like "HMrlRw85cAJUd5Ax"
        Assert.Equal(24, encrypted["authenticationTag"]!.Length);    // like "vBxN2ncH1oEkR8WVXpmyYQ=="
        Assert.Equal(44, encrypted["ciphertextDataIntegrityValue"]!.Length);
        Assert.Equal(["authenticationTag", "ciphertext", "ciphertextDataIntegrityValue", "ciphertextMetadata", "initializationVector"],
            encrypted.Json!.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal));

        var decrypted = await PostVerbatimAsync("keys/foo/decrypt", $$"""
            { "requestMetadata": { "awsPrincipalArn": "arn:aws:iam::123456789012:user/Alice",
                "kmsKeyArn": "arn:aws:kms:us-east-2:123456789012:/key/1234abcd-12ab-34cd-56ef-1234567890ab",
                "kmsOperation": "Decrypt", "kmsRequestId": "5112f4d6-db54-4af4-ae30-c55a22a8dfae" },
              "additionalAuthenticatedData": "cHJvamVjdD1uaWxlLGRlcGFydG1lbnQ9bWFya2V0aW5n",
              "encryptionAlgorithm": "AES_GCM",
              "ciphertext": "{{encrypted["ciphertext"]}}", "ciphertextMetadata": "{{encrypted["ciphertextMetadata"]}}",
              "initializationVector": "{{encrypted["initializationVector"]}}", "authenticationTag": "{{encrypted["authenticationTag"]}}" }
            """);
        Assert.Equal(HttpStatusCode.OK, decrypted.Status);
        Assert.Equal("""{"plaintext":"SGVsbG8gV29ybGQh"}""", decrypted.Body);
    }

    [Theory]
    [InlineData("KmsHealthCheck")]
    [InlineData("CreateCustomKeyStore")]
    [InlineData("ConnectCustomKeyStore")]
    [InlineData("UpdateCustomKeyStore")]
    public async Task GetHealthStatus_SpecExampleRequest_IsAnswered(string operation)
    {
        var response = await PostVerbatimAsync("health", $$"""{ "requestMetadata": { "kmsRequestId": "4112f4d6-db54-4af4-ae30-c55a22a8dfae", "kmsOperation": "{{operation}}" } }""");
        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.NotNull(response.Json!["ekmFleetDetails"]);
    }

    [Fact]
    public void Credentials_SpecConsoleFileExample_AreAcceptedByTheConfiguration()
    {
        // The key store configuration file the KMS console accepts, from the spec.
        var yaml = new ProxyConfigBuilder().WithoutDefaultCredential()
            .Credential("AKIAI2SFODNN7EXAMPLE", "FYtE5EFA5FT0mCc3DrGUe2sti527BitkQ0Zr9MO9fvE")
            .Credential("BETWEEN2TENAND3TENCHARACTERS", "PleaseReplaceThisWithSomeSecretOfLength43To64")
            .Build(8080, "data", "audit.log");
        var result = ProxyConfigurationLoader.LoadText(yaml, "/tmp");
        Assert.True(result.Succeeded, string.Join("; ", result.Problems));
    }

    [Fact]
    public void AuthorizationHeader_SpecFormat_IsParsed()
    {
        const string header = "AWS4-HMAC-SHA256 Credential=AKIAI2SFODNN7EXAMPLE/20221110/us-east-1/kms-xks-proxy/aws4_request, SignedHeaders=host;x-amz-date, Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        Assert.True(SigV4Verifier.TryParseAuthorization(header, out var credential, out var signedHeaders, out var signature));
        Assert.Equal("AKIAI2SFODNN7EXAMPLE/20221110/us-east-1/kms-xks-proxy/aws4_request", credential.ToString());
        Assert.Equal("host;x-amz-date", signedHeaders.ToString());
        Assert.Equal(64, signature.Length);
    }
}
