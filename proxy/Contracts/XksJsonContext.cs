using System.Text.Json.Serialization;
using Xks.Proxy.Audit;

namespace Xks.Proxy.Contracts;

/// <summary>Source-generated JSON for every wire contract and the audit line: compact, nulls omitted.</summary>
[JsonSourceGenerationOptions(
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    WriteIndented = false,
    AllowDuplicateProperties = false,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip)]
[JsonSerializable(typeof(GetHealthStatusRequest))]
[JsonSerializable(typeof(GetKeyMetadataRequest))]
[JsonSerializable(typeof(EncryptRequest))]
[JsonSerializable(typeof(DecryptRequest))]
[JsonSerializable(typeof(GetKeyMetadataResponse))]
[JsonSerializable(typeof(EncryptResponse))]
[JsonSerializable(typeof(DecryptResponse))]
[JsonSerializable(typeof(GetHealthStatusResponse))]
[JsonSerializable(typeof(ErrorResponse))]
[JsonSerializable(typeof(AuditRecord))]
public sealed partial class XksJsonContext : JsonSerializerContext;
