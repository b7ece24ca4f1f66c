using Xks.Operator.Aws;

namespace Xks.Operator.Controllers;

/// <summary>Where a rotation of the Secret's access key stands (<c>status.accessKey.phase</c>).</summary>
public enum AccessKeyPhase
{
    /// <summary>One key: the Secret's.</summary>
    Current,

    /// <summary>A new key is being created: recorded before CreateAccessKey, so a newer key left by a crash is known as the operator's.</summary>
    Creating,

    /// <summary>The Secret holds the new key; the previous key is still active (sessions that use it wind down).</summary>
    Replaced,

    /// <summary>The previous key is inactive; it is deleted after the grace period.</summary>
    Deactivated,
}

/// <summary>What the rotation does next.</summary>
public enum AccessKeyAction
{
    /// <summary>Nothing now; look again at <see cref="AccessKeyDecision.WaitUntil"/> (if set).</summary>
    None,

    /// <summary>Record phase Creating (and the Secret's key as previousId), then CreateAccessKey.</summary>
    CreateKey,

    /// <summary>sts:GetCallerIdentity with the new key: the same ARN as the Secret's key.</summary>
    VerifyNew,

    /// <summary>Write the new key to the Secret (resourceVersion-guarded), then record phase Replaced.</summary>
    WriteSecret,

    /// <summary>The Secret holds the new key but the status does not say so (a crash after the write): record phase Replaced now.</summary>
    RecordReplaced,

    /// <summary>UpdateAccessKey Inactive on the previous key, then record phase Deactivated.</summary>
    DeactivateOld,

    /// <summary>DeleteAccessKey on the previous key after the grace period, then record phase Current.</summary>
    DeleteOld,

    /// <summary>DeleteAccessKey on a key a crashed rotation created whose secret is lost (never in the Secret).</summary>
    DeleteOrphan,

    /// <summary>The keys are not in a state the operator can prove it made: it changes nothing (<see cref="AccessKeyDecision.Message"/> says why).</summary>
    Refuse,
}

/// <summary>The next step: its action, the key it acts on, why (for a refusal) and when to look again (for a wait).</summary>
public sealed record AccessKeyDecision(AccessKeyAction Action, string? KeyId = null, string? Message = null, DateTimeOffset? WaitUntil = null);

/// <summary>A key just created whose secret only this reconcile holds, and whether it was verified yet.</summary>
public sealed record AccessKeyInHand(string Id, bool Verified);

/// <summary>
/// What the rotation of one account's access key sees.
/// </summary>
/// <param name="Now">The operator's clock.</param>
/// <param name="Every">spec.credentials.accessKeyRotation.every: the age at which the Secret's key is replaced.</param>
/// <param name="Grace">gracePeriod: how long the previous key stays, inactive, before it is deleted.</param>
/// <param name="Settle">How long the previous key stays active after the Secret changed, so sessions still using it wind down.</param>
/// <param name="SecretKeyId">The access key ID in the Secret now.</param>
/// <param name="RotationRequested">The annotation xks.dev/rotate-access-key has a value not handled yet.</param>
/// <param name="Phase">status.accessKey.phase.</param>
/// <param name="Since">status.accessKey.since: when the phase began.</param>
/// <param name="PreviousId">status.accessKey.previousId: the key the rotation replaces.</param>
/// <param name="Keys">IAM's ListAccessKeys of the user.</param>
/// <param name="InHand">A key created in this reconcile (its secret in memory only).</param>
public sealed record AccessKeyRotationState(
    DateTimeOffset Now,
    TimeSpan Every,
    TimeSpan Grace,
    TimeSpan Settle,
    string SecretKeyId,
    bool RotationRequested,
    AccessKeyPhase Phase,
    DateTimeOffset? Since,
    string? PreviousId,
    IReadOnlyList<IamAccessKey> Keys,
    AccessKeyInHand? InHand = null);

/// <summary>
/// The rotation of a CspAccount's IAM access key as a pure decision (docs/access-key-rotation.md). Steps, in order:
/// create a new key → verify it (GetCallerIdentity with it: the same ARN) → write it to the Secret → deactivate the
/// previous key → after the grace period delete it. Whatever step a crash interrupts, the next decision leaves the
/// Secret with a working key and the user with at most IAM's 2 keys: a key is created only when the Secret's is the
/// only one; the previous key is deactivated only once the Secret holds another key, and deleted only when the status
/// names it as the one replaced (previousId, recorded before the create); a newer key that is not in the Secret is
/// deleted only when the status says a create was in flight since before it was made (its secret was lost with the
/// crash). Anything else is refused, never repaired: the operator deletes no key it cannot prove it replaced.
/// </summary>
public static class AccessKeyRotationDecisions
{
    /// <summary>
    /// How far a key's create date (IAM's clock) may be from phase Creating's since (the operator's clock, recorded
    /// just before CreateAccessKey) for the key to count as that create's: clock skew plus the call's own time.
    /// </summary>
    public static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(5);

    public static AccessKeyDecision Next(AccessKeyRotationState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.InHand is { } inHand)
        {
            return new AccessKeyDecision(inHand.Verified ? AccessKeyAction.WriteSecret : AccessKeyAction.VerifyNew, inHand.Id);
        }

        var current = state.Keys.FirstOrDefault(k => k.AccessKeyId == state.SecretKeyId);
        if (current is null)
        {
            return Refuse($"the Secret's access key {state.SecretKeyId} is not one of the IAM user's keys ({Ids(state.Keys)}): nothing is rotated");
        }

        if (!current.Active)
        {
            return Refuse($"the Secret's access key {state.SecretKeyId} is Inactive in IAM: activate it or put an active key in the Secret");
        }

        var others = state.Keys.Where(k => k.AccessKeyId != state.SecretKeyId).ToList();
        if (others.Count > 1)
        {
            return Refuse($"the IAM user has {state.Keys.Count} access keys ({Ids(state.Keys)}); rotation needs the Secret's key and at most one it replaced");
        }

        if (others.Count == 0)
        {
            var due = current.CreateDate + state.Every;
            return state.RotationRequested || state.Now >= due
                ? new AccessKeyDecision(AccessKeyAction.CreateKey)
                : new AccessKeyDecision(AccessKeyAction.None, WaitUntil: due);
        }

        var other = others[0];
        if (other.AccessKeyId == state.PreviousId)
        {
            return Retire(state, other);
        }

        // The create was on record (phase Creating) before this key was made, and it was made around then: ours.
        var orphan = state.Phase == AccessKeyPhase.Creating
            && state.Since is { } started
            && other.CreateDate >= current.CreateDate
            && other.CreateDate >= started - ClockSkew
            && other.CreateDate <= started + ClockSkew;
        return orphan
            ? new AccessKeyDecision(AccessKeyAction.DeleteOrphan, other.AccessKeyId)
            : Refuse($"the IAM user has a second access key {other.AccessKeyId} besides the Secret's {state.SecretKeyId} that this rotation did not create or replace; the operator deletes no key it cannot prove it replaced: delete {other.AccessKeyId} or remove accessKeyRotation");
    }

    /// <summary>The previous key (proved by previousId): deactivate once the Secret has settled, delete after the grace period.</summary>
    private static AccessKeyDecision Retire(AccessKeyRotationState state, IamAccessKey previous)
    {
        if (previous.Active)
        {
            if (state.Phase != AccessKeyPhase.Replaced || state.Since is null)
            {
                return new AccessKeyDecision(AccessKeyAction.RecordReplaced, previous.AccessKeyId);
            }

            var settled = state.Since.Value + state.Settle;
            return state.Now >= settled
                ? new AccessKeyDecision(AccessKeyAction.DeactivateOld, previous.AccessKeyId)
                : new AccessKeyDecision(AccessKeyAction.None, previous.AccessKeyId, WaitUntil: settled);
        }

        if (state.Phase != AccessKeyPhase.Deactivated || state.Since is null)
        {
            // Inactive, but the status does not say since when (a crash after UpdateAccessKey): deactivating again is
            // harmless and starts the grace period now.
            return new AccessKeyDecision(AccessKeyAction.DeactivateOld, previous.AccessKeyId);
        }

        var deletable = state.Since.Value + state.Grace;
        return state.Now >= deletable
            ? new AccessKeyDecision(AccessKeyAction.DeleteOld, previous.AccessKeyId)
            : new AccessKeyDecision(AccessKeyAction.None, previous.AccessKeyId, WaitUntil: deletable);
    }

    private static AccessKeyDecision Refuse(string message) => new(AccessKeyAction.Refuse, Message: message);

    private static string Ids(IEnumerable<IamAccessKey> keys) => string.Join(", ", keys.Select(k => $"{k.AccessKeyId} {(k.Active ? "Active" : "Inactive")}"));
}
