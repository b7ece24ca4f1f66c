using System.Text.Json.Serialization;

namespace Xks.Proxy.Contracts;

public sealed class GetKeyMetadataResponse
{
    [JsonPropertyName("keySpec")]
    public required string KeySpec { get; init; }

    [JsonPropertyName("keyUsage")]
    public required string[] KeyUsage { get; init; }

    [JsonPropertyName("keyStatus")]
    public required string KeyStatus { get; init; }
}

public sealed class EncryptResponse
{
    [JsonPropertyName("authenticationTag")]
    public required string AuthenticationTag { get; init; }

    [JsonPropertyName("ciphertext")]
    public required string Ciphertext { get; init; }

    [JsonPropertyName("ciphertextDataIntegrityValue")]
    public string? CiphertextDataIntegrityValue { get; init; }

    [JsonPropertyName("ciphertextMetadata")]
    public string? CiphertextMetadata { get; init; }

    [JsonPropertyName("initializationVector")]
    public required string InitializationVector { get; init; }
}

public sealed class DecryptResponse
{
    [JsonPropertyName("plaintext")]
    public required string Plaintext { get; init; }
}

public sealed class GetHealthStatusResponse
{
    [JsonPropertyName("xksProxyFleetSize")]
    public required int XksProxyFleetSize { get; init; }

    [JsonPropertyName("xksProxyVendor")]
    public required string XksProxyVendor { get; init; }

    [JsonPropertyName("xksProxyModel")]
    public required string XksProxyModel { get; init; }

    [JsonPropertyName("ekmVendor")]
    public required string EkmVendor { get; init; }

    [JsonPropertyName("ekmFleetDetails")]
    public required EkmFleetMember[] EkmFleetDetails { get; init; }
}

public sealed class EkmFleetMember
{
    [JsonPropertyName("id")]
    public required string Id { get; init; }

    [JsonPropertyName("model")]
    public required string Model { get; init; }

    /// <summary>ACTIVE, DEGRADED or UNAVAILABLE.</summary>
    [JsonPropertyName("healthStatus")]
    public required string HealthStatus { get; init; }
}

public sealed class ErrorResponse
{
    [JsonPropertyName("errorName")]
    public required string ErrorName { get; init; }

    [JsonPropertyName("errorMessage")]
    public string? ErrorMessage { get; init; }
}
