namespace Xks.Operator.Controllers.Tests;

public sealed class RootKeyDecisionsTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 4, 12, 0, 0, TimeSpan.Zero);

    private static RootKeyMarker Marked(int target, string request = "1", int secondsAgo = 60) => new(target, Now.AddSeconds(-secondsAgo), request);

    public static TheoryData<string, RootKeyState, RootKeyAction, int, int[], string?> Cases => new()
    {
        { "a new Vault makes its first root", new(null, null, [], [], Now), RootKeyAction.CreateRoot, 1, [], null },
        { "one root sealing everything: nothing to do", new(null, null, [1], [1], Now), RootKeyAction.None, 1, [], null },
        { "a root with no key yet: nothing to do", new(null, null, [1], [], Now), RootKeyAction.None, 1, [], null },
        { "a request starts a rotation to the next root", new("now", null, [1], [1], Now), RootKeyAction.StartRotation, 2, [], null },
        { "a request handled before starts nothing", new("now", Marked(2, "now"), [2], [2], Now), RootKeyAction.None, 2, [], null },
        { "a new request value rotates again", new("again", Marked(2, "now"), [2], [2], Now), RootKeyAction.StartRotation, 3, [], null },
        { "marked then crashed before the root was made: the same target", new("now", Marked(2, "now"), [1], [1], Now), RootKeyAction.CreateRoot, 2, [], null },
        { "the new root made, blobs still name the old: reseal", new("now", Marked(2, "now"), [1, 2], [1, 2], Now), RootKeyAction.Reseal, 2, [1], null },
        { "a reseal interrupted halfway resumes", new("now", Marked(3, "now"), [1, 2, 3], [1, 3], Now), RootKeyAction.Reseal, 3, [1], null },
        { "all resealed, within the grace: wait", new("now", Marked(2, "now", secondsAgo: 10), [1, 2], [2], Now), RootKeyAction.Wait, 2, [1], null },
        { "all resealed, the grace over: destroy the old root", new("now", Marked(2, "now", secondsAgo: 31), [1, 2], [2], Now), RootKeyAction.DestroyRoots, 2, [1], null },
        { "older roots without a marker (a restored Vault): destroyed once nothing names them", new(null, null, [1, 2], [2], Now), RootKeyAction.DestroyRoots, 2, [1], null },
        { "blobs name a root the token lacks: refused, nothing made", new(null, null, [2], [1, 2], Now), RootKeyAction.Refuse, 2, [1], Reasons.RootKeyMissing },
        { "an empty token while blobs exist: refused, no new root over them", new(null, null, [], [1], Now), RootKeyAction.Refuse, 0, [1], Reasons.RootKeyMissing },
        { "a pending rotation while another root is lost: refused", new("now", Marked(3, "now"), [2], [1, 2], Now), RootKeyAction.Refuse, 2, [1], Reasons.RootKeyMissing },
        { "the last root version the format can name: refused", new("now", null, [255], [255], Now), RootKeyAction.Refuse, 255, [], Reasons.RootKeyVersionsExhausted },
        { "a request while blobs are stale: the rotation starts first, resealing follows", new("again", Marked(2, "now"), [1, 2], [1], Now), RootKeyAction.StartRotation, 3, [], null },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Plan_Case_IsTheExpectedStep(string because, RootKeyState state, RootKeyAction action, int target, int[] versions, string? reason)
    {
        var plan = RootKeyDecisions.Plan(state);

        Assert.True((action, target, reason) == (plan.Action, plan.Target, plan.Reason), $"{because}: {plan}");
        Assert.Equal(versions, plan.Versions);
        Assert.False(string.IsNullOrWhiteSpace(plan.Message));
    }

    [Fact]
    public void Plan_Wait_SaysHowLongUntilTheOldRootGoes()
    {
        var plan = RootKeyDecisions.Plan(new RootKeyState("now", Marked(2, "now", secondsAgo: 10), [1, 2], [2], Now));

        Assert.Equal(TimeSpan.FromSeconds(20), plan.WaitFor);
        Assert.Contains("2026-12-04T12:00:20Z", plan.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Marker_WrittenThenRead_GivesTheTargetTimeAndRequest_EvenWithSemicolonsInTheRequest()
    {
        var marker = RootKeyDecisions.ParseMarker(RootKeyDecisions.Marker(7, Now, "ticket;42"));

        Assert.Equal(new RootKeyMarker(7, Now, "ticket;42"), marker);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("2")]
    [InlineData("0;2026-12-04T12:00:00Z;x")]
    [InlineData("256;2026-12-04T12:00:00Z;x")]
    [InlineData("two;2026-12-04T12:00:00Z;x")]
    [InlineData("2;yesterday;x")]
    public void ParseMarker_NotOneTheOperatorWrote_IsNull(string? value) =>
        Assert.Null(RootKeyDecisions.ParseMarker(value));
}
