using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Xks.Testing;

namespace Xks.Operator.Charts.Tests;

/// <summary>
/// <c>helm install</c> / <c>helm uninstall</c> of the chart on the local control plane. There is no kubelet, so the
/// operator pods never start and nothing waits for them; the tests check the objects and, by impersonating the
/// operator's ServiceAccount, what the RBAC lets it do.
/// The xks.dev CRDs are cluster-scoped and shared with tests running in parallel: the test that installs them lets
/// its release adopt whatever CRDs already exist (Helm's ownership label and annotations) instead of deleting them,
/// and they are kept on uninstall.
/// </summary>
[Collection(ChartCollection.Name)]
public sealed class HelmInstallClusterTests
{
    private static readonly string[] CrdNames = ["vaults.xks.dev", "cspaccounts.xks.dev", "keysets.xks.dev", "cloudkeys.xks.dev"];

    private static LocalCluster Cluster => LocalCluster.Instance;

    [Fact]
    public async Task Install_DefaultValues_CreatesOperatorObjectsAndUninstallKeepsCrds()
    {
        var ns = await Cluster.CreateNamespaceAsync("chart");
        var other = await Cluster.CreateNamespaceAsync("chart-other");
        var release = "xks-" + Guid.NewGuid().ToString("N")[..8];
        var fullname = release + "-xks-operator";
        await AdoptExistingCrdsAsync(release, ns);

        (await Cluster.HelmAsync($"install {release} {HelmChart.Directory} --namespace {ns}")).EnsureSuccess("helm install");
        var uninstalled = false;
        try
        {
            var deployment = await Cluster.Client.AppsV1.ReadNamespacedDeploymentAsync(fullname, ns);
            Assert.Equal(2, deployment.Spec.Replicas);
            Assert.Equal(fullname, deployment.Spec.Template.Spec.ServiceAccountName);
            await Cluster.Client.CoreV1.ReadNamespacedServiceAccountAsync(fullname, ns);
            await Cluster.Client.CoreV1.ReadNamespacedServiceAsync(fullname + "-metrics", ns);
            (await Cluster.KubectlAsync($"get poddisruptionbudget {fullname} -n {ns}")).EnsureSuccess("get the PodDisruptionBudget");
            var clusterRole = await Cluster.Client.RbacAuthorizationV1.ReadClusterRoleAsync(fullname);
            Assert.Equal(OperatorRbac.Expected.Order(), OperatorRbac.Flatten(clusterRole.Rules).Order());
            await Cluster.Client.RbacAuthorizationV1.ReadClusterRoleBindingAsync(fullname);
            await Cluster.Client.RbacAuthorizationV1.ReadNamespacedRoleAsync(fullname + "-leader-election", ns);
            foreach (var name in CrdNames)
            {
                var crd = await Cluster.Client.ApiextensionsV1.ReadCustomResourceDefinitionAsync(name);
                Assert.Equal("keep", crd.Metadata.Annotations["helm.sh/resource-policy"]);
            }

            var account = $"system:serviceaccount:{ns}:{fullname}";
            Assert.True(await CanIAsync(account, "create deployments.apps", other));
            Assert.True(await CanIAsync(account, "delete ingresses.networking.k8s.io", other));
            Assert.True(await ReviewAsync(ns, fullname, "create", "cert-manager.io", "certificates", other));
            Assert.True(await CanIAsync(account, "watch secrets", other));
            Assert.True(await CanIAsync(account, "patch vaults.xks.dev --subresource=status", other));
            Assert.True(await CanIAsync(account, "update cloudkeys.xks.dev --subresource=finalizers", other));
            Assert.True(await CanIAsync(account, "create events.events.k8s.io", other));
            Assert.True(await CanIAsync(account, "update leases.coordination.k8s.io", ns));
            Assert.False(await CanIAsync(account, "update leases.coordination.k8s.io", other));
            Assert.False(await CanIAsync(account, "delete nodes", null));
            Assert.False(await CanIAsync(account, "list pods", other));
            Assert.False(await CanIAsync(account, "delete namespaces", null));
            Assert.False(await CanIAsync(account, "create clusterroles.rbac.authorization.k8s.io", null));
            Assert.False(await CanIAsync(account, "delete customresourcedefinitions.apiextensions.k8s.io", null));
            Assert.False(await CanIAsync(account, "create vaults.xks.dev", other));
            Assert.False(await CanIAsync(account, "escalate roles.rbac.authorization.k8s.io", other));
            Assert.False(await CanIAsync(account, "bind roles.rbac.authorization.k8s.io", other));

            await AssertCanGrantProxyRoleAsync(account, other);

            (await Cluster.HelmAsync($"uninstall {release} --namespace {ns}")).EnsureSuccess("helm uninstall");
            uninstalled = true;

            await AssertGoneAsync(() => Cluster.Client.AppsV1.ReadNamespacedDeploymentAsync(fullname, ns));
            await AssertGoneAsync(() => Cluster.Client.CoreV1.ReadNamespacedServiceAccountAsync(fullname, ns));
            await AssertGoneAsync(() => Cluster.Client.RbacAuthorizationV1.ReadClusterRoleAsync(fullname));
            await AssertGoneAsync(() => Cluster.Client.RbacAuthorizationV1.ReadClusterRoleBindingAsync(fullname));
            foreach (var name in CrdNames)
            {
                var crd = await Cluster.Client.ApiextensionsV1.ReadCustomResourceDefinitionAsync(name);
                Assert.Null(crd.Metadata.DeletionTimestamp);
            }
        }
        finally
        {
            if (!uninstalled)
            {
                await Cluster.HelmAsync($"uninstall {release} --namespace {ns}");
            }

            await DeleteNamespacesAsync(ns, other);
        }
    }

    [Fact]
    public async Task Install_NamespacedRbac_ConfinesTheOperatorToItsWatchedNamespace()
    {
        var ns = await Cluster.CreateNamespaceAsync("chart");
        var watched = await Cluster.CreateNamespaceAsync("chart-watched");
        var other = await Cluster.CreateNamespaceAsync("chart-other");
        var release = "xks-" + Guid.NewGuid().ToString("N")[..8];
        var fullname = release + "-xks-operator";

        (await Cluster.HelmAsync(
            $"install {release} {HelmChart.Directory} --namespace {ns} --set crds.install=false --set rbac.namespaced=true --set watchNamespaces={{{watched}}}"))
            .EnsureSuccess("helm install");
        try
        {
            var deployment = await Cluster.Client.AppsV1.ReadNamespacedDeploymentAsync(fullname, ns);
            var args = Assert.Single(deployment.Spec.Template.Spec.Containers).Args.ToList();
            Assert.Equal(watched, args[args.IndexOf("--namespace") + 1]);
            await AssertGoneAsync(() => Cluster.Client.RbacAuthorizationV1.ReadClusterRoleAsync(fullname));

            var account = $"system:serviceaccount:{ns}:{fullname}";
            Assert.True(await CanIAsync(account, "create deployments.apps", watched));
            Assert.True(await CanIAsync(account, "list vaults.xks.dev", watched));
            Assert.False(await CanIAsync(account, "create deployments.apps", other));
            Assert.False(await CanIAsync(account, "get secrets", other));
            Assert.False(await CanIAsync(account, "list vaults.xks.dev", null, allNamespaces: true));
            Assert.True(await CanIAsync(account, "create leases.coordination.k8s.io", ns));
            await AssertCanGrantProxyRoleAsync(account, watched);
        }
        finally
        {
            await Cluster.HelmAsync($"uninstall {release} --namespace {ns}");
            await DeleteNamespacesAsync(ns, watched, other);
        }
    }

    /// <summary>
    /// What the Vault reconciler does for each proxy, done as the operator: a Role that reads named Secrets and a
    /// RoleBinding to it. Kubernetes allows it without bind/escalate only because the operator holds those rights.
    /// </summary>
    private static async Task AssertCanGrantProxyRoleAsync(string account, string ns)
    {
        var role = $$"""
            {"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{"name":"proxy-test","namespace":"{{ns}}"},
             "rules":[{"apiGroups":[""],"resources":["secrets"],"resourceNames":["v-proxy-config","v-master-key"],"verbs":["get","list","watch"]}]}
            """;
        var binding = $$"""
            {"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{"name":"proxy-test","namespace":"{{ns}}"},
             "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"proxy-test"},
             "subjects":[{"kind":"ServiceAccount","name":"v-proxy","namespace":"{{ns}}"}]}
            """;
        (await Cluster.KubectlAsync($"create --as {account} -f -", role)).EnsureSuccess("create the proxy Role as the operator");
        (await Cluster.KubectlAsync($"create --as {account} -f -", binding)).EnsureSuccess("create the proxy RoleBinding as the operator");
    }

    private static async Task<bool> CanIAsync(string account, string what, string? ns, bool allNamespaces = false)
    {
        var scope = allNamespaces ? "--all-namespaces" : ns is null ? "" : $"-n {ns}";
        var result = await Cluster.KubectlAsync($"auth can-i {what} --as {account} {scope}");
        var answer = result.StandardOutput.Trim();
        Assert.True(answer is "yes" or "no", $"kubectl auth can-i {what}: {result.Output}");
        return answer == "yes";
    }

    /// <summary>
    /// A SubjectAccessReview for the ServiceAccount, for resources whose API is not served here (cert-manager):
    /// kubectl auth can-i cannot resolve their group without discovery.
    /// </summary>
    private static async Task<bool> ReviewAsync(string saNamespace, string saName, string verb, string group, string resource, string ns)
    {
        var review = await Cluster.Client.AuthorizationV1.CreateSubjectAccessReviewAsync(new V1SubjectAccessReview
        {
            Spec = new V1SubjectAccessReviewSpec
            {
                User = $"system:serviceaccount:{saNamespace}:{saName}",
                Groups = ["system:serviceaccounts", "system:serviceaccounts:" + saNamespace, "system:authenticated"],
                ResourceAttributes = new V1ResourceAttributes { Verb = verb, Group = group, Resource = resource, NamespaceProperty = ns },
            },
        });
        return review.Status.Allowed;
    }

    /// <summary>
    /// Lets <paramref name="release"/> adopt the xks.dev CRDs that other tests may already have applied; Helm refuses
    /// to install over objects without its ownership metadata. The CRDs themselves are not changed.
    /// </summary>
    private static async Task AdoptExistingCrdsAsync(string release, string ns)
    {
        foreach (var name in CrdNames)
        {
            var exists = (await Cluster.KubectlAsync($"get crd {name} -o name")).ExitCode == 0;
            if (!exists)
            {
                continue;
            }

            (await Cluster.KubectlAsync($"label crd {name} app.kubernetes.io/managed-by=Helm --overwrite")).EnsureSuccess("label crd");
            (await Cluster.KubectlAsync($"annotate crd {name} meta.helm.sh/release-name={release} meta.helm.sh/release-namespace={ns} --overwrite"))
                .EnsureSuccess("annotate crd");
        }
    }

    private static async Task AssertGoneAsync<T>(Func<Task<T>> read)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                await read();
            }
            catch (HttpOperationException ex) when (ex.Response.StatusCode == HttpStatusCode.NotFound)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, "object still present 30 s after helm uninstall");
            await Task.Delay(200);
        }
    }

    private static async Task DeleteNamespacesAsync(params string[] namespaces)
    {
        foreach (var ns in namespaces)
        {
            try
            {
                await Cluster.Client.CoreV1.DeleteNamespaceAsync(ns);
            }
            catch (HttpOperationException)
            {
            }
        }
    }
}
