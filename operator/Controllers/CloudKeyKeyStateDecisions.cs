using Amazon.KeyManagementService;

namespace Xks.Operator.Controllers;

/// <summary>
/// What a CloudKey's KMS key state becomes: the enable, disable and deletion calls the spec, the expiration and the
/// proxy ask for, and the expiry mark on the key material.
/// </summary>
internal static class CloudKeyKeyStateDecisions
{
    /// <summary>
    /// What to do about the KMS key's state (the HYOK switch, expiration, a change made in AWS by hand): the calls in
    /// order, the state they leave, and the drift they undo. A key the spec disables stays Enabled
    /// until the proxy refuses it: AWS must never be told before the proxy is.
    /// </summary>
    public static KeyStatePlan PlanKeyState(KeyStateInputs inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var state = inputs.State;
        var scheduleDeletion = inputs.Expired && inputs.ScheduleDeletionOnExpiry;
        var actions = new List<KeyStateAction>();
        var drift = new List<string>();
        if (state == KeyState.PendingDeletion)
        {
            if (scheduleDeletion)
            {
                return new([], state, []);
            }

            // The CloudKey exists, so the key must too: undo a deletion scheduled by hand (the safe direction), or
            // the one its expiry scheduled once the expiration moved later (not drift: the spec changed).
            actions.Add(KeyStateAction.CancelDeletion);
            if (!inputs.Unexpired)
            {
                drift.Add("its deletion was scheduled in AWS; cancelled");
            }

            state = KeyState.Disabled;
        }

        if (scheduleDeletion)
        {
            actions.Add(KeyStateAction.ScheduleDeletion);
            return new(actions, KeyState.PendingDeletion, drift);
        }

        var wantEnabled = inputs.SpecEnabled && !inputs.Expired;
        if (wantEnabled && state == KeyState.Disabled)
        {
            actions.Add(KeyStateAction.Enable);
            if (inputs.RecordedState == KeyState.Enabled.Value)
            {
                drift.Add("it was disabled in AWS; re-enabled");
            }

            return new(actions, KeyState.Enabled, drift);
        }

        if (!wantEnabled && state == KeyState.Enabled && inputs.ProxyRefuses)
        {
            actions.Add(KeyStateAction.Disable);
            if (!inputs.Expired && inputs.RecordedState == KeyState.Disabled.Value && !inputs.SpecEnabled)
            {
                drift.Add("it was enabled in AWS; disabled again");
            }

            return new(actions, KeyState.Disabled, drift);
        }

        return new(actions, state, drift);
    }

    /// <summary>
    /// The expiry mark on the key material after this reconcile: set while spec.expiration.at has passed, cleared when
    /// the expiration was moved later or removed. <c>Unexpired</c> when a mark is cleared: the proxy serves the key again
    /// and the KMS key is enabled again if the spec wants it (<see cref="PlanKeyState"/>).
    /// </summary>
    public static (bool Expired, bool Unexpired) PlanExpiry(bool marked, DateTimeOffset? expiresAt, DateTimeOffset now)
    {
        var expired = expiresAt <= now;
        return (expired, marked && !expired);
    }
}

/// <summary>What the KMS key's state plan starts from (<see cref="CloudKeyKeyStateDecisions.PlanKeyState"/>).</summary>
/// <param name="State">The state KMS reports now.</param>
/// <param name="RecordedState">status.keyState: what the operator left it in last time.</param>
/// <param name="SpecEnabled">spec.enabled.</param>
/// <param name="Expired">spec.expiration.at has passed.</param>
/// <param name="ScheduleDeletionOnExpiry">spec.expiration.action is ScheduleDeletion.</param>
/// <param name="ProxyRefuses">The Vault's served config already has the key disabled.</param>
/// <param name="Unexpired">The key was marked expired and no longer is (<see cref="CloudKeyKeyStateDecisions.PlanExpiry"/>): a deletion or disable it finds is the expiry's, undone as the spec asks, not drift.</param>
public sealed record KeyStateInputs(KeyState State, string? RecordedState, bool SpecEnabled, bool Expired, bool ScheduleDeletionOnExpiry, bool ProxyRefuses, bool Unexpired = false);

/// <summary>The KMS calls that bring a key's state where the spec wants it, in order.</summary>
public enum KeyStateAction
{
    CancelDeletion,
    ScheduleDeletion,
    Enable,
    Disable,
}

/// <summary>The calls to make, the state they leave the key in, and the drift they undo (for the Synced condition).</summary>
public sealed record KeyStatePlan(IReadOnlyList<KeyStateAction> Actions, KeyState Result, IReadOnlyList<string> Drift);
