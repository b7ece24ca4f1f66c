namespace Xks.Operator.Controllers.Tests;

/// <summary>
/// Ownership by proof, never by name or status: a key store by its proxy credential, a KMS key by its key store and
/// external key, an alias by its target's UID tag, key material by its Secret's backend, KeySet and external key. Each
/// refusal is a Conflict before any call that changes the object.
/// </summary>
public class OwnershipProofTests
{
    private static readonly string[] Ours = ["AKIDCURRENT0000000001", "AKIDPENDING0000000002", "AKIDPREVIOUS000000003"];

    private const string Own = "uid-own";
    private const string LiveOther = "uid-live-other";
    private const string DeletedOther = "uid-deleted-other";

    [Theory]
    [InlineData("our own tag", Own, false, KeyTagVerdict.Owned)]
    [InlineData("our own tag, adopting", Own, true, KeyTagVerdict.Owned)]
    [InlineData("untagged: made before tags, claimed", null, false, KeyTagVerdict.Claim)]
    [InlineData("untagged, adopting", null, true, KeyTagVerdict.Claim)]
    [InlineData("empty tag value", "", false, KeyTagVerdict.Claim)]
    [InlineData("a live CloudKey's key named by status", LiveOther, false, KeyTagVerdict.Refuse)]
    [InlineData("a live CloudKey's key adopted through forged material", LiveOther, true, KeyTagVerdict.Refuse)]
    [InlineData("a deleted CloudKey's key named by status", DeletedOther, false, KeyTagVerdict.Refuse)]
    [InlineData("a deleted CloudKey's retained key adopted", DeletedOther, true, KeyTagVerdict.Claim)]
    public void KeyTagOwnership_UidTag_OnlyOurKeyOrOneNoLiveCloudKeyHolds(string because, string? taggedUid, bool adopting, KeyTagVerdict expected)
    {
        var (verdict, refusal) = CloudKeyOwnershipDecisions.KeyTagOwnership("1234abcd", taggedUid, "team-a/db", Own, adopting, uid => uid == LiveOther || uid == Own);

        Assert.True(expected == verdict, $"{because}: {verdict} ({refusal})");
        Assert.Equal(verdict == KeyTagVerdict.Refuse, refusal is not null);
        if (refusal is not null)
        {
            Assert.StartsWith($"KMS key 1234abcd is tagged as CloudKey team-a/db's (uid {taggedUid}", refusal, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("AKIDCURRENT0000000001", true)]
    [InlineData("AKIDPENDING0000000002", true)]
    [InlineData("AKIDPREVIOUS000000003", true)]
    [InlineData("AKIDTENANTA0000000009", false)]
    [InlineData("akidcurrent0000000001", false)]
    [InlineData(null, false)]
    public void StoreOwnershipRefusal_StoreCredential_ProvesOwnershipOnlyWhenItIsOneOfOurs(string? storeAccessKeyId, bool ours)
    {
        var refusal = KeySetDecisions.StoreOwnershipRefusal("cks-1", "team-a-store", storeAccessKeyId, Ours);

        Assert.Equal(ours, refusal is null);
        if (!ours)
        {
            Assert.StartsWith("custom key store cks-1 (team-a-store) authenticates to its proxy with a credential that is not in this KeySet's credential Secret", refusal, StringComparison.Ordinal);
            // Another store's access key ID is never shown in this KeySet's status and Events.
            Assert.DoesNotContain(storeAccessKeyId ?? "AKID", refusal, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void StoreOwnershipRefusal_NoCredentialsOfOurOwn_RefusesEveryStore() =>
        Assert.NotNull(KeySetDecisions.StoreOwnershipRefusal("cks-1", null, "AKIDCURRENT0000000001", []));

    [Theory]
    [InlineData("cks-ours", "payments-db-0b9e7f10", null)]
    [InlineData("cks-theirs", "payments-db-0b9e7f10", "status.keyId k-1 is in key store cks-theirs with external key payments-db-0b9e7f10, not in cks-ours with payments-db-0b9e7f10")]
    [InlineData("cks-ours", "orders-db-11aa22bb", "status.keyId k-1 is in key store cks-ours with external key orders-db-11aa22bb, not in cks-ours with payments-db-0b9e7f10")]
    [InlineData(null, null, "status.keyId k-1 is in key store (none) with external key (none), not in cks-ours with payments-db-0b9e7f10")]
    public void KeyRefusal_KeyStoreAndExternalKey_MustBothBeThisCloudKeys(string? store, string? externalKey, string? refusal) =>
        Assert.Equal(refusal, CloudKeyOwnershipDecisions.KeyRefusal("status.keyId", "k-1", store, externalKey, "cks-ours", "payments-db-0b9e7f10"));

    [Theory]
    [InlineData("k-old", true, null)]
    [InlineData(null, false, null)]
    [InlineData("k-theirs", false, "alias/payments/db already names KMS key k-theirs, which is not this CloudKey's (it lacks the xks.dev/cloudkey-uid tag with this CloudKey's UID); choose another spec.alias, or move or delete that alias in AWS")]
    public void AliasTakeoverRefusal_AliasOnAnotherKey_MovesOnlyFromAKeyTaggedWithOurUid(string? target, bool taggedWithOurUid, string? refusal) =>
        Assert.Equal(refusal, CloudKeyOwnershipDecisions.AliasTakeoverRefusal("alias/payments/db", target, taggedWithOurUid));

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
        Assert.True(CloudKeyOwnershipDecisions.MaterialRefusal(claim) == refusal, $"{scenario}: got {CloudKeyOwnershipDecisions.MaterialRefusal(claim) ?? "(accepted)"}");

    [Theory]
    [InlineData("cks-1", "ext-1", null)]
    [InlineData("cks-2", "ext-1", "spec.adopt.keyId k-1 is in key store cks-2 with external key ext-1, not in cks-1 with ext-1")]
    [InlineData("cks-1", "ext-2", "spec.adopt.keyId k-1 is in key store cks-1 with external key ext-2, not in cks-1 with ext-1")]
    [InlineData(null, null, "spec.adopt.keyId k-1 is in key store (none) with external key (none), not in cks-1 with ext-1")]
    public void AdoptionRefusal_KeyOutsideOurStoreOrExternalKey_IsRefused(string? keyStore, string? externalKey, string? refusal) =>
        Assert.Equal(refusal, CloudKeyOwnershipDecisions.AdoptionRefusal("k-1", keyStore, externalKey, "cks-1", "ext-1"));
}
