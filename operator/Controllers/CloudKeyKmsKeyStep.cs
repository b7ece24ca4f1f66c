using System.Net;
using Amazon.KeyManagementService;
using Amazon.KeyManagementService.Model;
using Amazon.Runtime;
using Xks.Operator.Api;
using Xks.Operator.Aws;
using Xks.Operator.Entities;
using Xks.Operator.Resources;

namespace Xks.Operator.Controllers;

/// <summary>
/// The KMS steps of a CloudKey, each re-checking ownership before it mutates: the key found (status, spec.adopt, alias
/// plus UID tag, UID tag after XksKeyAlreadyInUse) or created, its enabled state (the HYOK switch, expiration and its
/// reversal, drift undone), its alias, key policy, description and user tags. What to refuse is decided by
/// <see cref="CloudKeyOwnershipDecisions"/>.
/// </summary>
internal sealed class CloudKeyKmsKeyStep(CustomResourceWriter writer, EventRecorder events, ILogger logger, Func<string, bool> isLiveCloudKey)
{
    /// <summary>The UID-tag proof of <paramref name="keyId"/> for this reconcile, read before the first call that changes the key.</summary>
    /// <paramref name="proven"/>: this reconcile already saw the key carry this CloudKey's UID tag (it created or found it so).
    public KmsKeyProof Proof(V1Alpha1CloudKey key, string keyId, AwsSession session, bool adopting = false, bool proven = false) => new(this, key, keyId, session, adopting, proven);

    /// <summary>
    /// Finds the KMS key (status, adopt, alias with our UID tag, then the UID tag) or creates it; <c>TagProven</c> when
    /// this call saw it carry this CloudKey's UID tag (created, found by it, or adopted and tagged).
    /// </summary>
    public async Task<(KeyMetadata? Key, bool TagProven)> FindOrCreateAsync(V1Alpha1CloudKey key, V1Alpha1CloudKeyStatus status, string storeId, string xksKeyId, string accountId, AwsSession session, CancellationToken cancellationToken)
    {
        if (status.KeyId is { } known)
        {
            return (await DescribeAsync(session, known, cancellationToken).ConfigureAwait(false), false);
        }

        if (key.Spec.Adopt?.KeyId is { } adopt)
        {
            var adopted = await DescribeAsync(session, adopt, cancellationToken).ConfigureAwait(false)
                ?? throw new ChildConflictException($"spec.adopt.keyId {adopt} does not exist in AWS KMS");
            if (CloudKeyOwnershipDecisions.AdoptionRefusal(adopt, adopted.CustomKeyStoreId, adopted.XksKeyConfiguration?.Id, storeId, xksKeyId) is { } refused)
            {
                throw new ChildConflictException(refused);
            }

            // Store and external key can be forged together (KeySet status, key material); a live CloudKey's tag cannot.
            await Proof(key, adopted.KeyId, session, adopting: true).EnsureAsync(cancellationToken).ConfigureAwait(false);

            await RecordKeyAsync(key, status, adopted, Reasons.Adopted, $"Adopted KMS key {adopted.KeyId} named in spec.adopt", cancellationToken).ConfigureAwait(false);
            return (adopted, true);
        }

        // The alias is one call; it names our key unless a crash came between CreateKey and CreateAlias.
        if (CloudKeyNames.AliasName(key) is { } alias && await DescribeAsync(session, alias, cancellationToken).ConfigureAwait(false) is { } aliased
            && await IsOwnedAsync(key, aliased.KeyId, session, cancellationToken).ConfigureAwait(false))
        {
            await RecordKeyAsync(key, status, aliased, Reasons.Adopted, $"Found KMS key {aliased.KeyId} an earlier attempt created (its alias and its UID tag); adopted it", cancellationToken).ConfigureAwait(false);
            return (aliased, true);
        }

        // The key policy names the account root in the account's partition (aws, aws-us-gov, aws-cn): the one the
        // credentials live in, as STS says. Asked only here, once per key created; later reconciles read the key's ARN.
        var caller = await session.CallStsAsync("GetCallerIdentity", (sts, ct) => sts.GetCallerIdentityAsync(new Amazon.SecurityToken.Model.GetCallerIdentityRequest(), ct), cancellationToken).ConfigureAwait(false);
        var partition = AwsArns.PartitionOf(caller.Arn);
        CreateKeyResponse created;
        try
        {
            created = await session.CallAsync("CreateKey", (kms, ct) => kms.CreateKeyAsync(new CreateKeyRequest
            {
                Origin = OriginType.EXTERNAL_KEY_STORE,
                CustomKeyStoreId = storeId,
                XksKeyId = xksKeyId,
                KeySpec = KeySpec.SYMMETRIC_DEFAULT,
                KeyUsage = KeyUsageType.ENCRYPT_DECRYPT,
                Description = CloudKeyNames.Description(key),
                Policy = KeyPolicyBuilder.Build(partition, accountId, key.Spec.Administrators, key.Spec.Users, key.Spec.KeyPolicy),
                // The user's tags go in with the operator's (spec.tags is validated: no reserved key), so a new key needs no TagResource.
                Tags = [.. CloudKeyNames.Tags(key).Concat(key.Spec.Tags ?? new Dictionary<string, string>()).Select(t => new Tag { TagKey = t.Key, TagValue = t.Value })],
            }, ct), cancellationToken).ConfigureAwait(false);
        }
        catch (XksKeyAlreadyInUseException)
        {
            // KMS allows one key per external key in a store, and our external key ID is derived from this CloudKey's
            // UID: an earlier attempt created the key and crashed before recording it. Find it by its UID tag.
            var found = await FindTaggedKeyAsync(key, session, cancellationToken).ConfigureAwait(false)
                ?? throw new ChildConflictException($"external key {xksKeyId} is already used by a KMS key in key store {storeId} that is not tagged with this CloudKey's UID; adopt it with spec.adopt.keyId");
            await RecordKeyAsync(key, status, found, Reasons.Adopted, $"Found KMS key {found.KeyId} an earlier attempt created (tagged with this CloudKey's UID); adopted it", cancellationToken).ConfigureAwait(false);
            return (found, true);
        }

        CloudKeyController.Log.KeyCreated(logger, key.Metadata.NamespaceProperty, key.Metadata.Name, created.KeyMetadata.KeyId, xksKeyId);
        status.TagKeys = AppliedTagKeys(key);
        await RecordKeyAsync(key, status, created.KeyMetadata, Reasons.Created, $"Created KMS key {created.KeyMetadata.KeyId} in key store {storeId} backed by external key {xksKeyId}", cancellationToken).ConfigureAwait(false);
        return (created.KeyMetadata, true);
    }

    /// <summary>Records the key ID in status at once, so every later reconcile goes straight to it.</summary>
    private async Task RecordKeyAsync(V1Alpha1CloudKey key, V1Alpha1CloudKeyStatus status, KeyMetadata metadata, string reason, string message, CancellationToken cancellationToken)
    {
        status.KeyId = metadata.KeyId;
        status.Arn = metadata.Arn;
        status.KeyState = metadata.KeyState?.Value;
        await writer.WriteStatusAsync(key, CustomResourceWriter.CopyOf(status), cancellationToken).ConfigureAwait(false);
        await events.NormalAsync(key, reason, message, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The KMS key tagged with this CloudKey's UID, by listing the account's keys and their tags: only after KMS said our
    /// external key is already in use, so the scan runs once in a crash's aftermath, never on the normal path.
    /// </summary>
    private async Task<KeyMetadata?> FindTaggedKeyAsync(V1Alpha1CloudKey key, AwsSession session, CancellationToken cancellationToken)
    {
        string? marker = null;
        do
        {
            var page = await session.CallAsync("ListKeys", (kms, ct) => kms.ListKeysAsync(new ListKeysRequest { Marker = marker, Limit = 1000 }, ct), cancellationToken).ConfigureAwait(false);
            foreach (var entry in page.Keys ?? [])
            {
                if (await IsOwnedAsync(key, entry.KeyId, session, cancellationToken).ConfigureAwait(false))
                {
                    return await DescribeAsync(session, entry.KeyId, cancellationToken).ConfigureAwait(false);
                }
            }

            marker = page.Truncated == true ? page.NextMarker : null;
        }
        while (marker is not null);
        return null;
    }

    private async Task<bool> IsOwnedAsync(V1Alpha1CloudKey key, string keyId, AwsSession session, CancellationToken cancellationToken)
    {
        try
        {
            var tags = await session.CallAsync("ListResourceTags", (kms, ct) => kms.ListResourceTagsAsync(new ListResourceTagsRequest { KeyId = keyId }, ct), cancellationToken).ConfigureAwait(false);
            return (tags.Tags ?? []).Any(t => t.TagKey == CloudKeyNames.UidTag && t.TagValue == key.Metadata.Uid);
        }
        catch (Exception ex) when (ex is NotFoundException or AmazonServiceException { StatusCode: HttpStatusCode.BadRequest, ErrorCode: "AccessDeniedException" })
        {
            return false; // not ours to look at (e.g. an AWS managed key)
        }
    }

    /// <summary>
    /// Reads the key's tags and acts on <see cref="CloudKeyOwnershipDecisions.KeyTagOwnership"/>: another CloudKey's key is a
    /// Conflict; an untagged one (or one a deleted CloudKey retained, when adopted) is tagged with this CloudKey's UID.
    /// </summary>
    internal async Task ProveAsync(V1Alpha1CloudKey key, string keyId, AwsSession session, bool adopting, CancellationToken cancellationToken)
    {
        ListResourceTagsResponse listed;
        try
        {
            listed = await session.CallAsync("ListResourceTags", (kms, ct) => kms.ListResourceTagsAsync(new ListResourceTagsRequest { KeyId = keyId }, ct), cancellationToken).ConfigureAwait(false);
        }
        catch (AmazonServiceException ex) when (ex.ErrorCode == "AccessDeniedException")
        {
            throw new ChildConflictException($"the tags of KMS key {keyId} cannot be read (AccessDenied), so it cannot be proven this CloudKey's; nothing is changed on it");
        }

        var tags = listed.Tags ?? [];
        var uid = tags.FirstOrDefault(t => t.TagKey == CloudKeyNames.UidTag)?.TagValue;
        var (verdict, refusal) = CloudKeyOwnershipDecisions.KeyTagOwnership(keyId, uid, tags.FirstOrDefault(t => t.TagKey == CloudKeyNames.NameTag)?.TagValue, key.Metadata.Uid, adopting, isLiveCloudKey);
        switch (verdict)
        {
            case KeyTagVerdict.Refuse:
                throw new ChildConflictException(refusal!);
            case KeyTagVerdict.Claim:
                await session.CallAsync("TagResource", (kms, ct) => kms.TagResourceAsync(new TagResourceRequest
                {
                    KeyId = keyId,
                    Tags = [.. CloudKeyNames.Tags(key).Select(t => new Tag { TagKey = t.Key, TagValue = t.Value })],
                }, ct), cancellationToken).ConfigureAwait(false);
                await events.NormalAsync(key, Reasons.Adopted, $"Tagged KMS key {keyId} with this CloudKey's UID (it carried {(uid is null ? "none" : "the UID of a deleted CloudKey")})", cancellationToken).ConfigureAwait(false);
                break;
        }
    }

    /// <summary>Enabled/disabled as the spec and expiration ask (<see cref="CloudKeyKeyStateDecisions.PlanKeyState"/>); a change made in AWS by hand is reported and undone.</summary>
    public async Task<KeyState> ConvergeStateAsync(V1Alpha1CloudKey key, V1Alpha1CloudKeyStatus status, KeyMetadata metadata, (bool Expired, bool Unexpired) expiry, bool proxyRefuses, List<string> drift, AwsSession session, KmsKeyProof proof, CancellationToken cancellationToken)
    {
        var keyId = metadata.KeyId;
        var (expired, unexpired) = expiry;
        var plan = CloudKeyKeyStateDecisions.PlanKeyState(new KeyStateInputs(
            metadata.KeyState, status.KeyState, key.Spec.Enabled, expired, key.Spec.Expiration?.Action == V1Alpha1ExpirationAction.ScheduleDeletion, proxyRefuses, unexpired));
        foreach (var action in plan.Actions)
        {
            await proof.EnsureAsync(cancellationToken).ConfigureAwait(false);
            switch (action)
            {
                case KeyStateAction.CancelDeletion:
                    await session.CallAsync("CancelKeyDeletion", (kms, ct) => kms.CancelKeyDeletionAsync(new CancelKeyDeletionRequest { KeyId = keyId }, ct), cancellationToken).ConfigureAwait(false);
                    await (unexpired
                        ? events.NormalAsync(key, Reasons.Unexpired, $"The expiration moved later: cancelled the deletion of KMS key {keyId} its expiry had scheduled (AWS leaves it Disabled)", cancellationToken)
                        : events.WarningAsync(key, Reasons.Drift, $"KMS key {keyId} was scheduled for deletion outside the operator; cancelled the deletion", cancellationToken)).ConfigureAwait(false);
                    break;
                case KeyStateAction.ScheduleDeletion:
                    await session.CallAsync("ScheduleKeyDeletion", (kms, ct) => kms.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = keyId, PendingWindowInDays = key.Spec.PendingWindowDays }, ct), cancellationToken).ConfigureAwait(false);
                    await events.NormalAsync(key, Reasons.Expired, $"The key expired: scheduled KMS key {keyId} for deletion in {key.Spec.PendingWindowDays} days", cancellationToken).ConfigureAwait(false);
                    break;
                case KeyStateAction.Enable:
                    await session.CallAsync("EnableKey", (kms, ct) => kms.EnableKeyAsync(new EnableKeyRequest { KeyId = keyId }, ct), cancellationToken).ConfigureAwait(false);
                    await (status.KeyState == KeyState.Enabled.Value
                        ? events.WarningAsync(key, Reasons.Drift, $"KMS key {keyId} was disabled outside the operator; re-enabled it (spec.enabled is true)", cancellationToken)
                        : unexpired
                            ? events.NormalAsync(key, Reasons.Unexpired, $"The expiration moved later: enabled KMS key {keyId} again", cancellationToken)
                            : events.NormalAsync(key, Reasons.Enabled, $"Enabled KMS key {keyId}", cancellationToken)).ConfigureAwait(false);
                    break;
                case KeyStateAction.Disable:
                    await session.CallAsync("DisableKey", (kms, ct) => kms.DisableKeyAsync(new DisableKeyRequest { KeyId = keyId }, ct), cancellationToken).ConfigureAwait(false);
                    await events.NormalAsync(key, expired ? Reasons.Expired : Reasons.Disabled, $"Disabled KMS key {keyId}{(expired ? ": the key expired" : "")}", cancellationToken).ConfigureAwait(false);
                    break;
            }
        }

        drift.AddRange(plan.Drift);
        return plan.Result;
    }

    /// <summary>alias/&lt;spec.alias&gt; on this key: created, moved back if pointed elsewhere by hand, the old one removed on rename.</summary>
    public async Task<string?> ConvergeAliasAsync(V1Alpha1CloudKey key, V1Alpha1CloudKeyStatus status, string keyId, List<string> drift, AwsSession session, KmsKeyProof proof, CancellationToken cancellationToken)
    {
        var desired = CloudKeyNames.AliasName(key);
        var attached = await session.CallAsync("ListAliases", (kms, ct) => kms.ListAliasesAsync(new ListAliasesRequest { KeyId = keyId }, ct), cancellationToken).ConfigureAwait(false);
        var names = (attached.Aliases ?? []).Select(a => a.AliasName).ToHashSet(StringComparer.Ordinal);
        var (attach, remove) = CloudKeySettingsDecisions.PlanAlias(desired, names, status.Alias);
        if (attach is not null || remove is not null)
        {
            await proof.EnsureAsync(cancellationToken).ConfigureAwait(false);
        }

        if (attach is not null)
        {
            try
            {
                await session.CallAsync("CreateAlias", (kms, ct) => kms.CreateAliasAsync(new CreateAliasRequest { AliasName = desired, TargetKeyId = keyId }, ct), cancellationToken).ConfigureAwait(false);
                await events.NormalAsync(key, Reasons.Created, $"Created alias {desired} for KMS key {keyId}", cancellationToken).ConfigureAwait(false);
            }
            catch (AlreadyExistsException)
            {
                var target = await DescribeAsync(session, attach, cancellationToken).ConfigureAwait(false);
                var owned = target is not null && await IsOwnedAsync(key, target.KeyId, session, cancellationToken).ConfigureAwait(false);
                if (CloudKeyOwnershipDecisions.AliasTakeoverRefusal(attach, target?.KeyId, owned) is { } refused)
                {
                    throw new ChildConflictException(refused);
                }

                await session.CallAsync("UpdateAlias", (kms, ct) => kms.UpdateAliasAsync(new UpdateAliasRequest { AliasName = desired, TargetKeyId = keyId }, ct), cancellationToken).ConfigureAwait(false);
                var message = $"alias {desired} pointed to another KMS key; moved it back to {keyId}";
                if (status.Alias == desired)
                {
                    drift.Add(message);
                }

                await events.WarningAsync(key, Reasons.Drift, message, cancellationToken).ConfigureAwait(false);
            }
        }

        if (remove is { } previous)
        {
            await session.CallAsync("DeleteAlias", (kms, ct) => kms.DeleteAliasAsync(new DeleteAliasRequest { AliasName = previous }, ct), cancellationToken).ConfigureAwait(false);
            await events.NormalAsync(key, Reasons.Deleted, $"Deleted alias {previous}: spec.alias is now {desired ?? "(none)"}", cancellationToken).ConfigureAwait(false);
        }

        return desired;
    }

    /// <summary>The KMS key's description as the spec asks (<see cref="CloudKeySettingsDecisions.DescriptionUpdate"/>), from the DescribeKey this reconcile already made.</summary>
    public async Task ConvergeDescriptionAsync(V1Alpha1CloudKey key, KeyMetadata metadata, AwsSession session, KmsKeyProof proof, CancellationToken cancellationToken)
    {
        if (CloudKeySettingsDecisions.DescriptionUpdate(metadata.Description, CloudKeyNames.Description(key)) is not { } description)
        {
            return;
        }

        await proof.EnsureAsync(cancellationToken).ConfigureAwait(false);
        await session.CallAsync("UpdateKeyDescription", (kms, ct) => kms.UpdateKeyDescriptionAsync(new UpdateKeyDescriptionRequest { KeyId = metadata.KeyId, Description = description }, ct), cancellationToken).ConfigureAwait(false);
        await events.NormalAsync(key, Reasons.Updated, $"Set the description of KMS key {metadata.KeyId} from {(key.Spec.Description is null ? "the default" : "spec.description")}", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The KMS key's user tags as spec.tags asks (<see cref="CloudKeySettingsDecisions.PlanTags"/>): added or changed, and the ones
    /// this CloudKey applied before (status.tagKeys) removed when the spec drops them. Returns the new status.tagKeys.
    /// No call at all while neither the spec nor the status names a tag.
    /// </summary>
    public async Task<IList<string>?> ConvergeTagsAsync(V1Alpha1CloudKey key, V1Alpha1CloudKeyStatus status, string keyId, AwsSession session, KmsKeyProof proof, CancellationToken cancellationToken)
    {
        var desired = key.Spec.Tags ?? new Dictionary<string, string>();
        var applied = status.TagKeys ?? [];
        if (desired.Count == 0 && applied.Count == 0)
        {
            return null;
        }

        var current = new Dictionary<string, string>(StringComparer.Ordinal);
        string? marker = null;
        do
        {
            var page = await session.CallAsync("ListResourceTags", (kms, ct) => kms.ListResourceTagsAsync(new ListResourceTagsRequest { KeyId = keyId, Marker = marker }, ct), cancellationToken).ConfigureAwait(false);
            foreach (var tag in page.Tags ?? [])
            {
                current[tag.TagKey] = tag.TagValue ?? "";
            }

            marker = page.Truncated == true ? page.NextMarker : null;
        }
        while (marker is not null);

        var plan = CloudKeySettingsDecisions.PlanTags(current, desired.AsReadOnly(), [.. applied]);
        if (plan.Refusal is { } refused)
        {
            throw new ChildConflictException(refused);
        }

        if (plan.Tag.Count > 0 || plan.Untag.Count > 0)
        {
            await proof.EnsureAsync(cancellationToken).ConfigureAwait(false);
        }

        if (plan.Tag.Count > 0)
        {
            await session.CallAsync("TagResource", (kms, ct) => kms.TagResourceAsync(new TagResourceRequest { KeyId = keyId, Tags = [.. plan.Tag.Select(t => new Tag { TagKey = t.Key, TagValue = t.Value })] }, ct), cancellationToken).ConfigureAwait(false);
            await events.NormalAsync(key, Reasons.Updated, $"Tagged KMS key {keyId} from spec.tags: {string.Join(", ", plan.Tag.Keys)}", cancellationToken).ConfigureAwait(false);
        }

        if (plan.Untag.Count > 0)
        {
            await session.CallAsync("UntagResource", (kms, ct) => kms.UntagResourceAsync(new UntagResourceRequest { KeyId = keyId, TagKeys = [.. plan.Untag] }, ct), cancellationToken).ConfigureAwait(false);
            await events.NormalAsync(key, Reasons.Updated, $"Removed tags {string.Join(", ", plan.Untag)} from KMS key {keyId}: no longer in spec.tags", cancellationToken).ConfigureAwait(false);
        }

        return AppliedTagKeys(key);
    }

    /// <summary>status.tagKeys for the spec: its tag keys, sorted; null when it has none.</summary>
    private static List<string>? AppliedTagKeys(V1Alpha1CloudKey key) =>
        key.Spec.Tags is { Count: > 0 } tags ? [.. tags.Keys.Order(StringComparer.Ordinal)] : null;

    public async Task ConvergePolicyAsync(V1Alpha1CloudKey key, string keyId, string accountId, string partition, AwsSession session, KmsKeyProof proof, CancellationToken cancellationToken)
    {
        var desired = KeyPolicyBuilder.Build(partition, accountId, key.Spec.Administrators, key.Spec.Users, key.Spec.KeyPolicy);
        var current = await session.CallAsync("GetKeyPolicy", (kms, ct) => kms.GetKeyPolicyAsync(new GetKeyPolicyRequest { KeyId = keyId, PolicyName = "default" }, ct), cancellationToken).ConfigureAwait(false);
        if (!KeyPolicyBuilder.AreEquivalent(current.Policy, desired))
        {
            await proof.EnsureAsync(cancellationToken).ConfigureAwait(false);
            await session.CallAsync("PutKeyPolicy", (kms, ct) => kms.PutKeyPolicyAsync(new PutKeyPolicyRequest { KeyId = keyId, PolicyName = "default", Policy = desired }, ct), cancellationToken).ConfigureAwait(false);
            await events.NormalAsync(key, Reasons.Updated, $"Set the key policy of KMS key {keyId} from spec.administrators, spec.users and spec.keyPolicy", cancellationToken).ConfigureAwait(false);
        }
    }

    public static async Task<KeyMetadata?> DescribeAsync(AwsSession session, string keyId, CancellationToken cancellationToken)
    {
        try
        {
            var described = await session.CallAsync("DescribeKey", (kms, ct) => kms.DescribeKeyAsync(new DescribeKeyRequest { KeyId = keyId }, ct), cancellationToken).ConfigureAwait(false);
            return described.KeyMetadata;
        }
        catch (NotFoundException)
        {
            return null;
        }
    }
}

/// <summary>
/// The UID-tag proof of one KMS key for one reconcile (<see cref="CloudKeyOwnershipDecisions.KeyTagOwnership"/>): the tags are
/// read only before the first call that changes the key, so a steady key costs no extra read; once proven (or claimed),
/// the rest of the reconcile acts without reading them again.
/// </summary>
internal sealed class KmsKeyProof(CloudKeyKmsKeyStep step, V1Alpha1CloudKey key, string keyId, AwsSession session, bool adopting, bool proven)
{
    private bool _proven = proven;

    public async Task EnsureAsync(CancellationToken cancellationToken)
    {
        if (_proven)
        {
            return;
        }

        await step.ProveAsync(key, keyId, session, adopting, cancellationToken).ConfigureAwait(false);
        _proven = true;
    }
}
