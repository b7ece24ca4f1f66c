using Amazon.KeyManagementService;
using Xks.Operator.Entities;

namespace Xks.Operator.Controllers;

/// <summary>A condition decided before it is written: its status, reason and message.</summary>
public readonly record struct ConditionVerdict(string Status, string Reason, string Message);

/// <summary>What the CloudKey's Ready condition depends on once its KMS key is known, gathered by the reconciler.</summary>
/// <param name="KmsKeyId">The KMS key's ID.</param>
/// <param name="Alias">The alias the key carries, if any.</param>
/// <param name="StoreId">The KeySet's external key store.</param>
/// <param name="XksKeyId">The external key (the key material's ID).</param>
/// <param name="CurrentVersion">The key version new encryptions use.</param>
/// <param name="State">The KMS key's state after this reconcile's enable/disable step.</param>
/// <param name="SpecEnabled">spec.enabled.</param>
/// <param name="ExpiredAt">spec.expiration.at when it has passed; null while the key has not expired.</param>
/// <param name="DeferredVersion">A key version that is due but waits (the HSM), with the reason and message to show.</param>
public sealed record CloudKeyReadyInputs(
    string KmsKeyId,
    string? Alias,
    string StoreId,
    string XksKeyId,
    string CurrentVersion,
    KeyState State,
    bool SpecEnabled,
    DateTime? ExpiredAt,
    (string Reason, string Message)? DeferredVersion);

/// <summary>
/// The CloudKey's pure decisions: the Ready ladder as an ordered rule list (the first rule that applies decides), the
/// Synced condition, when to wait for the proxy before disabling in KMS, and every refusal to use key material or a KMS
/// key that is not this CloudKey's. The reconciler gathers the inputs and acts on the answers.
/// </summary>
internal static class CloudKeyDecisions
{
    private static readonly Func<CloudKeyReadyInputs, ConditionVerdict?>[] ReadyRules =
    [
        // An expired key is refused by the proxy whatever KMS says.
        k => k.ExpiredAt is { } at
            ? new(ConditionStatus.False, Reasons.Expired, $"the key expired at {at:O}; KMS key {k.KmsKeyId} is {k.State}")
            : null,
        k => k.State == KeyState.Unavailable
            ? new(ConditionStatus.False, Reasons.Unavailable, $"KMS key {k.KmsKeyId} is Unavailable: its key store {k.StoreId} is not connected")
            : null,
        // The key serves with the versions it has; the new version waits (for the HSM).
        k => k.DeferredVersion is { } deferred
            ? new(ConditionStatus.False, deferred.Reason, deferred.Message)
            : null,
        k => k.SpecEnabled
            ? new(ConditionStatus.True, Reasons.Enabled, $"KMS key {k.KmsKeyId}{(k.Alias is null ? "" : " (" + k.Alias + ")")} is enabled, backed by {k.XksKeyId} version {k.CurrentVersion}")
            : null,
        k => new(ConditionStatus.True, Reasons.Disabled, $"KMS key {k.KmsKeyId} is disabled as the spec asks: the proxy refuses it and AWS cannot use it"),
    ];

    /// <summary>The Ready condition of a CloudKey whose KMS key is known.</summary>
    public static ConditionVerdict Ready(CloudKeyReadyInputs inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        foreach (var rule in ReadyRules)
        {
            if (rule(inputs) is { } verdict)
            {
                return verdict;
            }
        }

        throw new System.Diagnostics.UnreachableException("the last Ready rule always applies");
    }

    /// <summary>
    /// Why this reconcile must read the KMS key from AWS, or null when the recorded status may stand: resyncs and watch
    /// events of a steady key make no AWS call, so a key costs its drift check (every <paramref name="period"/>) and
    /// nothing more at rest. The first rule that applies decides.
    /// </summary>
    public static string? AwsCheckReason(AwsCheckInputs inputs, DateTimeOffset now, TimeSpan period)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        foreach (var rule in AwsCheckRules)
        {
            if (rule(inputs, now, period) is { } reason)
            {
                return reason;
            }
        }

        return null;
    }

    private static readonly Func<AwsCheckInputs, DateTimeOffset, TimeSpan, string?>[] AwsCheckRules =
    [
        (k, _, _) => k.KeyId is null ? "no KMS key is recorded yet" : null,
        (k, _, _) => k.Generation != k.ObservedGeneration ? "the spec changed" : null,
        (k, _, _) => !k.Ready ? "the key is not Ready" : null,
        (k, _, _) => !k.Synced ? "the last check corrected drift" : null,
        (k, _, _) => k.CheckedAt is null ? "it was never checked" : null,
        (k, now, period) => now - k.CheckedAt >= period ? "its drift check is due" : null,
        // Status times are whole seconds: a transition in the second of the check may have come after it, so it counts.
        (k, _, _) => k.KeySetReadySince >= k.CheckedAt ? "its KeySet changed state since" : null,
        (k, now, _) => k.ExpiresAt <= now && k.ExpiresAt >= k.CheckedAt ? "it expired since" : null,
        (k, _, _) => k.KeyState != (k.WantEnabled ? KeyState.Enabled.Value : KeyState.Disabled.Value) && k.KeyState != KeyState.PendingDeletion.Value
            ? $"its recorded state {k.KeyState ?? "(none)"} is not what the spec asks"
            : null,
        (k, _, _) => k.Alias != k.DesiredAlias ? "its recorded alias is not the spec's" : null,
    ];

    /// <summary>When the next drift check is due, from now; never negative.</summary>
    public static TimeSpan UntilAwsCheck(DateTimeOffset? checkedAt, DateTimeOffset now, TimeSpan period) =>
        checkedAt is { } at && at + period - now is var left && left > TimeSpan.Zero ? left : TimeSpan.Zero;

    /// <summary>
    /// The alias to describe the key through at a drift check, or null to describe it by ID: one DescribeKey through the
    /// alias proves both the key's state and that the alias still names it, so the alias needs no ListAliases of its
    /// own. Only when the key is known and the alias already recorded as the spec's.
    /// </summary>
    public static string? DescribeThroughAlias(string? keyId, string? recordedAlias, string? desiredAlias, bool specChanged) =>
        keyId is not null && !specChanged && desiredAlias is not null && recordedAlias == desiredAlias ? desiredAlias : null;

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
    /// The alias calls for a key: <c>Attach</c> the spec's alias when the key does not carry it (created, or moved back
    /// if another key holds it), <c>Remove</c> the alias the status recorded when the spec no longer names it and the key
    /// still carries it. Other aliases on the key are somebody else's and stay.
    /// </summary>
    public static (string? Attach, string? Remove) PlanAlias(string? desired, IReadOnlySet<string> attached, string? recorded)
    {
        ArgumentNullException.ThrowIfNull(attached);
        return (
            desired is not null && !attached.Contains(desired) ? desired : null,
            recorded is not null && recorded != desired && attached.Contains(recorded) ? recorded : null);
    }

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
    /// Why the CloudKey's alias (<see cref="Resources.CloudKeyNames.AliasName"/>: spec.alias, or metadata.name when
    /// unset) is not a valid KMS alias, or null when it is (or spec.alias is "", no alias). The CRD pattern checks an
    /// explicit spec.alias; a defaulted one comes from a Kubernetes name, which may hold a '.' or be too long.
    /// </summary>
    public static string? AliasProblem(string? specAlias, string name, bool createAlias = true)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!createAlias)
        {
            return string.IsNullOrEmpty(specAlias) ? null : $"spec.alias '{specAlias}' is set but spec.createAlias is false: unset one of them";
        }

        var (alias, source) = specAlias is null ? (name, $"metadata.name '{name}' (the default alias, spec.alias is unset)") : (specAlias, $"spec.alias '{specAlias}'");
        if (alias.Length == 0)
        {
            return null;
        }

        string? fix = specAlias is null ? "; set spec.alias, or spec.createAlias: false for no alias" : null;
        if (alias.StartsWith("aws/", StringComparison.OrdinalIgnoreCase))
        {
            return $"{source} must not start with aws/ (reserved for AWS managed keys){fix}";
        }

        if (alias.Length > 250 || !alias.All(c => char.IsAsciiLetterOrDigit(c) || c is '/' or '_' or '-'))
        {
            return $"{source} is not a valid KMS alias (at most 250 characters of letters, digits, '/', '_' and '-'){fix}";
        }

        return null;
    }

    /// <summary>The description to set on the KMS key, or null when KMS already has it (KMS reports an empty one as null or "").</summary>
    public static string? DescriptionUpdate(string? current, string desired) =>
        (current ?? "") == desired ? null : desired;

    /// <summary>The rotation a CloudKey follows: its own spec.rotation, else its KeySet's spec.defaults.rotation, else none.</summary>
    public static V1Alpha1Rotation? EffectiveRotation(V1Alpha1CloudKey cloudKey, V1Alpha1KeySet? keySet)
    {
        ArgumentNullException.ThrowIfNull(cloudKey);
        return cloudKey.Spec.Rotation ?? keySet?.Spec?.Defaults?.Rotation;
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

    /// <summary>Most user tags a CloudKey may ask for: AWS allows 50 per key, the operator sets <see cref="Resources.CloudKeyNames.Tags"/> (3).</summary>
    public const int MaxUserTags = 47;

    /// <summary>
    /// What is wrong with spec.tags, one message per problem (empty when nothing): AWS's limits (key 1-128 characters,
    /// value 0-256, its character set, no aws: prefix) and the operator's reserved prefix xks.dev/.
    /// </summary>
    public static IReadOnlyList<string> TagProblems(IDictionary<string, string>? tags)
    {
        var problems = new List<string>();
        if (tags is null)
        {
            return problems;
        }

        if (tags.Count > MaxUserTags)
        {
            problems.Add($"spec.tags has {tags.Count} tags; at most {MaxUserTags} (AWS allows 50 per KMS key, the operator sets 3 of its own)");
        }

        foreach (var (key, value) in tags.OrderBy(t => t.Key, StringComparer.Ordinal))
        {
            if (key.Length is < 1 or > 128)
            {
                problems.Add($"spec.tags key '{key}' must be 1 to 128 characters");
            }
            else if (key.StartsWith("aws:", StringComparison.OrdinalIgnoreCase))
            {
                problems.Add($"spec.tags key '{key}' must not start with aws: (reserved by AWS)");
            }
            else if (key.StartsWith(Resources.CloudKeyNames.ReservedTagPrefix, StringComparison.OrdinalIgnoreCase))
            {
                problems.Add($"spec.tags key '{key}' must not start with {Resources.CloudKeyNames.ReservedTagPrefix} (reserved for the operator's own tags: {string.Join(", ", ReservedTagKeys)})");
            }
            else if (!IsTagText(key))
            {
                problems.Add($"spec.tags key '{key}' may only hold letters, digits, spaces and _ . : / = + - @");
            }

            if ((value ?? "").Length > 256)
            {
                problems.Add($"spec.tags value of '{key}' must be at most 256 characters");
            }
            else if (!IsTagText(value ?? ""))
            {
                problems.Add($"spec.tags value of '{key}' may only hold letters, digits, spaces and _ . : / = + - @");
            }
        }

        return problems;
    }

    private static readonly string[] ReservedTagKeys = [Resources.CloudKeyNames.ManagedByTag, Resources.CloudKeyNames.NameTag, Resources.CloudKeyNames.UidTag];

    private static bool IsTagText(string text) =>
        text.All(c => char.IsLetterOrDigit(c) || c == ' ' || c is '_' or '.' or ':' or '/' or '=' or '+' or '-' or '@');

    /// <summary>
    /// The tag calls that bring a KMS key's user tags to spec.tags: <c>Tag</c> what is missing or has another value,
    /// <c>Untag</c> the keys this CloudKey applied before (status.tagKeys) that the spec dropped and the key still
    /// carries. A tag someone added in AWS by hand is never removed; one the spec then names becomes the CloudKey's. Never
    /// touches a reserved (xks.dev/) key. <c>Refusal</c> when the result would exceed AWS's 50 tags per key (nothing is
    /// called then).
    /// </summary>
    /// <param name="current">The tags the KMS key carries now (all of them, the operator's included).</param>
    /// <param name="desired">spec.tags (validated by <see cref="TagProblems"/>).</param>
    /// <param name="applied">status.tagKeys: the user tag keys applied before.</param>
    public static TagPlan PlanTags(IReadOnlyDictionary<string, string> current, IReadOnlyDictionary<string, string> desired, IReadOnlyCollection<string> applied)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(desired);
        ArgumentNullException.ThrowIfNull(applied);
        var tag = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in desired)
        {
            if (!key.StartsWith(Resources.CloudKeyNames.ReservedTagPrefix, StringComparison.OrdinalIgnoreCase)
                && (!current.TryGetValue(key, out var now) || now != value))
            {
                tag[key] = value;
            }
        }

        var untag = applied
            .Where(key => !desired.ContainsKey(key) && current.ContainsKey(key) && !key.StartsWith(Resources.CloudKeyNames.ReservedTagPrefix, StringComparison.OrdinalIgnoreCase))
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)
            .ToList();
        var after = current.Keys.Except(untag, StringComparer.Ordinal).Union(tag.Keys, StringComparer.Ordinal).Count();
        if (after > 50 && (tag.Count > 0 || untag.Count > 0))
        {
            var byHand = current.Keys.Count(k => !desired.ContainsKey(k) && !applied.Contains(k) && !k.StartsWith(Resources.CloudKeyNames.ReservedTagPrefix, StringComparison.OrdinalIgnoreCase));
            return new TagPlan(new Dictionary<string, string>(), [],
                $"spec.tags would leave the KMS key with {after} tags, AWS allows 50 ({byHand} of them were added in AWS by hand and are left alone); remove some");
        }

        return new TagPlan(tag, untag, null);
    }

    /// <summary>The Synced condition after drift correction: True when nothing had to be corrected.</summary>
    public static ConditionVerdict Synced(IReadOnlyCollection<string> corrected) => corrected.Count == 0
        ? new(ConditionStatus.True, Reasons.InSync, "the KMS key matches the spec")
        : new(ConditionStatus.False, Reasons.Drift, "corrected drift: " + string.Join("; ", corrected));

    /// <summary>
    /// True when KMS still has the key enabled but the spec (or expiration) disables it: the proxy must refuse it first
    /// (the Vault renders it disabled), so the reconciler waits rather than calling DisableKey in the same pass.
    /// </summary>
    public static bool AwaitsProxyRefusal(KeyState state, bool specEnabled, bool expired) =>
        state == KeyState.Enabled && (!specEnabled || expired);

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

/// <summary>What the KMS key's state plan starts from (<see cref="CloudKeyDecisions.PlanKeyState"/>).</summary>
/// <param name="State">The state KMS reports now.</param>
/// <param name="RecordedState">status.keyState: what the operator left it in last time.</param>
/// <param name="SpecEnabled">spec.enabled.</param>
/// <param name="Expired">spec.expiration.at has passed.</param>
/// <param name="ScheduleDeletionOnExpiry">spec.expiration.action is ScheduleDeletion.</param>
/// <param name="ProxyRefuses">The Vault's served config already has the key disabled.</param>
/// <param name="Unexpired">The key was marked expired and no longer is (<see cref="CloudKeyDecisions.PlanExpiry"/>): a deletion or disable it finds is the expiry's, undone as the spec asks, not drift.</param>
public sealed record KeyStateInputs(KeyState State, string? RecordedState, bool SpecEnabled, bool Expired, bool ScheduleDeletionOnExpiry, bool ProxyRefuses, bool Unexpired = false);

/// <summary>The tag calls for a KMS key's user tags (<see cref="CloudKeyDecisions.PlanTags"/>), or why none may be made.</summary>
/// <param name="Tag">Tags to add or change (TagResource), by key.</param>
/// <param name="Untag">Keys to remove (UntagResource).</param>
/// <param name="Refusal">Why spec.tags cannot be applied (AWS's 50-tag limit), or null.</param>
public sealed record TagPlan(IReadOnlyDictionary<string, string> Tag, IReadOnlyList<string> Untag, string? Refusal);

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

/// <summary>What decides whether a CloudKey reconcile reads its KMS key from AWS (<see cref="CloudKeyDecisions.AwsCheckReason"/>).</summary>
/// <param name="KeyId">status.keyId.</param>
/// <param name="Generation">metadata.generation.</param>
/// <param name="ObservedGeneration">status.observedGeneration before this reconcile.</param>
/// <param name="Ready">Ready is True.</param>
/// <param name="Synced">Synced is True.</param>
/// <param name="CheckedAt">status.lastAwsCheckTime.</param>
/// <param name="KeyState">status.keyState.</param>
/// <param name="WantEnabled">spec.enabled and not expired.</param>
/// <param name="Alias">status.alias.</param>
/// <param name="DesiredAlias">The alias the spec asks for (alias/ prefixed), if any.</param>
/// <param name="KeySetReadySince">When the KeySet's Ready condition last changed.</param>
/// <param name="ExpiresAt">spec.expiration.at, if any.</param>
public sealed record AwsCheckInputs(
    string? KeyId,
    long? Generation,
    long? ObservedGeneration,
    bool Ready,
    bool Synced,
    DateTimeOffset? CheckedAt,
    string? KeyState,
    bool WantEnabled,
    string? Alias,
    string? DesiredAlias,
    DateTimeOffset? KeySetReadySince,
    DateTimeOffset? ExpiresAt);

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

/// <summary>What the CloudKey UID tag on a KMS key allows (<see cref="CloudKeyDecisions.KeyTagOwnership"/>).</summary>
public enum KeyTagVerdict
{
    /// <summary>Tagged with this CloudKey's UID.</summary>
    Owned,

    /// <summary>Untagged, or retained by a deleted CloudKey and adopted: tag it with this CloudKey's UID, then act.</summary>
    Claim,

    /// <summary>Another CloudKey's: Conflict, no call that changes it.</summary>
    Refuse,
}
