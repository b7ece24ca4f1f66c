using Amazon.KeyManagementService;
using Amazon.KeyManagementService.Model;
using k8s;
using Xks.Operator.Scenarios.Tests;
using Xks.Operator.Support.Tests;
using Xks.Testing;

namespace Xks.Operator.Controllers.Tests;

/// <summary>
/// Status is a cache, never an authority: a CloudKey or KeySet whose status is pointed at somebody else's AWS object
/// (anyone with <c>cloudkeys/status</c> or <c>keysets/status</c> patch can) reports Conflict, and that object sees no
/// call that changes it. The seed environment with a 2 s AWS resync.
/// </summary>
[Trait("Category", "Cluster")]
public sealed class OwnershipProofClusterTests() : OperatorClusterTest("owner")
{
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(45);
    private static readonly string[] KeyMutations = ["PutKeyPolicy", "EnableKey", "DisableKey", "ScheduleKeyDeletion", "CancelKeyDeletion", "CreateAlias", "UpdateAlias", "DeleteAlias"];
    private static readonly string[] StoreMutations = ["UpdateCustomKeyStore", "DisconnectCustomKeyStore", "ConnectCustomKeyStore", "DeleteCustomKeyStore"];
    private const string CloudKey = "cloudkey/" + SeedEnvironment.CloudKeyName;

    [Fact]
    public async Task CloudKeyStatusPointedAtAnotherKey_ConflictAndThatKeyIsNeverChanged()
    {
        await using var seed = await SeedEnvironment.StartAsync(Cluster, Ns, StartFastResyncOperatorAsync);
        // Its default key policy lets the account's IAM decide, so the operator's role may read it (and, by IAM alone, change
        // it): only the operator's own proof keeps it from doing so.
        var theirs = (await seed.Admin.CreateKeyAsync(new CreateKeyRequest { Description = "another team's key" })).KeyMetadata;
        await seed.Admin.DisableKeyAsync(new DisableKeyRequest { KeyId = theirs.KeyId });
        var policyBefore = (await seed.Admin.GetKeyPolicyAsync(new GetKeyPolicyRequest { KeyId = theirs.KeyId, PolicyName = "default" })).Policy;
        var mutationsBefore = Count(seed, KeyMutations);
        var theirCallsBefore = seed.Kms.MutatingCallsNaming(theirs.KeyId).Count; // the test's own CreateKey and DisableKey

        await ForgeStatusAsync(seed, CloudKey, new { keyId = theirs.KeyId });

        await Eventually.HoldsAsync(async () => await seed.ReadyReasonAsync(CloudKey) == "Conflict", Within, "the CloudKey Ready=False Conflict");
        var described = (await seed.Admin.DescribeKeyAsync(new DescribeKeyRequest { KeyId = theirs.KeyId })).KeyMetadata;
        Assert.Equal(KeyState.Disabled, described.KeyState);
        Assert.Equal(policyBefore, (await seed.Admin.GetKeyPolicyAsync(new GetKeyPolicyRequest { KeyId = theirs.KeyId, PolicyName = "default" })).Policy);
        Assert.Equal(mutationsBefore, Count(seed, KeyMutations));
        Assert.Equal(theirCallsBefore, seed.Kms.MutatingCallsNaming(theirs.KeyId).Count);
        Assert.Contains($"KMS key {theirs.KeyId} is in key store (none)", await seed.ReadyMessageAsync(CloudKey), StringComparison.Ordinal);
    }

    [Fact]
    public async Task KeySetStatusPointedAtAnotherKeySetsStore_ConflictAndThatStoreIsNeverChanged()
    {
        await using var seed = await SeedEnvironment.StartAsync(Cluster, Ns, StartFastResyncOperatorAsync);
        var victim = (await seed.StatusFieldAsync("keyset/" + SeedEnvironment.KeySetName, "customKeyStoreId"))!;
        await seed.KubectlAsync("apply -f -", $$"""
            {"apiVersion":"xks.dev/v1alpha1","kind":"KeySet","metadata":{"name":"intruder"},
             "spec":{"vaultRef":{"name":"{{SeedEnvironment.VaultName}}"},"cspAccountRef":{"name":"{{SeedEnvironment.CspAccountName}}"} } }
            """);
        await seed.WaitReadyAsync(TimeSpan.FromSeconds(90), "keyset/intruder");
        var mutationsBefore = Count(seed, StoreMutations);

        await ForgeStatusAsync(seed, "keyset/intruder", new { customKeyStoreId = victim });

        await Eventually.HoldsAsync(async () => await seed.ReadyReasonAsync("keyset/intruder") == "Conflict", Within, "the intruding KeySet Ready=False Conflict");
        Assert.Equal(mutationsBefore, Count(seed, StoreMutations));
        var victimCallsBefore = seed.Kms.MutatingCallsNaming(victim).Count;
        var store = (await seed.Admin.DescribeCustomKeyStoresAsync(new DescribeCustomKeyStoresRequest { CustomKeyStoreId = victim })).CustomKeyStores[0];
        Assert.Equal(ConnectionStateType.CONNECTED, store.ConnectionState);
        await seed.WaitReadyAsync(resources: ["keyset/" + SeedEnvironment.KeySetName, CloudKey]);

        // Deleting the intruder (deletionPolicy Delete would delete its store) leaves the victim's store alone too.
        await seed.KubectlAsync("delete keyset/intruder --wait=true --timeout=60s");
        Assert.Equal(mutationsBefore, Count(seed, StoreMutations));
        Assert.Equal(victimCallsBefore, seed.Kms.MutatingCallsNaming(victim).Count);
        Assert.Equal(ConnectionStateType.CONNECTED, (await seed.Admin.DescribeCustomKeyStoresAsync(new DescribeCustomKeyStoresRequest { CustomKeyStoreId = victim })).CustomKeyStores[0].ConnectionState);
    }

    [Fact]
    public async Task CloudKeyAdoptsALiveCloudKeysKeyThroughForgedMaterial_ConflictAndThatKeyIsNeverChanged()
    {
        // Whoever writes Secrets in the namespace can copy a CloudKey's key material under another CloudKey's name and
        // adopt its KMS key: store and external key then prove nothing. The key's UID tag names a CloudKey that exists.
        await using var seed = await SeedEnvironment.StartAsync(Cluster, Ns, StartFastResyncOperatorAsync);
        var victimKey = (await seed.StatusFieldAsync(CloudKey, "keyId"))!;
        var policyBefore = (await seed.Admin.GetKeyPolicyAsync(new GetKeyPolicyRequest { KeyId = victimKey, PolicyName = "default" })).Policy;
        var material = await seed.Client.CoreV1.ReadNamespacedSecretAsync(SeedEnvironment.CloudKeyName + "-key-material", Ns);
        material.Metadata = new k8s.Models.V1ObjectMeta
        {
            Name = "intruder-key-material",
            NamespaceProperty = Ns,
            Labels = material.Metadata.Labels.ToDictionary(l => l.Key, l => l.Key == "xks.dev/cloudkey" ? "intruder" : l.Value),
            Annotations = new Dictionary<string, string> { ["xks.dev/kms-key-id"] = victimKey },
        };
        await seed.Client.CoreV1.CreateNamespacedSecretAsync(material, Ns);
        var mutationsBefore = Count(seed, KeyMutations);
        var victimCallsBefore = seed.Kms.MutatingCallsNaming(victimKey).Count;

        await seed.KubectlAsync("apply -f -", $$"""
            {"apiVersion":"xks.dev/v1alpha1","kind":"CloudKey","metadata":{"name":"intruder"},
             "spec":{"keySetRef":{"name":"{{SeedEnvironment.KeySetName}}"},"alias":"intruder","adopt":{"keyId":"{{victimKey}}"},
                     "users":["arn:aws:iam::111122223333:role/intruder"]} }
            """);

        await Eventually.HoldsAsync(async () => await seed.ReadyReasonAsync("cloudkey/intruder") == "Conflict", Within, "the intruding CloudKey Ready=False Conflict");
        Assert.Contains($"KMS key {victimKey} is tagged as CloudKey {Ns}/{SeedEnvironment.CloudKeyName}'s", await seed.ReadyMessageAsync("cloudkey/intruder"), StringComparison.Ordinal);
        Assert.Equal(mutationsBefore, Count(seed, KeyMutations));
        Assert.Equal(0, seed.Kms.CallCount("TagResource"));
        Assert.Equal(victimCallsBefore, seed.Kms.MutatingCallsNaming(victimKey).Count);
        Assert.Equal(policyBefore, (await seed.Admin.GetKeyPolicyAsync(new GetKeyPolicyRequest { KeyId = victimKey, PolicyName = "default" })).Policy);
        await seed.WaitReadyAsync(resources: [CloudKey]);
    }

    private static int Count(SeedEnvironment seed, string[] operations) => operations.Sum(seed.Kms.CallCount);

    /// <summary>
    /// The forgery, made while the operator is stopped: the operator writes its whole status, so a write it had in
    /// flight could otherwise overwrite the forged field before any reconcile read it. The restarted operator finds it.
    /// </summary>
    private static async Task ForgeStatusAsync(SeedEnvironment seed, string resource, object status)
    {
        await seed.Operator!.DisposeAsync();
        await seed.PatchStatusAsync(resource, status);
        await seed.StartOperatorAsync();
    }
}
