using System.Globalization;
using Xks.Contracts.KeyWrap;

namespace Xks.Operator.Controllers;

/// <summary>
/// The root key of a HsmSealed Vault, level-triggered (pure): which root version seals new key versions, whether a
/// rotation starts (the annotation <see cref="RequestAnnotation"/> changed), whether blobs still name an older root and
/// must be resealed, when an older root may be destroyed, and when to refuse. A crash between any two steps is resumed
/// from what the token and the Secrets show, plus the marker annotation <see cref="MarkerAnnotation"/> the operator
/// writes before it makes the new root: a request is never turned into two rotations.
/// </summary>
public static class RootKeyDecisions
{
    /// <summary>Set (to any new value) on a Vault to rotate its root key.</summary>
    public const string RequestAnnotation = "xks.dev/rotate-root-key";

    /// <summary>The operator's record of the last request it acted on: <c>&lt;target root&gt;;&lt;time&gt;;&lt;request&gt;</c>.</summary>
    public const string MarkerAnnotation = "xks.dev/root-key-rotation";

    /// <summary>How long an older root outlives the last blob that named it, so every proxy has loaded the resealed config.</summary>
    public static readonly TimeSpan RetirementGrace = TimeSpan.FromSeconds(30);

    /// <summary>The plan for the Vault's root key.</summary>
    public static RootKeyPlan Plan(RootKeyState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var inToken = state.RootsInToken.ToHashSet();
        var current = state.RootsInToken.Count > 0 ? state.RootsInToken.Max() : 0;
        var lost = state.RootsInUse.Where(r => !inToken.Contains(r)).Order().ToList();

        if (state.Marker is { } pending && pending.Target > current)
        {
            // Marked, then crashed before the root was made: make it (the same target, never another).
            var lostOthers = lost.Where(r => r != pending.Target).ToList();
            return lostOthers.Count > 0
                ? Refuse(current, lostOthers)
                : new RootKeyPlan(RootKeyAction.CreateRoot, pending.Target, [], $"root version {pending.Target} of the rotation requested at {Time(pending.At)} is being made");
        }

        if (lost.Count > 0)
        {
            return Refuse(current, lost);
        }

        if (current == 0)
        {
            return new RootKeyPlan(RootKeyAction.CreateRoot, 1, [], "the Vault's first root key is being made");
        }

        if (state.Request is { Length: > 0 } request && request != state.Marker?.Request)
        {
            return current >= SealedKey.MaxRootVersion
                ? new RootKeyPlan(RootKeyAction.Refuse, current, [], $"root version {current} is the last the sealed format can name ({SealedKey.MaxRootVersion}); the root key cannot be rotated again", Reasons.RootKeyVersionsExhausted)
                : new RootKeyPlan(RootKeyAction.StartRotation, current + 1, [], $"rotation to root version {current + 1} requested ({RequestAnnotation}: {request})");
        }

        var stale = state.RootsInUse.Where(r => r < current).Order().ToList();
        if (stale.Count > 0)
        {
            return new RootKeyPlan(RootKeyAction.Reseal, current, stale, $"key versions sealed under root version {string.Join(", ", stale)} are being resealed under root version {current}");
        }

        var retired = state.RootsInToken.Where(r => r < current).Order().ToList();
        if (retired.Count == 0)
        {
            return new RootKeyPlan(RootKeyAction.None, current, [], $"root version {current} seals every key version");
        }

        var since = state.Marker?.At ?? DateTimeOffset.MinValue;
        var due = since == DateTimeOffset.MinValue ? state.Now : since + RetirementGrace;
        return due > state.Now
            ? new RootKeyPlan(RootKeyAction.Wait, current, retired, $"every key version is resealed under root version {current}; root version {string.Join(", ", retired)} is destroyed at {Time(due)}, once every proxy has loaded the resealed versions") { WaitFor = due - state.Now }
            : new RootKeyPlan(RootKeyAction.DestroyRoots, current, retired, $"no key version names root version {string.Join(", ", retired)} any more: it is destroyed");
    }

    /// <summary>The marker the operator writes when it starts a rotation to <paramref name="target"/>.</summary>
    public static string Marker(int target, DateTimeOffset at, string request) =>
        string.Create(CultureInfo.InvariantCulture, $"{target};{at.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'};{request}");

    /// <summary>Reads a marker; null when absent or not one the operator wrote.</summary>
    public static RootKeyMarker? ParseMarker(string? value)
    {
        var parts = value?.Split(';', 3);
        return parts is [var target, var at, var request]
            && int.TryParse(target, NumberStyles.None, CultureInfo.InvariantCulture, out var version) && version is >= 1 and <= SealedKey.MaxRootVersion
            && DateTimeOffset.TryParseExact(at, "yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time)
            ? new RootKeyMarker(version, time, request)
            : null;
    }

    private static RootKeyPlan Refuse(int current, List<int> lost) =>
        new(RootKeyAction.Refuse, current, lost,
            $"key versions are sealed under root version {string.Join(", ", lost)}, which the token does not hold: they cannot be served, and no new root is made in their place; restore the token (or the HSM's backup) that holds it",
            Reasons.RootKeyMissing);

    private static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}

/// <summary>What the root-key decision reads.</summary>
/// <param name="Request">The Vault's <see cref="RootKeyDecisions.RequestAnnotation"/>, if any.</param>
/// <param name="Marker">The operator's <see cref="RootKeyDecisions.MarkerAnnotation"/>, parsed.</param>
/// <param name="RootsInToken">Root versions the token holds.</param>
/// <param name="RootsInUse">Root versions named by the Vault's sealed key versions (every key-material Secret).</param>
/// <param name="Now">The clock.</param>
public sealed record RootKeyState(string? Request, RootKeyMarker? Marker, IReadOnlyList<int> RootsInToken, IReadOnlyList<int> RootsInUse, DateTimeOffset Now);

/// <summary>The last rotation the operator started: its target root version, when, and for which request value.</summary>
public sealed record RootKeyMarker(int Target, DateTimeOffset At, string Request);

/// <summary>What to do about the root key.</summary>
public enum RootKeyAction
{
    /// <summary>The current root seals everything; nothing to do.</summary>
    None,

    /// <summary>Make root version <see cref="RootKeyPlan.Target"/> in the token (the first, or a marked rotation's).</summary>
    CreateRoot,

    /// <summary>Write the marker for <see cref="RootKeyPlan.Target"/>, then make that root.</summary>
    StartRotation,

    /// <summary>Reseal inside the HSM every key version that names a root in <see cref="RootKeyPlan.Versions"/>, under the target.</summary>
    Reseal,

    /// <summary>Older roots wait out <see cref="RootKeyDecisions.RetirementGrace"/>.</summary>
    Wait,

    /// <summary>Destroy the roots in <see cref="RootKeyPlan.Versions"/>: no blob names them.</summary>
    DestroyRoots,

    /// <summary>Blobs name roots the token lacks, or no root version is left: Ready=False with <see cref="RootKeyPlan.Reason"/>.</summary>
    Refuse,
}

/// <summary>The decision: the action, the root version new key versions are sealed under, the roots concerned, and why.</summary>
public sealed record RootKeyPlan(RootKeyAction Action, int Target, IReadOnlyList<int> Versions, string Message, string? Reason = null)
{
    /// <summary>With <see cref="RootKeyAction.Wait"/>: how long until the older roots may go.</summary>
    public TimeSpan WaitFor { get; init; }
}
