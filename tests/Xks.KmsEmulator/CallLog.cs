using System.Collections.Concurrent;
using System.Text.Json;

namespace Xks.KmsEmulator;

/// <summary>
/// One call as the emulator saw it: the operation, who signed it (the caller's ARN; null when the signature failed)
/// and which objects it named (key IDs or ARNs, aliases, key store IDs, as the request wrote them). An adversarial
/// test asks the log "did any call change tenant a's objects?" rather than counting operations globally.
/// <see cref="AllowedBy"/> says what allowed an evaluated call (a caller with an identity policy):
/// <c>KeyPolicy/&lt;Sid&gt;</c>, <c>Grant/grant:&lt;id&gt;</c> or <c>IdentityPolicy/&lt;Sid&gt;</c> (a statement without Sid is
/// <c>#&lt;index&gt;</c>); null for unrestricted callers and refused calls.
/// </summary>
public sealed record EmulatorCall(string Service, string Operation, string? Caller, IReadOnlyList<string> Targets, int Status, string? AllowedBy = null)
{
    /// <summary>The call changes state when it succeeds (<see cref="KmsOperations.Mutating"/>).</summary>
    public bool IsMutating => KmsOperations.Mutating.Contains(Operation);

    /// <summary>Whether the request named <paramref name="target"/>: the value itself, or an ARN ending in it (<c>…:key/&lt;id&gt;</c>, <c>…:alias/&lt;name&gt;</c>).</summary>
    public bool Names(string target)
    {
        ArgumentException.ThrowIfNullOrEmpty(target);
        return Targets.Any(t => t == target || t.EndsWith("/" + target, StringComparison.Ordinal) || t.EndsWith(":" + target, StringComparison.Ordinal));
    }
}

/// <summary>The KMS operations that change keys, aliases, grants or key stores.</summary>
public static class KmsOperations
{
    public static IReadOnlySet<string> Mutating { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "CreateKey", "PutKeyPolicy", "EnableKey", "DisableKey", "ScheduleKeyDeletion", "CancelKeyDeletion",
        "CreateAlias", "UpdateAlias", "DeleteAlias", "TagResource", "UntagResource", "UpdateKeyDescription",
        "EnableKeyRotation", "DisableKeyRotation", "RotateKeyOnDemand", "CreateGrant", "RevokeGrant", "RetireGrant",
        "CreateCustomKeyStore", "UpdateCustomKeyStore", "ConnectCustomKeyStore", "DisconnectCustomKeyStore", "DeleteCustomKeyStore",
    };
}

/// <summary>The emulator's record of calls, bounded (the oldest go first beyond <see cref="Capacity"/>). Thread-safe.</summary>
internal sealed class CallLog
{
    public const int Capacity = 200_000;

    /// <summary>The request fields that name an object.</summary>
    private static readonly string[] TargetFields = ["KeyId", "TargetKeyId", "DestinationKeyId", "SourceKeyId", "AliasName", "CustomKeyStoreId", "GrantId"];

    private readonly ConcurrentQueue<EmulatorCall> _calls = new();

    public void Record(EmulatorCall call)
    {
        _calls.Enqueue(call);
        while (_calls.Count > Capacity && _calls.TryDequeue(out _))
        {
        }
    }

    public IReadOnlyList<EmulatorCall> Snapshot() => [.. _calls];

    /// <summary>The values of the target fields of a KMS JSON request body (none when it is not a JSON object).</summary>
    public static IReadOnlyList<string> TargetsOf(ReadOnlySpan<byte> body)
    {
        if (body.IsEmpty)
        {
            return [];
        }

        try
        {
            var reader = new Utf8JsonReader(body);
            using var document = JsonDocument.ParseValue(ref reader);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return [];
            }

            var targets = new List<string>();
            foreach (var field in TargetFields)
            {
                if (document.RootElement.TryGetProperty(field, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text)
                {
                    targets.Add(text);
                }
            }

            return targets;
        }
        catch (JsonException)
        {
            return [];
        }
    }
}
