using k8s;
using k8s.Models;
using Xks.Operator.Scenarios.Tests;
using Xks.Operator.Support.Tests;
using Xks.Testing;

namespace Xks.Operator.Controllers.Tests;

/// <summary>
/// A ClusterCspAccount is used only by the namespaces its selector selects, checked on every reconcile: a KeySet in a
/// namespace it does not select is NotAllowed and AWS sees no call for it; labelling the namespace lets it in; taking
/// the label away stops it again. The seed environment, with an operator that serves the cluster-scoped kinds and keeps
/// their Secrets in the test's namespace (one namespace, so no other test's objects are touched).
/// </summary>
[Trait("Category", "Cluster")]
public sealed class ClusterCspAccountClusterTests() : OperatorClusterTest("ccsp")
{
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(60);
    private static readonly string[] StoreCalls = ["CreateCustomKeyStore", "UpdateCustomKeyStore", "ConnectCustomKeyStore", "DisconnectCustomKeyStore", "DeleteCustomKeyStore"];
    private const string ShareLabel = "xks-test/share-accounts";
    private const string KeySet = "keyset/shared";

    [Fact]
    public async Task KeySetUsesAClusterCspAccount_OnlyWhileItsNamespaceIsSelected()
    {
        await using var seed = await SeedEnvironment.StartAsync(Cluster, Ns, () => StartOperatorAsync(extraArguments: $"--serve-cluster-kinds true --cluster-resource-namespace {Ns}"));
        var account = Ns; // cluster-scoped: one name per test
        try
        {
            await seed.KubectlAsync("apply -f -", $$"""
                {"apiVersion":"xks.dev/v1alpha1","kind":"ClusterCspAccount","metadata":{"name":"{{account}}"},
                 "spec":{"region":"eu-west-1","endpoint":"{{seed.Kms.Url}}","credentials":{"source":"Secret","secretRef":{"name":"aws-credentials"} },
                         "namespaceSelector":{"matchLabels":{"{{ShareLabel}}":"{{Ns}}"} } } }
                """);
            await seed.WaitReadyAsync(Within, "clustercspaccount/" + account);
            var storeCallsBefore = StoreCalls.Sum(seed.Kms.CallCount);

            await seed.KubectlAsync("apply -f -", $$"""
                {"apiVersion":"xks.dev/v1alpha1","kind":"KeySet","metadata":{"name":"shared"},
                 "spec":{"vaultRef":{"name":"{{SeedEnvironment.VaultName}}"},"cspAccountRef":{"kind":"ClusterCspAccount","name":"{{account}}"} } }
                """);

            await Eventually.HoldsAsync(async () => await seed.ReadyReasonAsync(KeySet) == "NotAllowed", Within, "the KeySet in an unselected namespace Ready=False NotAllowed");
            Assert.Contains($"namespaceSelector does not select namespace {Ns}", await seed.ReadyMessageAsync(KeySet), StringComparison.Ordinal);
            Assert.Equal(storeCallsBefore, StoreCalls.Sum(seed.Kms.CallCount));
            Assert.Null(await seed.StatusFieldAsync(KeySet, "customKeyStoreId"));

            await LabelNamespaceAsync(Ns);
            await seed.WaitReadyAsync(TimeSpan.FromSeconds(90), KeySet);
            var store = await seed.StatusFieldAsync(KeySet, "customKeyStoreId");
            Assert.NotNull(store);
            var storeCallsWhileShared = StoreCalls.Sum(seed.Kms.CallCount);
            Assert.True(storeCallsWhileShared > storeCallsBefore, "the key store was created through the ClusterCspAccount");

            await LabelNamespaceAsync(null);
            await Eventually.HoldsAsync(async () => await seed.ReadyReasonAsync(KeySet) == "NotAllowed", Within, "the KeySet NotAllowed once its namespace is no longer selected");
            await Task.Delay(TimeSpan.FromSeconds(3));
            Assert.Equal(storeCallsWhileShared, StoreCalls.Sum(seed.Kms.CallCount));
            var storeCallsNamingIt = seed.Kms.MutatingCallsNaming(store!).Count;
            await seed.KubectlAsync("delete keyset/shared --wait=true --timeout=60s");
            Assert.Equal(storeCallsNamingIt, seed.Kms.MutatingCallsNaming(store!).Count);
        }
        finally
        {
            await Cluster.KubectlAsync($"delete clustercspaccount {account} --ignore-not-found --wait=false");
        }
    }

    private async Task LabelNamespaceAsync(string? value)
    {
        var labelValue = value is null ? "null" : $"\"{value}\"";
        var patch = new V1Patch($$"""{"metadata":{"labels":{"{{ShareLabel}}":{{labelValue}} } } }""", V1Patch.PatchType.MergePatch);
        await Client.CoreV1.PatchNamespaceAsync(patch, Ns);
    }
}
