using System.Text.Json.Serialization;

namespace Xks.Proxy.Contracts;

/// <summary>
/// The requestMetadata object. Unknown fields are accepted (KMS may add more), and kmsRequestId is opaque.
/// </summary>
public sealed class RequestMetadata
{
    [JsonPropertyName("awsPrincipalArn")]
    public string? AwsPrincipalArn { get; set; }

    [JsonPropertyName("awsSourceVpc")]
    public string? AwsSourceVpc { get; set; }

    [JsonPropertyName("awsSourceVpce")]
    public string? AwsSourceVpce { get; set; }

    [JsonPropertyName("kmsKeyArn")]
    public string? KmsKeyArn { get; set; }

    [JsonPropertyName("kmsOperation")]
    public string? KmsOperation { get; set; }

    [JsonPropertyName("kmsRequestId")]
    public string? KmsRequestId { get; set; }

    [JsonPropertyName("kmsViaService")]
    public string? KmsViaService { get; set; }
}

public sealed class GetHealthStatusRequest
{
    [JsonPropertyName("requestMetadata")]
    public RequestMetadata? RequestMetadata { get; set; }
}

public sealed class GetKeyMetadataRequest
{
    [JsonPropertyName("requestMetadata")]
    public RequestMetadata? RequestMetadata { get; set; }
}

public sealed class EncryptRequest
{
    [JsonPropertyName("requestMetadata")]
    public RequestMetadata? RequestMetadata { get; set; }

    [JsonPropertyName("plaintext")]
    public string? Plaintext { get; set; }

    [JsonPropertyName("encryptionAlgorithm")]
    public string? EncryptionAlgorithm { get; set; }

    [JsonPropertyName("additionalAuthenticatedData")]
    public string? AdditionalAuthenticatedData { get; set; }

    [JsonPropertyName("ciphertextDataIntegrityValueAlgorithm")]
    public string? CiphertextDataIntegrityValueAlgorithm { get; set; }
}

public sealed class DecryptRequest
{
    [JsonPropertyName("requestMetadata")]
    public RequestMetadata? RequestMetadata { get; set; }

    [JsonPropertyName("ciphertext")]
    public string? Ciphertext { get; set; }

    [JsonPropertyName("ciphertextMetadata")]
    public string? CiphertextMetadata { get; set; }

    [JsonPropertyName("encryptionAlgorithm")]
    public string? EncryptionAlgorithm { get; set; }

    [JsonPropertyName("additionalAuthenticatedData")]
    public string? AdditionalAuthenticatedData { get; set; }

    [JsonPropertyName("initializationVector")]
    public string? InitializationVector { get; set; }

    [JsonPropertyName("authenticationTag")]
    public string? AuthenticationTag { get; set; }
}
