using System.Text.Json.Serialization;

namespace Xks.Contracts.KeyCustody;

/// <summary>
/// The JSON header of a bundle, written compact in this property order by <see cref="BundleHeaderJsonContext"/>
/// (null members omitted, byte arrays as standard Base64, createdAt as ISO 8601 in UTC). Open re-serialises what it
/// parsed and requires the same bytes, so each header has exactly one encoding. Examples:
/// <code>
/// {"recipient":"passphrase","argon2id":{"version":19,"memoryKiB":65536,"iterations":3,"parallelism":1,"salt":"…"},"contentType":"…","createdAt":"2026-05-01T12:00:00+00:00","payloadLength":1234}
/// {"recipient":"ecdh-p256","ephemeralKey":"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE…","contentType":"…","createdAt":"…","payloadLength":1234}
/// </code>
/// </summary>
internal sealed class BundleHeader
{
    public const string PassphraseRecipient = "passphrase";

    public const string PublicKeyRecipient = "ecdh-p256";

    [JsonPropertyName("recipient")]
    [JsonPropertyOrder(0)]
    public required string Recipient { get; init; }

    [JsonPropertyName("argon2id")]
    [JsonPropertyOrder(1)]
    public Argon2Header? Argon2id { get; init; }

    /// <summary>DER SubjectPublicKeyInfo of the ephemeral P-256 key.</summary>
    [JsonPropertyName("ephemeralKey")]
    [JsonPropertyOrder(2)]
#pragma warning disable CA1819 // a DTO of the wire format; copied out on use
    public byte[]? EphemeralKey { get; init; }
#pragma warning restore CA1819

    [JsonPropertyName("contentType")]
    [JsonPropertyOrder(3)]
    public required string ContentType { get; init; }

    [JsonPropertyName("createdAt")]
    [JsonPropertyOrder(4)]
    public required DateTimeOffset CreatedAt { get; init; }

    [JsonPropertyName("payloadLength")]
    [JsonPropertyOrder(5)]
    public required long PayloadLength { get; init; }
}

/// <summary>Argon2id parameters and salt as written in the header; <see cref="long"/> so absurd values parse and are refused by bounds, not by overflow.</summary>
internal sealed class Argon2Header
{
    /// <summary>The only Argon2 version written and read: 0x13.</summary>
    public const int Version13 = 0x13;

    [JsonPropertyName("version")]
    [JsonPropertyOrder(0)]
    public required int Version { get; init; }

    [JsonPropertyName("memoryKiB")]
    [JsonPropertyOrder(1)]
    public required long MemoryKiB { get; init; }

    [JsonPropertyName("iterations")]
    [JsonPropertyOrder(2)]
    public required long Iterations { get; init; }

    [JsonPropertyName("parallelism")]
    [JsonPropertyOrder(3)]
    public required long Parallelism { get; init; }

    [JsonPropertyName("salt")]
    [JsonPropertyOrder(4)]
#pragma warning disable CA1819 // a DTO of the wire format; copied out on use
    public required byte[] Salt { get; init; }
#pragma warning restore CA1819
}

/// <summary>Strict: unknown members, duplicate members, missing required members and nulls for non-nullable members are errors.</summary>
[JsonSourceGenerationOptions(
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    AllowDuplicateProperties = false,
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    MaxDepth = 4)]
[JsonSerializable(typeof(BundleHeader))]
internal sealed partial class BundleHeaderJsonContext : JsonSerializerContext;
