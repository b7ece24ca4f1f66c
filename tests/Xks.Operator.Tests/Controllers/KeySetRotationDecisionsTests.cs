namespace Xks.Operator.Controllers.Tests;

/// <summary>When a KeySet starts rotating its SigV4 credential, and when it looks at the credential again.</summary>
public class KeySetRotationDecisionsTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 4, 12, 0, 0, TimeSpan.Zero);

    public static TheoryData<string, bool, string?, string?, int?, int, string?> StartCases => new()
    {
        { "no schedule, no request: nothing", false, null, null, null, 100, null },
        { "a new annotation value is a request", false, "r2", "r1", null, 0, "requested" },
        { "the first annotation value is a request", false, "r1", null, null, 0, "requested" },
        { "an annotation value already handled is not", false, "r1", "r1", null, 100, null },
        { "the interval passed: scheduled", false, null, null, 60, 60, "scheduled" },
        { "the interval not yet passed: nothing", false, null, null, 60, 59, null },
        { "a request wins over the schedule", false, "r2", "r1", 60, 61, "requested" },
        { "a rotation in flight blocks a request", true, "r2", "r1", null, 0, null },
        { "a rotation in flight blocks the schedule", true, null, null, 60, 600, null },
        { "a clock behind the last rotation: nothing", false, null, null, 60, -5, null },
    };

    [Theory]
    [MemberData(nameof(StartCases))]
    public void RotationStart_Inputs_DecideWhetherAndWhy(string scenario, bool pending, string? request, string? handled, int? everyMinutes, int minutesSinceLast, string? expected)
    {
        var why = KeySetDecisions.RotationStart(pending, request, handled, everyMinutes is { } m ? TimeSpan.FromMinutes(m) : null, Now.AddMinutes(-minutesSinceLast), Now);

        Assert.True(why == expected, $"{scenario}: got '{why}'");
    }

    [Theory]
    [InlineData(60, 20, 40)]
    [InlineData(60, 90, -30)]
    [InlineData(60, null, 60)]
    [InlineData(null, 20, 180)]
    [InlineData(null, null, 180)]
    public void NextRotationCheck_ScheduleAndLastRotation_IsTheNextRotationElseTheDriftPeriod(int? everyMinutes, int? minutesSinceLast, int expectedMinutes) =>
        Assert.Equal(
            TimeSpan.FromMinutes(expectedMinutes),
            KeySetDecisions.NextRotationCheck(
                everyMinutes is { } m ? TimeSpan.FromMinutes(m) : null, minutesSinceLast is { } s ? Now.AddMinutes(-s) : null, Now, TimeSpan.FromHours(3)));
}
