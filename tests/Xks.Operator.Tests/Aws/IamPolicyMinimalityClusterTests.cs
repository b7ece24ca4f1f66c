using Amazon.KeyManagementService;
using Amazon.KeyManagementService.Model;
using Xks.Operator.Resources;
using Xks.Operator.Scenarios.Tests;
using Xks.Operator.Support.Tests;
using Xks.Testing;

namespace Xks.Operator.Aws.Tests;

/// <summary>
/// config/iam/recommended-inline-policy.json is sufficient and minimal. The seed environment already holds the
/// operator's credential to it (every cluster test that uses the seed fails on a call it does not allow). This test
/// runs a life cycle that makes every kind of call the operator makes — including the crash path that looks for a key
/// by its tag — and then, for each action of the policy, replays the operator's recorded requests against the policy
/// without that action: at least one request must be denied, or the action is not needed.
/// </summary>
[Trait("Category", "Cluster")]
public sealed class IamPolicyMinimalityClusterTests() : OperatorClusterTest("iam")
{
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(60);
    private const string CloudKey = "cloudkey/" + SeedEnvironment.CloudKeyName;
    private const string KeySet = "keyset/" + SeedEnvironment.KeySetName;

    [Fact]
    public async Task OperatorLifeCycle_NeedsEveryActionOfTheShippedPolicyAndNothingOutsideIt()
    {
        var seed = await SeedEnvironment.CreateAsync(Cluster, Ns, StartFastResyncOperatorAsync);
        await using var _ = seed;
        var operatorArn = seed.OperatorArn;

        // 1. A crash between CreateKey and recording it: the next operator finds the key by its UID tag (ListKeys).
        var created = seed.Kms.Hold("CreateKey");
        await seed.StartOperatorAsync();
        await seed.RunProxyAsync();
        await created.Reached.WaitAsync(Within);
        await seed.KillOperatorAsync();
        created.Release();
        await seed.StartOperatorAsync();
        await seed.WaitReadyAsync();
        var keyId = (await seed.StatusFieldAsync(CloudKey, "keyId"))!;

        // 2. The spec changes: off and on, description, tags, alias renamed.
        await seed.PatchSpecAsync(CloudKey, new { enabled = false });
        await Eventually.HoldsAsync(async () => await StateAsync(seed, keyId) == KeyState.Disabled, Within, "the key disabled");
        await seed.PatchSpecAsync(CloudKey, new { enabled = true, description = "payments database, v2", tags = new Dictionary<string, string> { ["team"] = "payments" } });
        await Eventually.HoldsAsync(async () => (await DescribeAsync(seed, keyId)).Description == "payments database, v2", Within, "the description updated");
        await Eventually.HoldsAsync(async () => (await TagsAsync(seed, keyId)).ContainsKey("team"), Within, "the tag set");
        await seed.PatchSpecAsync(CloudKey, new { tags = new Dictionary<string, string?> { ["team"] = null }, alias = "payments/db-v2" });
        await Eventually.HoldsAsync(async () => !(await TagsAsync(seed, keyId)).ContainsKey("team"), Within, "the tag removed");
        await Eventually.HoldsAsync(async () => await seed.StatusFieldAsync(CloudKey, "alias") == "alias/payments/db-v2", Within, "the alias renamed");

        // 3. Changes behind the operator's back, undone: policy, deletion scheduled, alias moved to another key of this CloudKey's.
        await seed.Admin.PutKeyPolicyAsync(new PutKeyPolicyRequest { KeyId = keyId, PolicyName = "default", Policy = """{"Version":"2012-10-17","Statement":[{"Sid":"Root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]}""" });
        await seed.Admin.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = keyId, PendingWindowInDays = 7 });
        await Eventually.HoldsAsync(async () => await StateAsync(seed, keyId) == KeyState.Enabled, Within, "the deletion cancelled and the key enabled");
        var uid = (await seed.GetAsync(CloudKey))["metadata"]!["uid"]!.GetValue<string>();
        var earlier = (await seed.Admin.CreateKeyAsync(new CreateKeyRequest
        {
            Description = "a key this CloudKey made in an earlier life",
            Tags = [new Tag { TagKey = CloudKeyNames.UidTag, TagValue = uid }],
        })).KeyMetadata.KeyId;
        await seed.Admin.UpdateAliasAsync(new UpdateAliasRequest { AliasName = "alias/payments/db-v2", TargetKeyId = earlier });
        await Eventually.HoldsAsync(async () => (await DescribeAsync(seed, "alias/payments/db-v2")).KeyId == keyId, Within, "the alias moved back");

        // 4. The key store's credential rotated, then everything deleted with deletionPolicy Delete.
        var updates = seed.Kms.CallCount("UpdateCustomKeyStore");
        await seed.AnnotateAsync(KeySet, CloudKeyNames.RotateCredentialAnnotation, "now");
        await Eventually.HoldsAsync(() => Task.FromResult(seed.Kms.CallCount("UpdateCustomKeyStore") > updates), Within, "the store's credential rotated");
        await seed.PatchSpecAsync(CloudKey, new { deletionPolicy = "Delete" });
        await seed.PatchSpecAsync(KeySet, new { deletionPolicy = "Delete" });
        await seed.KubectlAsync($"delete {CloudKey} --wait=false");
        await Eventually.HoldsAsync(async () => await StateAsync(seed, keyId) == KeyState.PendingDeletion, Within, "the key scheduled for deletion");
        await seed.KubectlAsync($"delete {KeySet} --wait=false");
        await Eventually.HoldsAsync(() => Task.FromResult(seed.Kms.Calls().Any(c => c.Operation == "DeleteCustomKeyStore" && seed.ByOperator(c))), Within, "the operator asked to delete the store");

        // Sufficient: every request the operator made is allowed by the policy (a refused one would also have failed a step above).
        Assert.Empty(seed.Kms.DeniedUnder(operatorArn, OperatorIdentityPolicy.Json));

        // Minimal: every action is needed by at least one request the operator made.
        var unneeded = OperatorIdentityPolicy.EachActionRemoved(OperatorIdentityPolicy.Json)
            .Where(removed => seed.Kms.DeniedUnder(operatorArn, removed.PolicyWithout).Count == 0)
            .Select(removed => $"{removed.Sid}: {removed.Action}")
            .ToList();
        Assert.True(unneeded.Count == 0, "actions of config/iam/recommended-inline-policy.json no request needed: " + string.Join(", ", unneeded));
    }

    private static async Task<KeyMetadata> DescribeAsync(SeedEnvironment seed, string keyId) =>
        (await seed.Admin.DescribeKeyAsync(new DescribeKeyRequest { KeyId = keyId })).KeyMetadata;

    private static async Task<KeyState> StateAsync(SeedEnvironment seed, string keyId) => (await DescribeAsync(seed, keyId)).KeyState;

    private static async Task<Dictionary<string, string>> TagsAsync(SeedEnvironment seed, string keyId) =>
        (await seed.Admin.ListResourceTagsAsync(new ListResourceTagsRequest { KeyId = keyId })).Tags.ToDictionary(t => t.TagKey, t => t.TagValue);
}
