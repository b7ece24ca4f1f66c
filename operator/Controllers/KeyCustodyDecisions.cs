using Xks.Contracts.KeyCustody;
using Xks.Operator.Aws;
using Xks.Operator.Resources;

namespace Xks.Operator.Controllers;

/// <summary>What AWS answered when asked, by ARN, about a released key.</summary>
public enum KmsKeyAnswer
{
    /// <summary>DescribeKey found it (pending deletion, or its deletion was cancelled).</summary>
    Exists,

    /// <summary>DescribeKey answered NotFoundException.</summary>
    NotFound,
}

/// <summary>What happens to one key-material Secret on this pass.</summary>
public enum MaterialFate
{
    /// <summary>Kept; nothing is asked or destroyed.</summary>
    Keep,

    /// <summary>Ask AWS (DescribeKey by ARN), then decide again with the answer.</summary>
    AskAws,

    /// <summary>AWS has deleted the key: destroy the material.</summary>
    Destroy,
}

/// <summary>The decision about one Secret: its fate, why (for an Event or a log), and whether a human should hear of it.</summary>
public sealed record MaterialDestruction(MaterialFate Fate, string Why, bool Warn = false);

/// <summary>The state of a Vault's master-key Secret as read from the API server.</summary>
public enum MasterKeyState
{
    Missing,
    Valid,
    Malformed,
}

/// <summary>What the Vault reconciler does about its master key.</summary>
public enum MasterKeyAction
{
    /// <summary>Nothing to do: it exists and is well formed.</summary>
    Use,

    /// <summary>No master key and no material: create one.</summary>
    Create,

    /// <summary>Report a problem and create nothing (see the message).</summary>
    Refuse,
}

/// <summary>
/// The key-custody decisions (docs/key-custody.md), pure and table-tested: when released key material may be destroyed,
/// and when a master key may be created.
/// </summary>
public static class KeyCustodyDecisions
{
    /// <summary>
    /// What is wrong with a Shamir Vault's keyring document, or null: missing, not a keyring (its parser's precise
    /// problem), or the keyring of another Vault (shares and roots are bound to the vault id).
    /// </summary>
    public static string? KeyringProblem(string? keyringJson, string vaultId)
    {
        if (string.IsNullOrWhiteSpace(keyringJson))
        {
            return $"it has no {ProxyLayout.KeyringKey}";
        }

        ShamirKeyring keyring;
        try
        {
            keyring = ShamirKeyring.Parse(keyringJson);
        }
        catch (FormatException ex)
        {
            return $"{ProxyLayout.KeyringKey} is not a keyring: {ex.Message}";
        }

        return keyring.VaultId == vaultId ? null : $"{ProxyLayout.KeyringKey} is the keyring of Vault {keyring.VaultId}, not {vaultId}";
    }

    /// <summary>
    /// Whether released material may be destroyed. Destroyed only when it was released with deletionPolicy Delete, its KMS
    /// key's ARN is recorded, the KeySet still reaches that ARN's account and region (after a cspAccountRef or region
    /// change, "not found" would only mean "not here"), the scheduled deletion date has passed, and AWS, asked by ARN,
    /// answered NotFound. <paramref name="answer"/> is null before AWS was asked.
    /// </summary>
    public static MaterialDestruction MaterialDestruction(KeyMaterialMarks marks, string? accountId, string region, DateTimeOffset now, KmsKeyAnswer? answer)
    {
        ArgumentNullException.ThrowIfNull(marks);
        if (!marks.ReleasedForDeletion)
        {
            return new(MaterialFate.Keep, marks.Released is null ? "its CloudKey still uses it" : "it was released with deletionPolicy Retain");
        }

        if (!KmsKeyArn.TryParse(marks.KmsKeyArn, out var arn))
        {
            return new(MaterialFate.Keep, marks.KmsKeyArn is null
                ? $"the ARN of KMS key {marks.KmsKeyId ?? "(unknown)"} was never recorded (released by an older operator), so AWS cannot be asked in the account that created it; the material is kept — remove the finalizer {KeyCustody.Finalizer} by hand once the key is known to be deleted"
                : $"'{marks.KmsKeyArn}' is not a KMS key ARN; the material is kept", Warn: true);
        }

        if (arn.Account != accountId || arn.Region != region)
        {
            return new(MaterialFate.Keep, $"KMS key {arn} lives in account {arn.Account}, region {arn.Region}, but the KeySet now uses account {accountId ?? "(unknown)"}, region {region}: AWS cannot confirm its deletion from here, so the material is kept", Warn: true);
        }

        if (marks.DeletionDate is { } date && now < date)
        {
            return new(MaterialFate.Keep, $"KMS key {arn} is pending deletion until {date:yyyy-MM-dd HH:mm}Z");
        }

        return answer switch
        {
            null => new(MaterialFate.AskAws, $"asking AWS whether KMS key {arn} has been deleted"),
            KmsKeyAnswer.Exists => new(MaterialFate.Keep, $"KMS key {arn} still exists (pending deletion, or its deletion was cancelled)"),
            _ => new(MaterialFate.Destroy, $"KMS key {arn} has been deleted by AWS"),
        };
    }

    /// <summary>
    /// How long after a scheduled deletion date the KeySet looks: AWS deletes the key at that moment or a little later,
    /// and <see cref="KeyMaterialMarks.DeletionDate"/> is recorded to the second (rounded down).
    /// </summary>
    public static readonly TimeSpan DeletionDateGrace = TimeSpan.FromSeconds(5);

    /// <summary>
    /// When the KeySet looks again for released material to destroy: at the earliest deletion date still ahead, plus
    /// <see cref="DeletionDateGrace"/>, so material goes soon after AWS deleted its key rather than at the next resync.
    /// Only material that waits for nothing but its date counts (released with deletionPolicy Delete, its ARN in the
    /// account and region the KeySet reaches: <see cref="MaterialDestruction"/> keeps it quietly until the date); null when
    /// none does. Material whose date has passed while its key still exists (a cancelled deletion) waits for the resync.
    /// </summary>
    public static TimeSpan? UntilReleasedMaterialDue(IEnumerable<KeyMaterialMarks> material, string? accountId, string region, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(material);
        var dates = material
            .Where(m => m.ReleasedForDeletion && m.DeletionDate > now && MaterialDestruction(m, accountId, region, now, answer: null) is { Fate: MaterialFate.Keep, Warn: false })
            .Select(m => m.DeletionDate!.Value)
            .ToList();
        return dates.Count == 0 ? null : dates.Min() - now + DeletionDateGrace;
    }

    /// <summary>
    /// What to do about the master key: use it, create it (only when missing and no software-wrapped material of the Vault
    /// exists), or refuse — a malformed Secret is left untouched, and a missing one is never re-created over material it
    /// wrapped (a new key could not unwrap it).
    /// </summary>
    public static (MasterKeyAction Action, string? Reason, string? Problem) MasterKey(string secretName, MasterKeyState state, IReadOnlyList<string> softwareMaterial)
    {
        ArgumentNullException.ThrowIfNull(softwareMaterial);
        return state switch
        {
            MasterKeyState.Valid => (MasterKeyAction.Use, null, null),
            MasterKeyState.Malformed => (MasterKeyAction.Refuse, Reasons.MasterKeyInvalid,
                $"Secret {secretName} exists but has no 32-byte '{ProxyLayout.MasterKeyKey}'; it is left untouched (replacing it would orphan every key it wraps) — restore it from backup or delete it if no key was ever created"),
            _ when softwareMaterial.Count > 0 => (MasterKeyAction.Refuse, Reasons.MasterKeyMissing,
                $"master key Secret {secretName} is missing, but {softwareMaterial.Count} key-material Secret(s) of this Vault are wrapped by it ({string.Join(", ", softwareMaterial.Take(5))}{(softwareMaterial.Count > 5 ? ", …" : "")}); a new master key could not unwrap them, so none is created — restore {secretName} from a backup (docs/key-custody.md)"),
            _ => (MasterKeyAction.Create, null, null),
        };
    }
}
