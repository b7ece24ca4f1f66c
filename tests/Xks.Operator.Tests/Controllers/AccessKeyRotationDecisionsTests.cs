using Xks.Operator.Aws;

namespace Xks.Operator.Controllers.Tests;

/// <summary>
/// The access-key rotation's decisions, including the state a crash between any two steps leaves: the Secret always
/// keeps a working key, IAM never holds more than two, and no key is deleted unless the status proves it was replaced.
/// </summary>
public class AccessKeyRotationDecisionsTests
{
    private const string Old = "AKIAOLDKEY0000000001";
    private const string New = "AKIANEWKEY0000000002";
    private const string Stranger = "AKIASTRANGER00000003";
    private static readonly DateTimeOffset Now = new(2026, 12, 4, 12, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset OldCreated = Now.AddDays(-100);
    private static readonly TimeSpan Every = TimeSpan.FromDays(90);
    private static readonly TimeSpan Grace = TimeSpan.FromHours(1);
    private static readonly TimeSpan Settle = TimeSpan.FromMinutes(3);

    private static IamAccessKey Key(string id, DateTimeOffset created, bool active = true) => new(id, active, created);

    private static AccessKeyRotationState State(
        string secretKeyId,
        IamAccessKey[] keys,
        AccessKeyPhase phase = AccessKeyPhase.Current,
        DateTimeOffset? since = null,
        string? previousId = null,
        bool requested = false,
        AccessKeyInHand? inHand = null) =>
        new(Now, Every, Grace, Settle, secretKeyId, requested, phase, since, previousId, keys, inHand);

    public static TheoryData<string, AccessKeyRotationState, AccessKeyAction, string?> Cases => new()
    {
        // Steady state and the schedule.
        { "a key younger than every waits", State(Old, [Key(Old, Now.AddDays(-10))]), AccessKeyAction.None, null },
        { "a key older than every is replaced", State(Old, [Key(Old, OldCreated)]), AccessKeyAction.CreateKey, null },
        { "the rotate annotation replaces a young key", State(Old, [Key(Old, Now.AddDays(-1))], requested: true), AccessKeyAction.CreateKey, null },

        // In one pass: create → verify → write.
        { "a created key is verified before anything else", State(Old, [Key(Old, OldCreated), Key(New, Now)], AccessKeyPhase.Creating, Now, Old, inHand: new(New, false)), AccessKeyAction.VerifyNew, New },
        { "a verified key is written to the Secret", State(Old, [Key(Old, OldCreated), Key(New, Now)], AccessKeyPhase.Creating, Now, Old, inHand: new(New, true)), AccessKeyAction.WriteSecret, New },

        // Crash points.
        { "crash before CreateAccessKey returned nothing: create again", State(Old, [Key(Old, OldCreated)], AccessKeyPhase.Creating, Now.AddMinutes(-1), Old), AccessKeyAction.CreateKey, null },
        { "crash after create, before the Secret write: the orphan is deleted", State(Old, [Key(Old, OldCreated), Key(New, Now.AddSeconds(-30))], AccessKeyPhase.Creating, Now.AddMinutes(-1), Old), AccessKeyAction.DeleteOrphan, New },
        { "IAM's clock a little behind the operator's still proves the orphan", State(Old, [Key(Old, OldCreated), Key(New, Now.AddMinutes(-2))], AccessKeyPhase.Creating, Now.AddMinutes(-1), Old), AccessKeyAction.DeleteOrphan, New },
        { "crash after the Secret write, before the status: record Replaced", State(New, [Key(Old, OldCreated), Key(New, Now.AddMinutes(-1))], AccessKeyPhase.Creating, Now.AddMinutes(-1), Old), AccessKeyAction.RecordReplaced, Old },
        { "replaced just now: the old key stays active while sessions settle", State(New, [Key(Old, OldCreated), Key(New, Now)], AccessKeyPhase.Replaced, Now.AddMinutes(-1), Old), AccessKeyAction.None, Old },
        { "replaced and settled: deactivate the old key", State(New, [Key(Old, OldCreated), Key(New, Now)], AccessKeyPhase.Replaced, Now.AddMinutes(-5), Old), AccessKeyAction.DeactivateOld, Old },
        { "crash after UpdateAccessKey, before the status: deactivate again", State(New, [Key(Old, OldCreated, active: false), Key(New, Now)], AccessKeyPhase.Replaced, Now.AddMinutes(-5), Old), AccessKeyAction.DeactivateOld, Old },
        { "deactivated within the grace period: wait", State(New, [Key(Old, OldCreated, active: false), Key(New, Now)], AccessKeyPhase.Deactivated, Now.AddMinutes(-30), Old), AccessKeyAction.None, Old },
        { "deactivated past the grace period: delete the old key", State(New, [Key(Old, OldCreated, active: false), Key(New, Now)], AccessKeyPhase.Deactivated, Now.AddHours(-2), Old), AccessKeyAction.DeleteOld, Old },
        { "crash after DeleteAccessKey: one key, a young one, nothing to do", State(New, [Key(New, Now.AddHours(-2))], AccessKeyPhase.Deactivated, Now.AddHours(-2), Old), AccessKeyAction.None, null },

        // Refusals: never a key the operator cannot prove it replaced.
        { "a second key the operator did not make is refused", State(Old, [Key(Old, OldCreated), Key(Stranger, Now.AddDays(-5))]), AccessKeyAction.Refuse, null },
        { "a newer key while no create was in flight is refused", State(Old, [Key(Old, OldCreated), Key(Stranger, Now)], AccessKeyPhase.Current), AccessKeyAction.Refuse, null },
        { "a key made long before the create started is not an orphan", State(Old, [Key(Old, OldCreated), Key(Stranger, Now.AddHours(-3))], AccessKeyPhase.Creating, Now.AddMinutes(-1), Old), AccessKeyAction.Refuse, null },
        { "a key made long after a create that never finished is not an orphan", State(Old, [Key(Old, OldCreated), Key(Stranger, Now)], AccessKeyPhase.Creating, Now.AddHours(-3), Old), AccessKeyAction.Refuse, null },
        { "an older key in the Secret after a rotation (rolled back by hand) is refused", State(Old, [Key(Old, OldCreated), Key(New, Now.AddHours(-1))], AccessKeyPhase.Replaced, Now.AddHours(-1), Old), AccessKeyAction.Refuse, null },
        { "a Secret key IAM does not list is refused", State(Stranger, [Key(Old, OldCreated)]), AccessKeyAction.Refuse, null },
        { "an inactive Secret key is refused", State(Old, [Key(Old, OldCreated, active: false)]), AccessKeyAction.Refuse, null },
        { "three keys are refused", State(Old, [Key(Old, OldCreated), Key(New, Now), Key(Stranger, Now)]), AccessKeyAction.Refuse, null },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Next_State_DecidesTheStep(string scenario, AccessKeyRotationState state, AccessKeyAction expected, string? keyId)
    {
        var decision = AccessKeyRotationDecisions.Next(state);

        Assert.True(expected == decision.Action, $"{scenario}: got {decision.Action} ({decision.Message})");
        Assert.True(keyId == decision.KeyId, $"{scenario}: acted on {decision.KeyId}");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Next_AnyState_NeverCreatesAThirdKeyNorTouchesTheSecretsKey(string scenario, AccessKeyRotationState state, AccessKeyAction expected, string? keyId)
    {
        _ = expected;
        _ = keyId;
        var decision = AccessKeyRotationDecisions.Next(state);

        Assert.False(decision.Action == AccessKeyAction.CreateKey && state.Keys.Count != 1, $"{scenario}: creates with {state.Keys.Count} keys");
        Assert.False(decision.Action is AccessKeyAction.DeactivateOld or AccessKeyAction.DeleteOld or AccessKeyAction.DeleteOrphan && decision.KeyId == state.SecretKeyId, $"{scenario}: retires the Secret's key");
    }

    [Fact]
    public void Next_KeyNotDue_WaitsUntilItsAgeReachesEvery()
    {
        var created = Now.AddDays(-10);

        var decision = AccessKeyRotationDecisions.Next(State(Old, [Key(Old, created)]));

        Assert.Equal(created + Every, decision.WaitUntil);
    }

    [Fact]
    public void Next_DeactivatedWithinGrace_WaitsUntilTheGracePeriodEnds()
    {
        var deactivated = Now.AddMinutes(-30);

        var decision = AccessKeyRotationDecisions.Next(State(New, [Key(Old, OldCreated, active: false), Key(New, Now)], AccessKeyPhase.Deactivated, deactivated, Old));

        Assert.Equal(deactivated + Grace, decision.WaitUntil);
    }

    [Fact]
    public void Next_StrangerKey_RefusalNamesBothKeysAndNoSecret()
    {
        var decision = AccessKeyRotationDecisions.Next(State(Old, [Key(Old, OldCreated), Key(Stranger, Now.AddDays(-5))]));

        Assert.Contains(Stranger, decision.Message, StringComparison.Ordinal);
        Assert.Contains(Old, decision.Message, StringComparison.Ordinal);
    }
}
