using System.Text.Json.Serialization;

namespace Xks.Proxy.Unseal;

/// <summary><c>POST /admin/v1/unseal</c>: one custodian's share text.</summary>
public sealed class UnsealRequest
{
    /// <summary><c>xks-share-v1.{vaultId}.{threshold}.{x}.{y}.{checksum}</c>. Secret: never logged or echoed.</summary>
    [JsonPropertyName("share")]
    public string? Share { get; set; }

    /// <summary>Never the share.</summary>
    public override string ToString() => $"UnsealRequest {{ Share = ({Share?.Length ?? 0} characters, not shown) }}";
}

/// <summary>
/// The seal state (<c>GET /admin/v1/seal-status</c>, and the answer to an accepted share):
/// <c>{"sealed":true,"threshold":3,"progress":1,"rootVersions":[1]}</c>. Members that do not apply are left out.
/// </summary>
public sealed class SealStatusResponse
{
    [JsonPropertyName("sealed")]
    [JsonPropertyOrder(0)]
    public bool Sealed { get; set; }

    /// <summary>How many custodians' shares unseal the proxy.</summary>
    [JsonPropertyName("threshold")]
    [JsonPropertyOrder(1)]
    public int? Threshold { get; set; }

    /// <summary>How many have been given (0 once unsealed).</summary>
    [JsonPropertyName("progress")]
    [JsonPropertyOrder(2)]
    public int? Progress { get; set; }

    /// <summary>The keyring's root versions.</summary>
    [JsonPropertyName("rootVersions")]
    [JsonPropertyOrder(3)]
#pragma warning disable CA1819 // a DTO of the wire format
    public int[]? RootVersions { get; set; }
#pragma warning restore CA1819
}

/// <summary>A refused request: <c>{"error":"WrongShares","message":"…"}</c>. The message never quotes a share.</summary>
public sealed class UnsealErrorResponse
{
    /// <summary>MalformedShare, WrongShares, KeyringUnusable, NotReady, BadRequest, NotFound, MethodNotAllowed.</summary>
    [JsonPropertyName("error")]
    [JsonPropertyOrder(0)]
    public string Error { get; set; } = "";

    [JsonPropertyName("message")]
    [JsonPropertyOrder(1)]
    public string Message { get; set; } = "";
}

/// <summary>Source-generated JSON of the unseal API, for the proxy and the <c>xks-proxy admin</c> client.</summary>
[JsonSourceGenerationOptions(
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    WriteIndented = false,
    AllowDuplicateProperties = false,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip,
    MaxDepth = 4)]
[JsonSerializable(typeof(UnsealRequest))]
[JsonSerializable(typeof(SealStatusResponse))]
[JsonSerializable(typeof(UnsealErrorResponse))]
public sealed partial class UnsealJsonContext : JsonSerializerContext;
