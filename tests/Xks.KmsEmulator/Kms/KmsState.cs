using Xks.KmsEmulator.Xks;

namespace Xks.KmsEmulator.Kms;

/// <summary>One external key store as KMS remembers it. Mutated only under <see cref="KmsState.Gate"/>.</summary>
internal sealed class KeyStoreRecord
{
    public required string Id { get; init; }

    public required string Name { get; set; }

    public required DateTimeOffset CreationDate { get; init; }

    public required string Connectivity { get; set; }

    public required string UriEndpoint { get; set; }

    public required string UriPath { get; set; }

    public string? VpcEndpointServiceName { get; set; }

    public required string AccessKeyId { get; set; }

    public required string SecretAccessKey { get; set; }

    public string ConnectionState { get; set; } = ConnectionStates.Disconnected;

    public string? ConnectionErrorCode { get; set; }

    /// <summary>Bumped by every connect and disconnect, so a late health result of an older connect attempt is dropped.</summary>
    public int ConnectAttempt { get; set; }

    public XksEndpoint Endpoint => new(UriEndpoint, UriPath, AccessKeyId, SecretAccessKey);

    public override string ToString() => $"KeyStore({Id}, {Name}, {ConnectionState})";
}

internal static class ConnectionStates
{
    public const string Connected = "CONNECTED";
    public const string Connecting = "CONNECTING";
    public const string Failed = "FAILED";
    public const string Disconnected = "DISCONNECTED";
    public const string Disconnecting = "DISCONNECTING";
}

internal static class KeyStates
{
    public const string Enabled = "Enabled";
    public const string Disabled = "Disabled";
    public const string PendingDeletion = "PendingDeletion";
    public const string Unavailable = "Unavailable";
}

/// <summary>One KMS key. Mutated only under <see cref="KmsState.Gate"/>.</summary>
internal sealed class KeyRecord
{
    public required string KeyId { get; init; }

    public required string Arn { get; init; }

    public required DateTimeOffset CreationDate { get; init; }

    public required string Description { get; set; }

    public required string Origin { get; init; }

    public string? CustomKeyStoreId { get; init; }

    public string? XksKeyId { get; init; }

    /// <summary>AES-256 material of an AWS_KMS-origin key (kept in memory, never logged); null for external keys.</summary>
    public byte[]? LocalMaterial { get; init; }

    public required string Policy { get; set; }

    public string KeyState { get; set; } = KeyStates.Enabled;

    public DateTimeOffset? DeletionDate { get; set; }

    public int? PendingWindowInDays { get; set; }

    public List<KeyValuePair<string, string>> Tags { get; } = [];

    public override string ToString() => $"Key({KeyId}, {KeyState})";
}

internal sealed class AliasRecord
{
    public required string Name { get; init; }

    public required string TargetKeyId { get; set; }

    public required DateTimeOffset CreationDate { get; init; }

    public DateTimeOffset LastUpdatedDate { get; set; }
}

/// <summary>Everything the emulator knows, behind one lock.</summary>
internal sealed class KmsState
{
    public Lock Gate { get; } = new();

    public List<KeyStoreRecord> KeyStores { get; } = [];

    public List<KeyRecord> Keys { get; } = [];

    public SortedDictionary<string, AliasRecord> Aliases { get; } = new(StringComparer.Ordinal);
}
