namespace Xks.Operator.Controllers.Tests;

/// <summary>When a CloudKey reconcile reads AWS: the drift check's gate, its next due time and the alias shortcut.</summary>
public class CloudKeyAwsCheckTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 4, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Period = TimeSpan.FromHours(3);

    /// <summary>A key checked an hour ago, Ready and in sync, enabled with its alias, its KeySet Ready for a day.</summary>
    private static AwsCheckInputs Steady() => new(
        KeyId: "1234abcd-0000-0000-0000-000000000001",
        Generation: 4,
        ObservedGeneration: 4,
        Ready: true,
        Synced: true,
        CheckedAt: Now.AddHours(-1),
        KeyState: "Enabled",
        WantEnabled: true,
        Alias: "alias/payments/db",
        DesiredAlias: "alias/payments/db",
        KeySetReadySince: Now.AddDays(-1),
        ExpiresAt: null);

    public static TheoryData<string, AwsCheckInputs, string?> Cases => new()
    {
        { "a steady key checked within the period reads nothing", Steady(), null },
        { "a steady disabled key reads nothing", Steady() with { KeyState = "Disabled", WantEnabled = false }, null },
        { "a key without an alias reads nothing when steady", Steady() with { Alias = null, DesiredAlias = null }, null },
        { "a key pending deletion after expiring reads nothing", Steady() with { KeyState = "PendingDeletion", WantEnabled = false, ExpiresAt = Now.AddDays(-2) }, null },
        { "an expiry that passed before the last check reads nothing", Steady() with { KeyState = "Disabled", WantEnabled = false, ExpiresAt = Now.AddHours(-2) }, null },
        { "an expiry still to come reads nothing", Steady() with { ExpiresAt = Now.AddHours(1) }, null },
        { "a KeySet transition before the last check reads nothing", Steady() with { KeySetReadySince = Now.AddHours(-2) }, null },
        { "one second before the period ends reads nothing", Steady() with { CheckedAt = Now - Period + TimeSpan.FromSeconds(1) }, null },
        { "no KMS key yet reads", Steady() with { KeyId = null }, "no KMS key is recorded yet" },
        { "no key wins over everything else", Steady() with { KeyId = null, Generation = 5, Ready = false }, "no KMS key is recorded yet" },
        { "a spec change reads", Steady() with { Generation = 5 }, "the spec changed" },
        { "a status never observed reads", Steady() with { ObservedGeneration = null }, "the spec changed" },
        { "a key not Ready reads", Steady() with { Ready = false }, "the key is not Ready" },
        { "a key that had drift corrected reads again", Steady() with { Synced = false }, "the last check corrected drift" },
        { "a key never checked (an operator upgrade) reads", Steady() with { CheckedAt = null }, "it was never checked" },
        { "the period's end reads", Steady() with { CheckedAt = Now - Period }, "its drift check is due" },
        { "past the period reads", Steady() with { CheckedAt = Now.AddDays(-2) }, "its drift check is due" },
        { "a KeySet that changed state since the check reads", Steady() with { KeySetReadySince = Now.AddMinutes(-5) }, "its KeySet changed state since" },
        { "a KeySet transition in the second of the check reads (it may have come after)", Steady() with { KeySetReadySince = Now.AddHours(-1) }, "its KeySet changed state since" },
        { "a KeySet without a Ready condition does not force a read", Steady() with { KeySetReadySince = null }, null },
        { "an expiry in the second of the check reads", Steady() with { ExpiresAt = Now.AddHours(-1) }, "it expired since" },
        { "an expiry since the last check reads", Steady() with { ExpiresAt = Now.AddMinutes(-1) }, "it expired since" },
        { "a recorded Enabled the spec wants disabled reads", Steady() with { WantEnabled = false }, "its recorded state Enabled is not what the spec asks" },
        { "a recorded Disabled the spec wants enabled reads", Steady() with { KeyState = "Disabled" }, "its recorded state Disabled is not what the spec asks" },
        { "a recorded Unavailable reads", Steady() with { KeyState = "Unavailable" }, "its recorded state Unavailable is not what the spec asks" },
        { "no recorded state reads", Steady() with { KeyState = null }, "its recorded state (none) is not what the spec asks" },
        { "a recorded alias other than the spec's reads", Steady() with { Alias = "alias/old" }, "its recorded alias is not the spec's" },
        { "an alias the spec dropped reads", Steady() with { DesiredAlias = null }, "its recorded alias is not the spec's" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void AwsCheckReason_Inputs_DecideWhetherAndWhyAwsIsRead(string scenario, AwsCheckInputs inputs, string? reason) =>
        Assert.True(CloudKeyDecisions.AwsCheckReason(inputs, Now, Period) == reason, $"{scenario}: got '{CloudKeyDecisions.AwsCheckReason(inputs, Now, Period)}', expected '{reason}'");

    [Theory]
    [InlineData(-60, 120)]
    [InlineData(-180, 0)]
    [InlineData(-500, 0)]
    [InlineData(0, 180)]
    public void UntilAwsCheck_CheckedMinutesAgo_IsTheRestOfThePeriodNeverNegative(int checkedMinutesAgo, int expectedMinutes) =>
        Assert.Equal(TimeSpan.FromMinutes(expectedMinutes), CloudKeyDecisions.UntilAwsCheck(Now.AddMinutes(checkedMinutesAgo), Now, Period));

    [Fact]
    public void UntilAwsCheck_NeverChecked_IsDueNow() =>
        Assert.Equal(TimeSpan.Zero, CloudKeyDecisions.UntilAwsCheck(null, Now, Period));

    public static TheoryData<string, int, double, bool, int?, int?, double> NextChecks() => new()
    {
        { "the drift check alone", 10_800, 0.0, false, null, null, 10_800 },
        { "spread by up to a tenth", 10_800, 0.5, false, null, null, 11_340 },
        { "a version waiting for the HSM: its retry", 10_800, 0.0, true, null, null, 15 },
        { "a rotation due sooner", 10_800, 0.0, false, 600, null, 600 },
        { "a rotation overdue: a second", 10_800, 0.0, false, -600, null, 1 },
        { "a rotation after the check: the check", 600, 0.0, false, 10_800, null, 600 },
        { "an expiration sooner", 10_800, 0.0, false, 3_600, 1_200, 1_200 },
        { "an expiration already passed does not count", 10_800, 0.0, false, null, -60, 10_800 },
        { "the HSM retry beats a later expiration", 10_800, 0.0, true, null, 60, 15 },
        { "a check due now: a second", 0, 0.9, false, null, null, 1 },
    };

    [Theory]
    [MemberData(nameof(NextChecks))]
    public void NextCheck_SoonestOfCheckRetryRotationAndExpiry(string why, int untilCheckSeconds, double jitter, bool deferred, int? rotationInSeconds, int? expiresInSeconds, double expectedSeconds)
    {
        var next = CloudKeyDecisions.NextCheck(
            TimeSpan.FromSeconds(untilCheckSeconds), jitter, deferred,
            rotationInSeconds is { } r ? Now.AddSeconds(r) : null,
            expiresInSeconds is { } e ? Now.AddSeconds(e) : null,
            Now);

        Assert.True(TimeSpan.FromSeconds(expectedSeconds) == next, $"{why}: got {next}");
    }

    [Theory]
    [InlineData("k-1", "alias/a", "alias/a", false, "alias/a")]
    [InlineData("k-1", "alias/a", "alias/a", true, null)]
    [InlineData(null, "alias/a", "alias/a", false, null)]
    [InlineData("k-1", "alias/old", "alias/a", false, null)]
    [InlineData("k-1", null, "alias/a", false, null)]
    [InlineData("k-1", null, null, false, null)]
    public void DescribeThroughAlias_OnlyAKnownKeyWithItsRecordedAliasUnchanged_GoesThroughTheAlias(string? keyId, string? recorded, string? desired, bool specChanged, string? expected) =>
        Assert.Equal(expected, CloudKeyDecisions.DescribeThroughAlias(keyId, recorded, desired, specChanged));
}
