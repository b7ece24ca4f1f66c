using System.Text.Json.Serialization;

namespace Xks.Proxy.Crypto.Software;

/// <summary>On-disk form of one key: its versions, each AES-GCM-wrapped by the data directory's master key.</summary>
internal sealed class SoftwareKeyFile
{
    [JsonPropertyName("id")]
    public string Id { get; set; } = "";

    /// <summary>
    /// The backend-level switch of <c>xks-proxy keys disable|enable</c>: false makes the proxy report the key
    /// DISABLED and refuse Encrypt and Decrypt, on top of the configuration's <c>enabled</c>. Absent means true.
    /// </summary>
    [JsonPropertyName("enabled")]
    public bool Enabled { get; set; } = true;

    [JsonPropertyName("versions")]
    public List<SoftwareKeyVersion> Versions { get; set; } = [];
}

internal sealed class SoftwareKeyVersion
{
    [JsonPropertyName("version")]
    public int Version { get; set; }

    [JsonPropertyName("createdAt")]
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>
    /// Base64 of a wrapped key (<see cref="Xks.Contracts.KeyWrap.WrappedKey"/>): format 2 (what the proxy writes),
    /// 0x02 || master key version(4) || key-check value(8) || nonce(12) || wrapped key(32) || tag(16); or format 1
    /// (older files), nonce(12) || wrapped key(32) || tag(16).
    /// </summary>
    [JsonPropertyName("wrappedMaterial")]
    public string WrappedMaterial { get; set; } = "";
}

[JsonSourceGenerationOptions(WriteIndented = true)]
[JsonSerializable(typeof(SoftwareKeyFile))]
internal sealed partial class SoftwareKeyFileJsonContext : JsonSerializerContext;
