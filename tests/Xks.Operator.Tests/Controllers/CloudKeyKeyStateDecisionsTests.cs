using Amazon.KeyManagementService;

namespace Xks.Operator.Controllers.Tests;

/// <summary>The KMS key's state as the spec, the expiration, the proxy and a hand in AWS leave it: every call, in order.</summary>
public class CloudKeyKeyStateDecisionsTests
{
    private static KeyStateInputs Inputs(KeyState state, string? recorded = "Enabled", bool enabled = true, bool expired = false, bool scheduleOnExpiry = false, bool proxyRefuses = false, bool unexpired = false) =>
        new(state, recorded, enabled, expired, scheduleOnExpiry, proxyRefuses, unexpired);

    public static TheoryData<string, KeyStateInputs, KeyStateAction[], string, string[]> Cases => new()
    {
        { "an enabled key the spec wants enabled: nothing", Inputs(KeyState.Enabled), [], "Enabled", [] },
        { "a disabled key the spec wants disabled: nothing", Inputs(KeyState.Disabled, "Disabled", enabled: false), [], "Disabled", [] },
        { "a new key created disabled is enabled, no drift", Inputs(KeyState.Disabled, recorded: null), [KeyStateAction.Enable], "Enabled", [] },
        { "turning the switch on enables, no drift", Inputs(KeyState.Disabled, "Disabled"), [KeyStateAction.Enable], "Enabled", [] },
        { "a key we left enabled found disabled is re-enabled as drift", Inputs(KeyState.Disabled, "Enabled"), [KeyStateAction.Enable], "Enabled", ["it was disabled in AWS; re-enabled"] },
        { "turning the switch off waits for the proxy to refuse first", Inputs(KeyState.Enabled, enabled: false), [], "Enabled", [] },
        { "turning the switch off disables once the proxy refuses", Inputs(KeyState.Enabled, enabled: false, proxyRefuses: true), [KeyStateAction.Disable], "Disabled", [] },
        { "a key we left disabled found enabled is disabled again as drift", Inputs(KeyState.Enabled, "Disabled", enabled: false, proxyRefuses: true), [KeyStateAction.Disable], "Disabled", ["it was enabled in AWS; disabled again"] },
        { "an expired key (action Disable) waits for the proxy", Inputs(KeyState.Enabled, expired: true), [], "Enabled", [] },
        { "an expired key is disabled once the proxy refuses, not as drift", Inputs(KeyState.Enabled, "Disabled", expired: true, proxyRefuses: true), [KeyStateAction.Disable], "Disabled", [] },
        { "an expired disabled key is not re-enabled", Inputs(KeyState.Disabled, "Enabled", expired: true), [], "Disabled", [] },
        { "an expired key (action ScheduleDeletion) is scheduled at once", Inputs(KeyState.Enabled, expired: true, scheduleOnExpiry: true), [KeyStateAction.ScheduleDeletion], "PendingDeletion", [] },
        { "an expired key already pending deletion: nothing", Inputs(KeyState.PendingDeletion, "PendingDeletion", expired: true, scheduleOnExpiry: true), [], "PendingDeletion", [] },
        { "a deletion scheduled by hand is cancelled and the key enabled again", Inputs(KeyState.PendingDeletion, "Enabled"), [KeyStateAction.CancelDeletion, KeyStateAction.Enable], "Enabled",
            ["its deletion was scheduled in AWS; cancelled", "it was disabled in AWS; re-enabled"] },
        { "a deletion scheduled by hand on a disabled key is cancelled; it stays disabled", Inputs(KeyState.PendingDeletion, "Disabled", enabled: false), [KeyStateAction.CancelDeletion], "Disabled",
            ["its deletion was scheduled in AWS; cancelled"] },
        { "an expired key (action Disable) pending deletion by hand is cancelled and stays disabled", Inputs(KeyState.PendingDeletion, "Disabled", expired: true), [KeyStateAction.CancelDeletion], "Disabled",
            ["its deletion was scheduled in AWS; cancelled"] },
        { "expiration moved later: the key its expiry disabled is enabled again, not as drift", Inputs(KeyState.Disabled, "Disabled", unexpired: true), [KeyStateAction.Enable], "Enabled", [] },
        { "expiration moved later on a key the spec disables: it stays disabled", Inputs(KeyState.Disabled, "Disabled", enabled: false, unexpired: true), [], "Disabled", [] },
        { "expiration moved later: the deletion its expiry scheduled is cancelled and the key enabled, not as drift", Inputs(KeyState.PendingDeletion, "PendingDeletion", unexpired: true),
            [KeyStateAction.CancelDeletion, KeyStateAction.Enable], "Enabled", [] },
        { "expiration moved later: the deletion its expiry scheduled is cancelled; a key the spec disables stays disabled", Inputs(KeyState.PendingDeletion, "PendingDeletion", enabled: false, unexpired: true),
            [KeyStateAction.CancelDeletion], "Disabled", [] },
        { "an unavailable key (store disconnected): nothing", Inputs(KeyState.Unavailable), [], "Unavailable", [] },
        { "a key being created: nothing", Inputs(KeyState.Creating, recorded: null), [], "Creating", [] },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void PlanKeyState_Inputs_DecideTheCallsTheResultAndTheDrift(string scenario, KeyStateInputs inputs, KeyStateAction[] actions, string result, string[] drift)
    {
        var plan = CloudKeyKeyStateDecisions.PlanKeyState(inputs);

        Assert.True(actions.SequenceEqual(plan.Actions), $"{scenario}: calls {string.Join(", ", plan.Actions)}");
        Assert.True(result == plan.Result.Value, $"{scenario}: leaves {plan.Result}");
        Assert.True(drift.SequenceEqual(plan.Drift), $"{scenario}: drift {string.Join("; ", plan.Drift)}");
    }
}
