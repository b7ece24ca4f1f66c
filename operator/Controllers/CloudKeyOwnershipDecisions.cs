namespace Xks.Operator.Controllers;

/// <summary>
/// Every refusal to use key material or a KMS key that is not this CloudKey's: ownership is proven by the key store and
/// external key, the CloudKey UID tag and the material Secret, never by name or status.
/// </summary>
internal static class CloudKeyOwnershipDecisions
{
    /// <summary>
    /// Why the spec's alias, found on another KMS key, may not be moved to this CloudKey's key, or null when it may: only
    /// when that key carries this CloudKey's UID tag (an earlier key of this CloudKey). An alias on anybody else's key is
    /// theirs — moving it would make their applications encrypt under this key — so it is a Conflict, never a move.
    /// </summary>
    public static string? AliasTakeoverRefusal(string alias, string? targetKeyId, bool targetCarriesOurUid) =>
        targetKeyId is null || targetCarriesOurUid
            ? null
            : $"{alias} already names KMS key {targetKeyId}, which is not this CloudKey's (it lacks the {Resources.CloudKeyNames.UidTag} tag with this CloudKey's UID); choose another spec.alias, or move or delete that alias in AWS";

    /// <summary>
    /// Why this CloudKey may not use the key material Secret it found under its name, or null when it may. The Secret is
    /// then left untouched and the CloudKey reports Conflict: material is never repurposed silently.
    /// </summary>
    public static string? MaterialRefusal(KeyMaterialClaim claim)
    {
        ArgumentNullException.ThrowIfNull(claim);
        if (claim.MaterialBackend != claim.VaultBackend)
        {
            return $"key material Secret {claim.SecretName} holds {claim.MaterialBackend} key versions, but Vault {claim.VaultName} now uses the {claim.VaultBackend} backend; a Vault's keyBackend cannot change under existing keys — set it back";
        }

        if (claim.OwnerKeySet is { } owner && owner != claim.KeySetName)
        {
            return $"spec.keySetRef cannot change: the key material lives in KeySet {owner}'s key store (Secret {claim.SecretName}); create a new CloudKey for KeySet {claim.KeySetName}";
        }

        // Material of an earlier CloudKey of the same name (kept by deletionPolicy Retain): only spec.adopt with that
        // KMS key takes it over, so a new CloudKey can never silently inherit somebody's key.
        if (claim.MaterialKeyId != claim.ExpectedKeyId && !NamesKey(claim.AdoptKeyId, claim.KmsKeyOfMaterial))
        {
            return $"key material Secret {claim.SecretName} belongs to an earlier CloudKey (external key {claim.MaterialKeyId}{(claim.KmsKeyOfMaterial is null ? "" : ", KMS key " + claim.KmsKeyOfMaterial)}); set spec.adopt.keyId to that KMS key to take it over, or choose another name";
        }

        return null;
    }

    /// <summary>
    /// Who may change a KMS key that passed the store and external-key proof (<see cref="KeyRefusal"/>), by the
    /// CloudKey UID tag it carries: this CloudKey's → <see cref="KeyTagVerdict.Owned"/>; none (a key made before the
    /// operator tagged, or adopted before it tagged adoptions) → <see cref="KeyTagVerdict.Claim"/> (tag it, then act);
    /// another CloudKey's → refused, unless this CloudKey adopts it explicitly (spec.adopt) and that CloudKey no longer
    /// exists (a key it retained). The key store and the key material can be forged together by someone who writes
    /// Secrets and KeySet status; the tag of a live CloudKey cannot be taken over that way.
    /// </summary>
    /// <param name="keyId">The KMS key.</param>
    /// <param name="taggedUid">The value of its <c>xks.dev/cloudkey-uid</c> tag, or null.</param>
    /// <param name="taggedName">The value of its <c>xks.dev/cloudkey</c> tag (namespace/name), for the message.</param>
    /// <param name="ownUid">This CloudKey's UID.</param>
    /// <param name="adopting">This CloudKey adopts the key through spec.adopt.keyId.</param>
    /// <param name="isLiveCloudKey">Whether a CloudKey with this UID exists.</param>
    public static (KeyTagVerdict Verdict, string? Refusal) KeyTagOwnership(string keyId, string? taggedUid, string? taggedName, string ownUid, bool adopting, Func<string, bool> isLiveCloudKey)
    {
        ArgumentNullException.ThrowIfNull(isLiveCloudKey);
        if (taggedUid == ownUid)
        {
            return (KeyTagVerdict.Owned, null);
        }

        if (string.IsNullOrEmpty(taggedUid))
        {
            return (KeyTagVerdict.Claim, null);
        }

        var live = isLiveCloudKey(taggedUid);
        if (adopting && !live)
        {
            return (KeyTagVerdict.Claim, null);
        }

        return (KeyTagVerdict.Refuse,
            $"KMS key {keyId} is tagged as CloudKey {taggedName ?? "(unnamed)"}'s (uid {taggedUid}{(live ? ", which exists" : ", deleted: take it over with spec.adopt.keyId")}); a CloudKey changes only its own key");
    }

    /// <summary>Why the KMS key named in spec.adopt may not be adopted, or null when it is in our store with our external key.</summary>
    public static string? AdoptionRefusal(string adopt, string? keyStoreOfKey, string? externalKeyOfKey, string storeId, string xksKeyId) =>
        KeyRefusal("spec.adopt.keyId", adopt, keyStoreOfKey, externalKeyOfKey, storeId, xksKeyId);

    /// <summary>
    /// Why the KMS key this reconcile found (by status.keyId, its alias or a create) may not be acted on, or null when it
    /// is in this CloudKey's key store with this CloudKey's external key. That pair is the proof of ownership KMS itself
    /// guarantees (one key per external key in a store, the store proven the KeySet's): status is a cache anyone with
    /// <c>cloudkeys/status</c> can write, never an authority, so a key named there is checked before every call that
    /// changes it.
    /// </summary>
    public static string? KeyRefusal(string source, string keyId, string? keyStoreOfKey, string? externalKeyOfKey, string storeId, string xksKeyId) =>
        keyStoreOfKey == storeId && externalKeyOfKey == xksKeyId
            ? null
            : $"{source} {keyId} is in key store {keyStoreOfKey ?? "(none)"} with external key {externalKeyOfKey ?? "(none)"}, not in {storeId} with {xksKeyId}";

    /// <summary>True when <paramref name="adopt"/> (a key ID or ARN) names <paramref name="kmsKeyId"/>.</summary>
    private static bool NamesKey(string? adopt, string? kmsKeyId) =>
        adopt is not null && kmsKeyId is not null && (adopt == kmsKeyId || adopt.EndsWith("/" + kmsKeyId, StringComparison.Ordinal));
}

/// <summary>A CloudKey's claim on the key material Secret under its name, as read from that Secret and the spec.</summary>
/// <param name="SecretName">The material Secret.</param>
/// <param name="MaterialBackend">The backend the Secret's versions are for.</param>
/// <param name="VaultBackend">The backend the Vault uses now.</param>
/// <param name="VaultName">The Vault.</param>
/// <param name="OwnerKeySet">The KeySet the Secret is labelled with, if any.</param>
/// <param name="KeySetName">The KeySet the CloudKey names.</param>
/// <param name="MaterialKeyId">The external key ID in the Secret.</param>
/// <param name="ExpectedKeyId">The external key ID this CloudKey derives from its UID.</param>
/// <param name="KmsKeyOfMaterial">The KMS key the Secret was last used by (its annotation), if any.</param>
/// <param name="AdoptKeyId">spec.adopt.keyId, if any.</param>
public sealed record KeyMaterialClaim(
    string SecretName,
    string MaterialBackend,
    string VaultBackend,
    string VaultName,
    string? OwnerKeySet,
    string KeySetName,
    string MaterialKeyId,
    string ExpectedKeyId,
    string? KmsKeyOfMaterial,
    string? AdoptKeyId);

/// <summary>What the CloudKey UID tag on a KMS key allows (<see cref="CloudKeyOwnershipDecisions.KeyTagOwnership"/>).</summary>
public enum KeyTagVerdict
{
    /// <summary>Tagged with this CloudKey's UID.</summary>
    Owned,

    /// <summary>Untagged, or retained by a deleted CloudKey and adopted: tag it with this CloudKey's UID, then act.</summary>
    Claim,

    /// <summary>Another CloudKey's: Conflict, no call that changes it.</summary>
    Refuse,
}
