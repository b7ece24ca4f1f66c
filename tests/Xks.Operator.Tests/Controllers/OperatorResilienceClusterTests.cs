using System.Net;
using k8s;
using Xks.Operator.Support.Tests;
using Xks.Testing;

namespace Xks.Operator.Controllers.Tests;

/// <summary>
/// What happens to and around the operator: crashes in the middle of a reconcile and several replicas competing for the
/// Lease. Real processes against the real control plane; SIGKILL is a crash (no cleanup, no lease release).
/// </summary>
[Trait("Category", "Cluster")]
public sealed class OperatorResilienceClusterTests() : OperatorClusterTest("resil")
{
    [Fact]
    public async Task Operator_KilledMidReconcileAndRestarted_CreatesNoDuplicatesAndCausesNoChurn()
    {
        var first = await OperatorProcess.StartAsync(Ns);
        await first.WaitReadyAsync(Timeout);
        await ApplyVaultAsync("crash");

        // Kill it as soon as the first child exists: the rest of the reconcile never happens.
        await Eventually.HoldsAsync(async () => (await Client.CoreV1.ListNamespacedServiceAccountAsync(Ns, labelSelector: "xks.dev/vault=crash")).Items.Count > 0, Timeout, "first child created");
        await first.KillAsync();
        var keyAfterCrash = await TryReadMasterKeyAsync("crash");

        await using (var second = await OperatorProcess.StartAsync(Ns))
        {
            await second.WaitReadyAsync(Timeout);
            await Eventually.HoldsAsync(async () => await ChildrenAsync("crash") is { Count: 9 }, Timeout, "all nine children after the restart");
        }

        // Exactly one of each (names are derived from the Vault) and the master key is the one first written.
        var children = await ChildrenAsync("crash");
        Assert.Equal(children.Count, children.Select(c => c.Kind + "/" + c.Name).Distinct().Count());
        var masterKey = await TryReadMasterKeyAsync("crash");
        Assert.NotNull(masterKey);
        if (keyAfterCrash is not null)
        {
            Assert.Equal(keyAfterCrash, masterKey);
        }

        Assert.Single((await Client.AppsV1.ListNamespacedReplicaSetAsync(Ns)).Items);

        // A third start over a converged world writes nothing: every child keeps its resourceVersion.
        var before = children.ToDictionary(c => c.Kind + "/" + c.Name, c => c.ResourceVersion);
        await using (var third = await OperatorProcess.StartAsync(Ns))
        {
            await third.WaitReadyAsync(Timeout);
            await Eventually.HoldsAsync(async () => await third.GetAsync("/metrics") is { } m && m.Body.Contains("xks_operator_reconcile_total{controller=\"vault\",result=", StringComparison.Ordinal), Timeout, "third operator reconciled the Vault");
            await Task.Delay(TimeSpan.FromSeconds(2));
        }

        var after = (await ChildrenAsync("crash")).ToDictionary(c => c.Kind + "/" + c.Name, c => c.ResourceVersion);
        Assert.Equal(before, after);
    }

    [Fact]
    public async Task Operator_TwoReplicas_OneLeadsAndTheOtherTakesOverWhenItDies()
    {
        var a = await OperatorProcess.StartAsync(Ns, leaderElect: true);
        var b = await OperatorProcess.StartAsync(Ns, leaderElect: true);
        try
        {
            await a.WaitReadyAsync(Timeout);
            await b.WaitReadyAsync(Timeout);
            string holder = "";
            await Eventually.HoldsAsync(async () => (holder = await LeaseHolderAsync() ?? "") != "", Timeout, "a leader elected");
            var (leader, standby) = holder.StartsWith(a.Identity, StringComparison.Ordinal) ? (a, b) : (b, a);
            Assert.StartsWith(standby == a ? b.Identity : a.Identity, holder, StringComparison.Ordinal);
            Assert.Contains("xks_operator_leader 1", (await leader.GetAsync("/metrics"))!.Value.Body, StringComparison.Ordinal);
            Assert.Contains("xks_operator_leader 0", (await standby.GetAsync("/metrics"))!.Value.Body, StringComparison.Ordinal);

            // Only the leader reconciles.
            await ApplyVaultAsync("led");
            await Eventually.HoldsAsync(async () => (await ChildrenAsync("led")).Count == 9, Timeout, "leader reconciled the Vault");
            Assert.DoesNotContain("Created Deployment", standby.Output, StringComparison.Ordinal);

            // The leader crashes without releasing the Lease: the standby takes over after the lease duration.
            await leader.KillAsync();
            await Eventually.HoldsAsync(async () => (await LeaseHolderAsync())?.StartsWith(standby.Identity, StringComparison.Ordinal) == true, TimeSpan.FromSeconds(45), "standby took the Lease over");
            await ApplyVaultAsync("after");
            await Eventually.HoldsAsync(async () => (await ChildrenAsync("after")).Count == 9, Timeout, "new leader reconciled a new Vault");
        }
        finally
        {
            await a.DisposeAsync();
            await b.DisposeAsync();
        }
    }

    private async Task<string?> LeaseHolderAsync()
    {
        try
        {
            return (await Client.CoordinationV1.ReadNamespacedLeaseAsync("xks-operator-leader", Ns)).Spec?.HolderIdentity;
        }
        catch (k8s.Autorest.HttpOperationException ex) when (ex.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    private async Task ApplyVaultAsync(string name) =>
        (await Cluster.KubectlAsync($"apply -n {Ns} -f -", $$$"""
            apiVersion: xks.dev/v1alpha1
            kind: Vault
            metadata: {name: {{{name}}}}
            spec:
              hostname: {{{name}}}.example.com
              tls: {issuerRef: {name: letsencrypt, kind: ClusterIssuer}}
            """)).EnsureSuccess("kubectl apply");

    private async Task<byte[]?> TryReadMasterKeyAsync(string vault)
    {
        try
        {
            return (await Client.CoreV1.ReadNamespacedSecretAsync($"{vault}-master-key", Ns)).Data["master.key"];
        }
        catch (k8s.Autorest.HttpOperationException ex) when (ex.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    /// <summary>Every object labelled as the Vault's (the Certificate is absent: cert-manager is not installed here).</summary>
    private async Task<List<(string Kind, string Name, string ResourceVersion)>> ChildrenAsync(string vault)
    {
        var selector = $"xks.dev/vault={vault}";
        var list = new List<(string, string, string)>();
        list.AddRange((await Client.CoreV1.ListNamespacedServiceAccountAsync(Ns, labelSelector: selector)).Items.Select(o => ("ServiceAccount", o.Metadata.Name, o.Metadata.ResourceVersion)));
        list.AddRange((await Client.RbacAuthorizationV1.ListNamespacedRoleAsync(Ns, labelSelector: selector)).Items.Select(o => ("Role", o.Metadata.Name, o.Metadata.ResourceVersion)));
        list.AddRange((await Client.RbacAuthorizationV1.ListNamespacedRoleBindingAsync(Ns, labelSelector: selector)).Items.Select(o => ("RoleBinding", o.Metadata.Name, o.Metadata.ResourceVersion)));
        list.AddRange((await Client.CoreV1.ListNamespacedSecretAsync(Ns, labelSelector: selector)).Items.Select(o => ("Secret", o.Metadata.Name, o.Metadata.ResourceVersion)));
        list.AddRange((await Client.CoreV1.ListNamespacedServiceAsync(Ns, labelSelector: selector)).Items.Select(o => ("Service", o.Metadata.Name, o.Metadata.ResourceVersion)));
        list.AddRange((await Client.AppsV1.ListNamespacedDeploymentAsync(Ns, labelSelector: selector)).Items.Select(o => ("Deployment", o.Metadata.Name, o.Metadata.ResourceVersion)));
        list.AddRange((await Client.NetworkingV1.ListNamespacedIngressAsync(Ns, labelSelector: selector)).Items.Select(o => ("Ingress", o.Metadata.Name, o.Metadata.ResourceVersion)));
        var pdbs = await Client.CustomObjects.ListNamespacedCustomObjectAsync("policy", "v1beta1", Ns, "poddisruptionbudgets", labelSelector: selector);
        using var doc = System.Text.Json.JsonDocument.Parse(KubernetesJson.Serialize(pdbs));
        foreach (var item in doc.RootElement.GetProperty("items").EnumerateArray())
        {
            var meta = item.GetProperty("metadata");
            list.Add(("PodDisruptionBudget", meta.GetProperty("name").GetString()!, meta.GetProperty("resourceVersion").GetString()!));
        }

        return list;
    }
}
