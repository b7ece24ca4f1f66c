using System.Text.Json.Serialization;

namespace Xks.KmsEmulator.Xks;

// XKS proxy API v1 wire shapes (XKS-SPEC §2, §3).
internal sealed class XksRequestMetadata
{
    [JsonPropertyName("awsPrincipalArn")]
    public string? AwsPrincipalArn { get; set; }

    [JsonPropertyName("kmsKeyArn")]
    public string? KmsKeyArn { get; set; }

    [JsonPropertyName("kmsOperation")]
    public required string KmsOperation { get; set; }

    [JsonPropertyName("kmsRequestId")]
    public required string KmsRequestId { get; set; }
}

internal sealed class XksMetadataOnlyRequest
{
    [JsonPropertyName("requestMetadata")]
    public required XksRequestMetadata RequestMetadata { get; set; }
}

internal sealed class XksEncryptRequest
{
    [JsonPropertyName("requestMetadata")]
    public required XksRequestMetadata RequestMetadata { get; set; }

    [JsonPropertyName("plaintext")]
    public required string Plaintext { get; set; }

    [JsonPropertyName("encryptionAlgorithm")]
    public string EncryptionAlgorithm { get; set; } = "AES_GCM";

    [JsonPropertyName("additionalAuthenticatedData")]
    public string? AdditionalAuthenticatedData { get; set; }

    [JsonPropertyName("ciphertextDataIntegrityValueAlgorithm")]
    public string CiphertextDataIntegrityValueAlgorithm { get; set; } = "SHA_256";
}

internal sealed class XksDecryptRequest
{
    [JsonPropertyName("requestMetadata")]
    public required XksRequestMetadata RequestMetadata { get; set; }

    [JsonPropertyName("ciphertext")]
    public required string Ciphertext { get; set; }

    [JsonPropertyName("ciphertextMetadata")]
    public string? CiphertextMetadata { get; set; }

    [JsonPropertyName("encryptionAlgorithm")]
    public string EncryptionAlgorithm { get; set; } = "AES_GCM";

    [JsonPropertyName("additionalAuthenticatedData")]
    public string? AdditionalAuthenticatedData { get; set; }

    [JsonPropertyName("initializationVector")]
    public required string InitializationVector { get; set; }

    [JsonPropertyName("authenticationTag")]
    public required string AuthenticationTag { get; set; }
}

internal sealed class XksKeyMetadataResponse
{
    [JsonPropertyName("keySpec")]
    public string? KeySpec { get; set; }

    [JsonPropertyName("keyUsage")]
    public List<string>? KeyUsage { get; set; }

    [JsonPropertyName("keyStatus")]
    public string? KeyStatus { get; set; }
}

internal sealed class XksEncryptResponse
{
    [JsonPropertyName("authenticationTag")]
    public string? AuthenticationTag { get; set; }

    [JsonPropertyName("ciphertext")]
    public string? Ciphertext { get; set; }

    [JsonPropertyName("ciphertextDataIntegrityValue")]
    public string? CiphertextDataIntegrityValue { get; set; }

    [JsonPropertyName("ciphertextMetadata")]
    public string? CiphertextMetadata { get; set; }

    [JsonPropertyName("initializationVector")]
    public string? InitializationVector { get; set; }
}

internal sealed class XksDecryptResponse
{
    [JsonPropertyName("plaintext")]
    public string? Plaintext { get; set; }
}

internal sealed class XksEkmFleetMember
{
    [JsonPropertyName("id")]
    public string? Id { get; set; }

    [JsonPropertyName("model")]
    public string? Model { get; set; }

    [JsonPropertyName("healthStatus")]
    public string? HealthStatus { get; set; }
}

internal sealed class XksHealthResponse
{
    [JsonPropertyName("xksProxyFleetSize")]
    public int XksProxyFleetSize { get; set; }

    [JsonPropertyName("xksProxyVendor")]
    public string? XksProxyVendor { get; set; }

    [JsonPropertyName("xksProxyModel")]
    public string? XksProxyModel { get; set; }

    [JsonPropertyName("ekmVendor")]
    public string? EkmVendor { get; set; }

    [JsonPropertyName("ekmFleetDetails")]
    public List<XksEkmFleetMember>? EkmFleetDetails { get; set; }
}

internal sealed class XksErrorResponse
{
    [JsonPropertyName("errorName")]
    public string? ErrorName { get; set; }

    [JsonPropertyName("errorMessage")]
    public string? ErrorMessage { get; set; }
}

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(XksMetadataOnlyRequest))]
[JsonSerializable(typeof(XksEncryptRequest))]
[JsonSerializable(typeof(XksDecryptRequest))]
[JsonSerializable(typeof(XksKeyMetadataResponse))]
[JsonSerializable(typeof(XksEncryptResponse))]
[JsonSerializable(typeof(XksDecryptResponse))]
[JsonSerializable(typeof(XksHealthResponse))]
[JsonSerializable(typeof(XksErrorResponse))]
internal sealed partial class XksJsonContext : JsonSerializerContext;
