using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Xks.Operator.Backup;

/// <summary>Source-generated JSON for the backup document (a JsonObject tree).</summary>
[JsonSerializable(typeof(JsonObject))]
internal sealed partial class VaultBackupJsonContext : JsonSerializerContext;
