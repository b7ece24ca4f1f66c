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

    private static KeyMaterialClaim Claim(
        string materialBackend = "software", string vaultBackend = "software", string? ownerKeySet = "payments", string materialKeyId = "payments-db-ours",
        string? kmsKeyOfMaterial = null, string? adopt = null) =>
        new("payments-db-key-material", materialBackend, vaultBackend, "xks", ownerKeySet, "payments", materialKeyId, "payments-db-ours", kmsKeyOfMaterial, adopt);

    public static TheoryData<string, KeyMaterialClaim, string?> MaterialCases => new()
    {
        { "our own material is ours", Claim(), null },
        { "material of a Secret without a KeySet label (older operator) is ours", Claim(ownerKeySet: null), null },
        { "material of another backend is refused", Claim(materialBackend: "pkcs11"),
            "key material Secret payments-db-key-material holds pkcs11 key versions, but Vault xks now uses the software backend; a Vault's keyBackend cannot change under existing keys — set it back" },
        { "a changed keySetRef is refused", Claim(ownerKeySet: "ledger"),
            "spec.keySetRef cannot change: the key material lives in KeySet ledger's key store (Secret payments-db-key-material); create a new CloudKey for KeySet payments" },
        { "an earlier CloudKey's material is refused without spec.adopt", Claim(materialKeyId: "payments-db-earlier", kmsKeyOfMaterial: "k-1"),
            "key material Secret payments-db-key-material belongs to an earlier CloudKey (external key payments-db-earlier, KMS key k-1); set spec.adopt.keyId to that KMS key to take it over, or choose another name" },
        { "an earlier CloudKey's material is refused when spec.adopt names another KMS key", Claim(materialKeyId: "payments-db-earlier", kmsKeyOfMaterial: "k-1", adopt: "k-2"),
            "key material Secret payments-db-key-material belongs to an earlier CloudKey (external key payments-db-earlier, KMS key k-1); set spec.adopt.keyId to that KMS key to take it over, or choose another name" },
        { "an earlier CloudKey's material that never had a KMS key cannot be adopted", Claim(materialKeyId: "payments-db-earlier", adopt: "k-1"),
            "key material Secret payments-db-key-material belongs to an earlier CloudKey (external key payments-db-earlier); set spec.adopt.keyId to that KMS key to take it over, or choose another name" },
        { "a key ID whose suffix only looks alike is not that key", Claim(materialKeyId: "payments-db-earlier", kmsKeyOfMaterial: "k-1", adopt: "arn:aws:kms:eu-west-1:111122223333:key/xk-1"),
            "key material Secret payments-db-key-material belongs to an earlier CloudKey (external key payments-db-earlier, KMS key k-1); set spec.adopt.keyId to that KMS key to take it over, or choose another name" },
        { "an earlier CloudKey's material is taken over by spec.adopt with its KMS key ID", Claim(materialKeyId: "payments-db-earlier", kmsKeyOfMaterial: "k-1", adopt: "k-1"), null },
        { "an earlier CloudKey's material is taken over by spec.adopt with its KMS key ARN", Claim(materialKeyId: "payments-db-earlier", kmsKeyOfMaterial: "k-1", adopt: "arn:aws:kms:eu-west-1:111122223333:key/k-1"), null },
        { "the backend check comes before the ownership check", Claim(materialBackend: "pkcs11", ownerKeySet: "ledger"),
            "key material Secret payments-db-key-material holds pkcs11 key versions, but Vault xks now uses the software backend; a Vault's keyBackend cannot change under existing keys — set it back" },
    };

    [Theory]
    [MemberData(nameof(MaterialCases))]
    public void MaterialRefusal_Claim_RefusesEverythingThatIsNotThisCloudKeys(string scenario, KeyMaterialClaim claim, string? refusal) =>
        Assert.True(CloudKeyDecisions.MaterialRefusal(claim) == refusal, $"{scenario}: got {CloudKeyDecisions.MaterialRefusal(claim) ?? "(accepted)"}");

    [Theory]
    [InlineData("cks-1", "ext-1", null)]
    [InlineData("cks-2", "ext-1", "spec.adopt.keyId k-1 is in key store cks-2 with external key ext-1, not in cks-1 with ext-1")]
    [InlineData("cks-1", "ext-2", "spec.adopt.keyId k-1 is in key store cks-1 with external key ext-2, not in cks-1 with ext-1")]
    [InlineData(null, null, "spec.adopt.keyId k-1 is in key store (none) with external key (none), not in cks-1 with ext-1")]
    public void AdoptionRefusal_KeyOutsideOurStoreOrExternalKey_IsRefused(string? keyStore, string? externalKey, string? refusal) =>
        Assert.Equal(refusal, CloudKeyDecisions.AdoptionRefusal("k-1", keyStore, externalKey, "cks-1", "ext-1"));

    [Theory]
    [InlineData("alias/a", "", null, "alias/a", null)]
    [InlineData("alias/a", "alias/a", "alias/a", null, null)]
    [InlineData("alias/a", "alias/other-team", "alias/a", "alias/a", null)]
    [InlineData("alias/b", "alias/a", "alias/a", "alias/b", "alias/a")]
    [InlineData("alias/b", "alias/b,alias/a", "alias/a", null, "alias/a")]
    [InlineData(null, "alias/a", "alias/a", null, "alias/a")]
    [InlineData(null, "alias/someone-elses", null, null, null)]
    [InlineData("alias/b", "", "alias/a", "alias/b", null)]
    public void PlanAlias_DesiredAttachedRecorded_AttachesTheSpecsAndRemovesOnlyTheOneItRecorded(string? desired, string attached, string? recorded, string? attach, string? remove)
    {
        var names = attached.Split(',', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);

        Assert.Equal((attach, remove), CloudKeyDecisions.PlanAlias(desired, names, recorded));
    }
}
