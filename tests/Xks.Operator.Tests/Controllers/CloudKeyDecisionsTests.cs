using Amazon.KeyManagementService;
using Xks.Operator.Entities;

namespace Xks.Operator.Controllers.Tests;

public class CloudKeyDecisionsTests
{
    private static readonly DateTime ExpiredAt = new(2026, 11, 30, 12, 0, 0, DateTimeKind.Utc);

    private static CloudKeyReadyInputs Inputs(
        KeyState? state = null, bool enabled = true, DateTime? expiredAt = null, (string, string)? deferred = null, string? alias = "alias/payments/db") =>
        new("1234abcd-0000-0000-0000-000000000001", alias, "cks-1234567890abcdef0", "payments-db-0b9e7f10", "3", state ?? KeyState.Enabled, enabled, expiredAt, deferred);

    public static TheoryData<string, CloudKeyReadyInputs, string, string, string> ReadyCases => new()
    {
        { "an enabled key as the spec asks is Ready", Inputs(), ConditionStatus.True, Reasons.Enabled,
            "KMS key 1234abcd-0000-0000-0000-000000000001 (alias/payments/db) is enabled, backed by payments-db-0b9e7f10 version 3" },
        { "an enabled key without an alias says so without one", Inputs(alias: null), ConditionStatus.True, Reasons.Enabled,
            "KMS key 1234abcd-0000-0000-0000-000000000001 is enabled, backed by payments-db-0b9e7f10 version 3" },
        { "a key disabled as the spec asks is Ready", Inputs(KeyState.Disabled, enabled: false), ConditionStatus.True, Reasons.Disabled,
            "KMS key 1234abcd-0000-0000-0000-000000000001 is disabled as the spec asks: the proxy refuses it and AWS cannot use it" },
        { "an expired key is not Ready even if enabled in the spec", Inputs(KeyState.Disabled, expiredAt: ExpiredAt), ConditionStatus.False, Reasons.Expired,
            "the key expired at 2026-11-30T12:00:00.0000000Z; KMS key 1234abcd-0000-0000-0000-000000000001 is Disabled" },
        { "expiry wins over an unavailable key store", Inputs(KeyState.Unavailable, expiredAt: ExpiredAt), ConditionStatus.False, Reasons.Expired,
            "the key expired at 2026-11-30T12:00:00.0000000Z; KMS key 1234abcd-0000-0000-0000-000000000001 is Unavailable" },
        { "a key whose store is disconnected is Unavailable", Inputs(KeyState.Unavailable), ConditionStatus.False, Reasons.Unavailable,
            "KMS key 1234abcd-0000-0000-0000-000000000001 is Unavailable: its key store cks-1234567890abcdef0 is not connected" },
        { "an unavailable store wins over a deferred version", Inputs(KeyState.Unavailable, deferred: ("HsmUnavailable", "waits")), ConditionStatus.False, Reasons.Unavailable,
            "KMS key 1234abcd-0000-0000-0000-000000000001 is Unavailable: its key store cks-1234567890abcdef0 is not connected" },
        { "a rotation waiting for the HSM keeps the key serving but not Ready", Inputs(deferred: ("HsmUnavailable", "rotation to key version 4 waits for the HSM")), ConditionStatus.False, "HsmUnavailable",
            "rotation to key version 4 waits for the HSM" },
        { "a deferred version is reported on a disabled key too", Inputs(KeyState.Disabled, enabled: false, deferred: ("HsmLoginFailed", "waits")), ConditionStatus.False, "HsmLoginFailed", "waits" },
    };

    [Theory]
    [MemberData(nameof(ReadyCases))]
    public void Ready_Inputs_DecideStatusReasonAndMessage(string scenario, CloudKeyReadyInputs inputs, string status, string reason, string message)
    {
        var verdict = CloudKeyDecisions.Ready(inputs);

        Assert.True(verdict == new ConditionVerdict(status, reason, message), $"{scenario}: got {verdict}");
    }

    [Fact]
    public void Synced_NothingCorrected_IsInSync() =>
        Assert.Equal(new ConditionVerdict(ConditionStatus.True, Reasons.InSync, "the KMS key matches the spec"), CloudKeyDecisions.Synced([]));

    [Fact]
    public void Synced_CorrectedDrift_IsFalseAndListsEveryCorrection() =>
        Assert.Equal(
            new ConditionVerdict(ConditionStatus.False, Reasons.Drift, "corrected drift: re-enabled; alias restored"),
            CloudKeyDecisions.Synced(["re-enabled", "alias restored"]));

    [Theory]
    [InlineData("Enabled", true, false, false)]
    [InlineData("Enabled", false, false, true)]
    [InlineData("Enabled", true, true, true)]
    [InlineData("Disabled", false, false, false)]
    [InlineData("Disabled", true, true, false)]
    [InlineData("Unavailable", false, false, false)]
    public void AwaitsProxyRefusal_OnlyWhileKmsStillHasTheKeyEnabledAndTheSpecOrExpiryDisablesIt(string state, bool specEnabled, bool expired, bool waits) =>
        Assert.Equal(waits, CloudKeyDecisions.AwaitsProxyRefusal(KeyState.FindValue(state), specEnabled, expired));
}
