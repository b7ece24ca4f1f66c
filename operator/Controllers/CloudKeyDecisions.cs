using Amazon.KeyManagementService;
using Xks.Operator.Entities;

namespace Xks.Operator.Controllers;

/// <summary>What the CloudKey's Ready condition depends on once its KMS key is known, gathered by the reconciler.</summary>
/// <param name="KmsKeyId">The KMS key's ID.</param>
/// <param name="Alias">The alias the key carries, if any.</param>
/// <param name="StoreId">The KeySet's external key store.</param>
/// <param name="XksKeyId">The external key (the key material's ID).</param>
/// <param name="CurrentVersion">The key version new encryptions use.</param>
/// <param name="State">The KMS key's state after this reconcile's enable/disable step.</param>
/// <param name="SpecEnabled">spec.enabled.</param>
/// <param name="ExpiredAt">spec.expiration.at when it has passed; null while the key has not expired.</param>
/// <param name="DeferredVersion">A key version that is due but waits (the HSM), with the reason and message to show.</param>
public sealed record CloudKeyReadyInputs(
    string KmsKeyId,
    string? Alias,
    string StoreId,
    string XksKeyId,
    string CurrentVersion,
    KeyState State,
    bool SpecEnabled,
    DateTime? ExpiredAt,
    (string Reason, string Message)? DeferredVersion);

/// <summary>
/// The CloudKey reconcile's own verdicts: the Ready ladder as an ordered rule list (the first rule that applies decides),
/// the Synced condition, when to read the KMS key from AWS (and through which name), and when to wait for the proxy
/// before disabling in KMS. The reconciler gathers the inputs and acts on the answers.
/// </summary>
internal static class CloudKeyDecisions
{
    private static readonly Func<CloudKeyReadyInputs, ConditionVerdict?>[] ReadyRules =
    [
        // An expired key is refused by the proxy whatever KMS says.
        k => k.ExpiredAt is { } at
            ? new(ConditionStatus.False, Reasons.Expired, $"the key expired at {at:O}; KMS key {k.KmsKeyId} is {k.State}")
            : null,
        k => k.State == KeyState.Unavailable
            ? new(ConditionStatus.False, Reasons.Unavailable, $"KMS key {k.KmsKeyId} is Unavailable: its key store {k.StoreId} is not connected")
            : null,
        // The key serves with the versions it has; the new version waits (for the HSM).
        k => k.DeferredVersion is { } deferred
            ? new(ConditionStatus.False, deferred.Reason, deferred.Message)
            : null,
        k => k.SpecEnabled
            ? new(ConditionStatus.True, Reasons.Enabled, $"KMS key {k.KmsKeyId}{(k.Alias is null ? "" : " (" + k.Alias + ")")} is enabled, backed by {k.XksKeyId} version {k.CurrentVersion}")
            : null,
        k => new(ConditionStatus.True, Reasons.Disabled, $"KMS key {k.KmsKeyId} is disabled as the spec asks: the proxy refuses it and AWS cannot use it"),
    ];

    /// <summary>The Ready condition of a CloudKey whose KMS key is known.</summary>
    public static ConditionVerdict Ready(CloudKeyReadyInputs inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        foreach (var rule in ReadyRules)
        {
            if (rule(inputs) is { } verdict)
            {
                return verdict;
            }
        }

        throw new System.Diagnostics.UnreachableException("the last Ready rule always applies");
    }

    /// <summary>
    /// Why this reconcile must read the KMS key from AWS, or null when the recorded status may stand: resyncs and watch
    /// events of a steady key make no AWS call, so a key costs its drift check (every <paramref name="period"/>) and
    /// nothing more at rest. The first rule that applies decides.
    /// </summary>
    public static string? AwsCheckReason(AwsCheckInputs inputs, DateTimeOffset now, TimeSpan period)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        foreach (var rule in AwsCheckRules)
        {
            if (rule(inputs, now, period) is { } reason)
            {
                return reason;
            }
        }

        return null;
    }

    private static readonly Func<AwsCheckInputs, DateTimeOffset, TimeSpan, string?>[] AwsCheckRules =
    [
        (k, _, _) => k.KeyId is null ? "no KMS key is recorded yet" : null,
        (k, _, _) => k.Generation != k.ObservedGeneration ? "the spec changed" : null,
        (k, _, _) => !k.Ready ? "the key is not Ready" : null,
        (k, _, _) => !k.Synced ? "the last check corrected drift" : null,
        (k, _, _) => k.CheckedAt is null ? "it was never checked" : null,
        (k, now, period) => now - k.CheckedAt >= period ? "its drift check is due" : null,
        // Status times are whole seconds: a transition in the second of the check may have come after it, so it counts.
        (k, _, _) => k.KeySetReadySince >= k.CheckedAt ? "its KeySet changed state since" : null,
        (k, now, _) => k.ExpiresAt <= now && k.ExpiresAt >= k.CheckedAt ? "it expired since" : null,
        (k, _, _) => k.KeyState != (k.WantEnabled ? KeyState.Enabled.Value : KeyState.Disabled.Value) && k.KeyState != KeyState.PendingDeletion.Value
            ? $"its recorded state {k.KeyState ?? "(none)"} is not what the spec asks"
            : null,
        (k, _, _) => k.Alias != k.DesiredAlias ? "its recorded alias is not the spec's" : null,
    ];

    /// <summary>When the next drift check is due, from now; never negative.</summary>
    public static TimeSpan UntilAwsCheck(DateTimeOffset? checkedAt, DateTimeOffset now, TimeSpan period) =>
        checkedAt is { } at && at + period - now is var left && left > TimeSpan.Zero ? left : TimeSpan.Zero;

    /// <summary>
    /// The alias to describe the key through at a drift check, or null to describe it by ID: one DescribeKey through the
    /// alias proves both the key's state and that the alias still names it, so the alias needs no ListAliases of its
    /// own. Only when the key is known and the alias already recorded as the spec's.
    /// </summary>
    public static string? DescribeThroughAlias(string? keyId, string? recordedAlias, string? desiredAlias, bool specChanged) =>
        keyId is not null && !specChanged && desiredAlias is not null && recordedAlias == desiredAlias ? desiredAlias : null;

    /// <summary>The Synced condition after drift correction: True when nothing had to be corrected.</summary>
    public static ConditionVerdict Synced(IReadOnlyCollection<string> corrected) => corrected.Count == 0
        ? new(ConditionStatus.True, Reasons.InSync, "the KMS key matches the spec")
        : new(ConditionStatus.False, Reasons.Drift, "corrected drift: " + string.Join("; ", corrected));

    /// <summary>
    /// True when KMS still has the key enabled but the spec (or expiration) disables it: the proxy must refuse it first
    /// (the Vault renders it disabled), so the reconciler waits rather than calling DisableKey in the same pass.
    /// </summary>
    public static bool AwaitsProxyRefusal(KeyState state, bool specEnabled, bool expired) =>
        state == KeyState.Enabled && (!specEnabled || expired);

    /// <summary>
    /// When to look again: the drift check, <paramref name="jitter"/> (0–1) of a tenth later so that 1,000 keys created
    /// together spread out; the HSM retry while a due version waits for the HSM; the next rotation or the expiration
    /// if sooner (an expiration already passed does not count); never under a second.
    /// </summary>
    /// <param name="untilAwsCheck">Until the next drift check is due.</param>
    /// <param name="jitter">A random number in [0, 1).</param>
    /// <param name="versionDeferred">A due key version waits for the HSM.</param>
    /// <param name="nextRotation">When the next key version is due (<see cref="CloudKeySettingsDecisions.NextRotation"/>).</param>
    /// <param name="expiresAt">spec.expiration.at.</param>
    /// <param name="now">The time now.</param>
    public static TimeSpan NextCheck(TimeSpan untilAwsCheck, double jitter, bool versionDeferred, DateTimeOffset? nextRotation, DateTimeOffset? expiresAt, DateTimeOffset now)
    {
        var next = untilAwsCheck + (untilAwsCheck * 0.1 * jitter);
        if (versionDeferred && next > TransientFailure.HsmRetry)
        {
            next = TransientFailure.HsmRetry;
        }

        if (nextRotation - now is { } untilRotation && untilRotation < next)
        {
            next = untilRotation;
        }

        if (expiresAt - now is { } untilExpiry && untilExpiry > TimeSpan.Zero && untilExpiry < next)
        {
            next = untilExpiry;
        }

        return next < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : next;
    }
}

/// <summary>What decides whether a CloudKey reconcile reads its KMS key from AWS (<see cref="CloudKeyDecisions.AwsCheckReason"/>).</summary>
/// <param name="KeyId">status.keyId.</param>
/// <param name="Generation">metadata.generation.</param>
/// <param name="ObservedGeneration">status.observedGeneration before this reconcile.</param>
/// <param name="Ready">Ready is True.</param>
/// <param name="Synced">Synced is True.</param>
/// <param name="CheckedAt">status.lastAwsCheckTime.</param>
/// <param name="KeyState">status.keyState.</param>
/// <param name="WantEnabled">spec.enabled and not expired.</param>
/// <param name="Alias">status.alias.</param>
/// <param name="DesiredAlias">The alias the spec asks for (alias/ prefixed), if any.</param>
/// <param name="KeySetReadySince">When the KeySet's Ready condition last changed.</param>
/// <param name="ExpiresAt">spec.expiration.at, if any.</param>
public sealed record AwsCheckInputs(
    string? KeyId,
    long? Generation,
    long? ObservedGeneration,
    bool Ready,
    bool Synced,
    DateTimeOffset? CheckedAt,
    string? KeyState,
    bool WantEnabled,
    string? Alias,
    string? DesiredAlias,
    DateTimeOffset? KeySetReadySince,
    DateTimeOffset? ExpiresAt);
