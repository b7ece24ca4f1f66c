using System.Text.Json;
using System.Text.Json.Serialization;

namespace Xks.KmsEmulator.Kms;

// Wire shapes of the KMS API (botocore kms/2014-11-01/service-2.json), only the members the emulator reads or writes.
// Property names are the model's member names; timestamps are epoch seconds; blobs are Base64.
#pragma warning disable CA1819 // byte[] properties are the Base64 blobs of the wire format

internal sealed class XksProxyAuthenticationCredential
{
    public string? AccessKeyId { get; set; }

    public string? RawSecretAccessKey { get; set; }

    public override string ToString() => $"XksProxyAuthenticationCredential({AccessKeyId})";
}

internal sealed class CreateCustomKeyStoreRequest
{
    public string? CustomKeyStoreName { get; set; }

    public string? CloudHsmClusterId { get; set; }

    public string? CustomKeyStoreType { get; set; }

    public string? XksProxyUriEndpoint { get; set; }

    public string? XksProxyUriPath { get; set; }

    public string? XksProxyVpcEndpointServiceName { get; set; }

    public XksProxyAuthenticationCredential? XksProxyAuthenticationCredential { get; set; }

    public string? XksProxyConnectivity { get; set; }
}

internal sealed class UpdateCustomKeyStoreRequest
{
    public string? CustomKeyStoreId { get; set; }

    public string? NewCustomKeyStoreName { get; set; }

    public string? XksProxyUriEndpoint { get; set; }

    public string? XksProxyUriPath { get; set; }

    public string? XksProxyVpcEndpointServiceName { get; set; }

    public XksProxyAuthenticationCredential? XksProxyAuthenticationCredential { get; set; }

    public string? XksProxyConnectivity { get; set; }
}

internal sealed class CustomKeyStoreIdRequest
{
    public string? CustomKeyStoreId { get; set; }
}

internal sealed class CreateCustomKeyStoreResponse
{
    public string? CustomKeyStoreId { get; set; }
}

internal sealed class DescribeCustomKeyStoresRequest
{
    public string? CustomKeyStoreId { get; set; }

    public string? CustomKeyStoreName { get; set; }

    public int? Limit { get; set; }

    public string? Marker { get; set; }
}

internal sealed class XksProxyConfiguration
{
    public string? Connectivity { get; set; }

    public string? AccessKeyId { get; set; }

    public string? UriEndpoint { get; set; }

    public string? UriPath { get; set; }

    public string? VpcEndpointServiceName { get; set; }
}

internal sealed class CustomKeyStoresListEntry
{
    public string? CustomKeyStoreId { get; set; }

    public string? CustomKeyStoreName { get; set; }

    public string? ConnectionState { get; set; }

    public string? ConnectionErrorCode { get; set; }

    public DateTimeOffset? CreationDate { get; set; }

    public string? CustomKeyStoreType { get; set; }

    public XksProxyConfiguration? XksProxyConfiguration { get; set; }
}

internal sealed class DescribeCustomKeyStoresResponse
{
    public List<CustomKeyStoresListEntry> CustomKeyStores { get; set; } = [];

    public string? NextMarker { get; set; }

    public bool Truncated { get; set; }
}

internal sealed class Tag
{
    public string? TagKey { get; set; }

    public string? TagValue { get; set; }
}

internal sealed class CreateKeyRequest
{
    public string? Policy { get; set; }

    public string? Description { get; set; }

    public string? KeyUsage { get; set; }

    public string? CustomerMasterKeySpec { get; set; }

    public string? KeySpec { get; set; }

    public string? Origin { get; set; }

    public string? CustomKeyStoreId { get; set; }

    public bool? BypassPolicyLockoutSafetyCheck { get; set; }

    public List<Tag>? Tags { get; set; }

    public bool? MultiRegion { get; set; }

    public string? XksKeyId { get; set; }
}

internal sealed class XksKeyConfiguration
{
    public string? Id { get; set; }
}

internal sealed class KeyMetadata
{
    public string? AWSAccountId { get; set; }

    public string? KeyId { get; set; }

    public string? Arn { get; set; }

    public DateTimeOffset? CreationDate { get; set; }

    public bool Enabled { get; set; }

    public string? Description { get; set; }

    public string? KeyUsage { get; set; }

    public string? KeyState { get; set; }

    public DateTimeOffset? DeletionDate { get; set; }

    public string? Origin { get; set; }

    public string? CustomKeyStoreId { get; set; }

    public string? ExpirationModel { get; set; }

    public string? KeyManager { get; set; }

    public string? CustomerMasterKeySpec { get; set; }

    public string? KeySpec { get; set; }

    public List<string>? EncryptionAlgorithms { get; set; }

    public bool? MultiRegion { get; set; }

    public int? PendingDeletionWindowInDays { get; set; }

    public XksKeyConfiguration? XksKeyConfiguration { get; set; }
}

internal sealed class KeyMetadataResponse
{
    public KeyMetadata? KeyMetadata { get; set; }
}

/// <summary>Requests that name only a key (DescribeKey, EnableKey, DisableKey, CancelKeyDeletion, ...).</summary>
internal sealed class KeyIdRequest
{
    public string? KeyId { get; set; }

    public string? PolicyName { get; set; }

    public string? Policy { get; set; }

    public string? Description { get; set; }

    public int? PendingWindowInDays { get; set; }

    public List<Tag>? Tags { get; set; }

    public List<string>? TagKeys { get; set; }

    public int? Limit { get; set; }

    public string? Marker { get; set; }
}

internal sealed class PageRequest
{
    public string? KeyId { get; set; }

    public int? Limit { get; set; }

    public string? Marker { get; set; }
}

internal sealed class KeyListEntry
{
    public string? KeyId { get; set; }

    public string? KeyArn { get; set; }
}

internal sealed class ListKeysResponse
{
    public List<KeyListEntry> Keys { get; set; } = [];

    public string? NextMarker { get; set; }

    public bool Truncated { get; set; }
}

internal sealed class ListResourceTagsResponse
{
    public List<Tag> Tags { get; set; } = [];

    public string? NextMarker { get; set; }

    public bool Truncated { get; set; }
}

internal sealed class ScheduleKeyDeletionResponse
{
    public string? KeyId { get; set; }

    public DateTimeOffset? DeletionDate { get; set; }

    public string? KeyState { get; set; }

    public int? PendingWindowInDays { get; set; }
}

internal sealed class KeyIdResponse
{
    public string? KeyId { get; set; }
}

internal sealed class GetKeyPolicyResponse
{
    public string? Policy { get; set; }

    public string? PolicyName { get; set; }
}

internal sealed class AliasRequest
{
    public string? AliasName { get; set; }

    public string? TargetKeyId { get; set; }
}

internal sealed class AliasListEntry
{
    public string? AliasName { get; set; }

    public string? AliasArn { get; set; }

    public string? TargetKeyId { get; set; }

    public DateTimeOffset? CreationDate { get; set; }

    public DateTimeOffset? LastUpdatedDate { get; set; }
}

internal sealed class ListAliasesResponse
{
    public List<AliasListEntry> Aliases { get; set; } = [];

    public string? NextMarker { get; set; }

    public bool Truncated { get; set; }
}

internal sealed class CryptoRequest
{
    public string? KeyId { get; set; }

    public byte[]? Plaintext { get; set; }

    public byte[]? CiphertextBlob { get; set; }

    public Dictionary<string, string>? EncryptionContext { get; set; }

    public string? EncryptionAlgorithm { get; set; }

    public int? NumberOfBytes { get; set; }

    public string? KeySpec { get; set; }
}

internal sealed class CryptoResponse
{
    public byte[]? CiphertextBlob { get; set; }

    public byte[]? Plaintext { get; set; }

    public string? KeyId { get; set; }

    public string? EncryptionAlgorithm { get; set; }
}

internal sealed class GrantConstraints
{
    public Dictionary<string, string>? EncryptionContextSubset { get; set; }

    public Dictionary<string, string>? EncryptionContextEquals { get; set; }
}

internal sealed class CreateGrantRequest
{
    public string? KeyId { get; set; }

    public string? GranteePrincipal { get; set; }

    public string? RetiringPrincipal { get; set; }

    public List<string>? Operations { get; set; }

    public GrantConstraints? Constraints { get; set; }

    public List<string>? GrantTokens { get; set; }

    public string? Name { get; set; }
}

internal sealed class CreateGrantResponse
{
    public string? GrantToken { get; set; }

    public string? GrantId { get; set; }
}

internal sealed class ListGrantsRequest
{
    public string? KeyId { get; set; }

    public int? Limit { get; set; }

    public string? Marker { get; set; }

    public string? GrantId { get; set; }

    public string? GranteePrincipal { get; set; }
}

internal sealed class GrantListEntry
{
    public string? KeyId { get; set; }

    public string? GrantId { get; set; }

    public string? Name { get; set; }

    public DateTimeOffset? CreationDate { get; set; }

    public string? GranteePrincipal { get; set; }

    public string? RetiringPrincipal { get; set; }

    public string? IssuingAccount { get; set; }

    public List<string>? Operations { get; set; }

    public GrantConstraints? Constraints { get; set; }
}

internal sealed class ListGrantsResponse
{
    public List<GrantListEntry> Grants { get; set; } = [];

    public string? NextMarker { get; set; }

    public bool Truncated { get; set; }
}

/// <summary>RevokeGrant (KeyId, GrantId) and RetireGrant (GrantToken, or KeyId and GrantId).</summary>
internal sealed class GrantIdRequest
{
    public string? KeyId { get; set; }

    public string? GrantId { get; set; }

    public string? GrantToken { get; set; }
}

internal sealed class EmptyResponse;

internal sealed class ErrorResponse
{
    [JsonPropertyName("__type")]
    public string? Type { get; set; }

    [JsonPropertyName("message")]
    public string? Message { get; set; }
}

/// <summary>Timestamps in AWS JSON 1.1 are epoch seconds (a JSON number, fractional allowed).</summary>
internal sealed class EpochSecondsConverter : JsonConverter<DateTimeOffset>
{
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        DateTimeOffset.UnixEpoch.AddMilliseconds(Math.Round(reader.GetDouble() * 1000));

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
        writer.WriteNumberValue(Math.Round((value - DateTimeOffset.UnixEpoch).TotalMilliseconds) / 1000.0);
}

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, Converters = [typeof(EpochSecondsConverter)])]
[JsonSerializable(typeof(CreateCustomKeyStoreRequest))]
[JsonSerializable(typeof(UpdateCustomKeyStoreRequest))]
[JsonSerializable(typeof(CustomKeyStoreIdRequest))]
[JsonSerializable(typeof(CreateCustomKeyStoreResponse))]
[JsonSerializable(typeof(DescribeCustomKeyStoresRequest))]
[JsonSerializable(typeof(DescribeCustomKeyStoresResponse))]
[JsonSerializable(typeof(CreateKeyRequest))]
[JsonSerializable(typeof(KeyMetadataResponse))]
[JsonSerializable(typeof(KeyIdRequest))]
[JsonSerializable(typeof(PageRequest))]
[JsonSerializable(typeof(ListKeysResponse))]
[JsonSerializable(typeof(ListResourceTagsResponse))]
[JsonSerializable(typeof(ScheduleKeyDeletionResponse))]
[JsonSerializable(typeof(KeyIdResponse))]
[JsonSerializable(typeof(GetKeyPolicyResponse))]
[JsonSerializable(typeof(AliasRequest))]
[JsonSerializable(typeof(ListAliasesResponse))]
[JsonSerializable(typeof(CryptoRequest))]
[JsonSerializable(typeof(CryptoResponse))]
[JsonSerializable(typeof(CreateGrantRequest))]
[JsonSerializable(typeof(CreateGrantResponse))]
[JsonSerializable(typeof(ListGrantsRequest))]
[JsonSerializable(typeof(ListGrantsResponse))]
[JsonSerializable(typeof(GrantIdRequest))]
[JsonSerializable(typeof(EmptyResponse))]
[JsonSerializable(typeof(ErrorResponse))]
internal sealed partial class KmsJsonContext : JsonSerializerContext;
