using System.Text.Json.Serialization;

namespace Xks.Contracts.KeyCustody;

/// <summary>
/// The keyring of a Vault in <c>Shamir</c> mode as written: JSON (<see cref="ShamirKeyring.Serialize"/>, this property
/// order) and, with the same camelCase names, YAML under <c>backend.software.shamir.keyring</c> of the proxy's
/// configuration. A plain input type, checked by <see cref="ShamirKeyring.Validate"/>; <see cref="ShamirKeyring"/> is
/// the validated, immutable form. Holds nothing secret: the roots are sealed under the unseal key.
/// <code>
/// {"vaultId":"payments_xks","threshold":3,"shares":5,"unsealKeyCheckValue":"…16 hex…","currentRoot":1,
///  "roots":[{"version":1,"keyCheckValue":"…16 hex…","sealed":"…Base64 of iv(12) ‖ ct(32) ‖ tag(16)…"}]}
/// </code>
/// </summary>
public sealed class ShamirKeyringDocument
{
    /// <summary>The Vault the keyring belongs to: <c>{namespace}_{name}</c> (<see cref="CustodianShare.VaultIdFor"/>).</summary>
    [JsonPropertyName("vaultId")]
    [JsonPropertyOrder(0)]
    public string VaultId { get; set; } = "";

    /// <summary>How many custodians' shares reconstruct the unseal key (2..255).</summary>
    [JsonPropertyName("threshold")]
    [JsonPropertyOrder(1)]
    public int Threshold { get; set; }

    /// <summary>How many shares the unseal key was split into (threshold..255).</summary>
    [JsonPropertyName("shares")]
    [JsonPropertyOrder(2)]
    public int Shares { get; set; }

    /// <summary>The unseal key's key-check value (16 hex digits, <c>WrappedKey.KeyCheckValue</c>).</summary>
    [JsonPropertyName("unsealKeyCheckValue")]
    [JsonPropertyOrder(3)]
    public string UnsealKeyCheckValue { get; set; } = "";

    /// <summary>The root version new key versions are derived from.</summary>
    [JsonPropertyName("currentRoot")]
    [JsonPropertyOrder(4)]
    public int CurrentRoot { get; set; }

    /// <summary>Every root key version, sealed under the unseal key.</summary>
    [JsonPropertyName("roots")]
    [JsonPropertyOrder(5)]
    public List<ShamirRootDocument> Roots { get; set; } = [];
}

/// <summary>One root key version of a <see cref="ShamirKeyringDocument"/>.</summary>
public sealed class ShamirRootDocument
{
    /// <summary>The root version, 1..255.</summary>
    [JsonPropertyName("version")]
    [JsonPropertyOrder(0)]
    public int Version { get; set; }

    /// <summary>The root key's key-check value (16 hex digits).</summary>
    [JsonPropertyName("keyCheckValue")]
    [JsonPropertyOrder(1)]
    public string KeyCheckValue { get; set; } = "";

    /// <summary>
    /// Standard Base64 of <c>iv (12) ‖ sealed root (32) ‖ tag (16)</c>: AES-256-GCM under the unseal key, AAD UTF-8
    /// <c>xks-keyring:{vaultId}:r{version}</c>.
    /// </summary>
    [JsonPropertyName("sealed")]
    [JsonPropertyOrder(2)]
    public string Sealed { get; set; } = "";
}

/// <summary>Strict: unknown and duplicate members are errors; compact output in the documented order.</summary>
[JsonSourceGenerationOptions(
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    AllowDuplicateProperties = false,
    RespectNullableAnnotations = true,
    WriteIndented = false,
    MaxDepth = 4)]
[JsonSerializable(typeof(ShamirKeyringDocument))]
internal sealed partial class ShamirKeyringJsonContext : JsonSerializerContext;
