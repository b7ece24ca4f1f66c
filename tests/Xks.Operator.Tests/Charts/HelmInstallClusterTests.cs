using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Xks.Operator.Crds.Tests;
using Xks.Operator.Support.Tests;
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
[Trait("Category", "Cluster")]
public sealed class HelmInstallClusterTests
{
    private static readonly string[] CrdNames = ["vaults.xks.dev", "cspaccounts.xks.dev", "clustercspaccounts.xks.dev", "keysets.xks.dev", "cloudkeys.xks.dev"];

    private static LocalCluster Cluster => LocalCluster.Instance;

    [Fact]
    public async Task Install_DefaultValues_CreatesOperatorObjectsAndUninstallKeepsCrds()
    {
        // The CRDs exist first (as other tests apply them), so the release always has to adopt them.
        await ClusterCrds.InstallAsync();
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
            Assert.Equal(OperatorRbac.ExpectedClusterWide.Order(), OperatorRbac.Flatten(clusterRole.Rules).Order());
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
        await ClusterCrds.InstallAsync();
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

            await ReconcileVaultAsServiceAccountAsync(ns, fullname, watched);
            await AssertOperatorForbiddenAsync(ns, fullname, other);
        }
        finally
        {
            await Cluster.HelmAsync($"uninstall {release} --namespace {ns}");
            await DeleteNamespacesAsync(ns, watched, other);
        }
    }

    [Fact]
    public async Task Install_DefaultValues_OperatorRunningAsItsServiceAccountReconcilesAVault()
    {
        await ClusterCrds.InstallAsync();
        var ns = await Cluster.CreateNamespaceAsync("chart");
        var vaults = await Cluster.CreateNamespaceAsync("chart-vaults");
        var release = "xks-" + Guid.NewGuid().ToString("N")[..8];
        var fullname = release + "-xks-operator";
        (await Cluster.HelmAsync($"install {release} {HelmChart.Directory} --namespace {ns} --set crds.install=false")).EnsureSuccess("helm install");
        try
        {
            await ReconcileVaultAsServiceAccountAsync(ns, fullname, vaults);
        }
        finally
        {
            await Cluster.HelmAsync($"uninstall {release} --namespace {ns}");
            await DeleteNamespacesAsync(ns, vaults);
        }
    }

    /// <summary>
    /// Runs the operator with the chart's arguments and a token of the chart's ServiceAccount — except that it watches
    /// <paramref name="vaultNamespace"/> only (other tests run their own operators on theirs) — applies a Vault there
    /// and checks that the operator, with exactly the chart's RBAC, wrote its status and every child without a
    /// Forbidden.
    /// </summary>
    private static async Task ReconcileVaultAsServiceAccountAsync(string releaseNamespace, string serviceAccount, string vaultNamespace)
    {
        var kubeconfig = Path.Combine(Path.GetTempPath(), $"xks-{Guid.NewGuid():N}.kubeconfig");
        try
        {
            await WriteServiceAccountKubeconfigAsync(releaseNamespace, serviceAccount, kubeconfig);
            await using var op = await OperatorProcess.StartAsync(
                vaultNamespace, leaderElect: true, extraArguments: $"--kubeconfig {kubeconfig} --leader-election-namespace {releaseNamespace}");
            await op.WaitReadyAsync(TimeSpan.FromSeconds(60));
            var vault = """
                apiVersion: xks.dev/v1alpha1
                kind: Vault
                metadata: {name: rbac}
                spec:
                  hostname: rbac.example.com
                  tls: {secretName: rbac-tls}
                  exposure: {type: LoadBalancer}
                """;
            (await Cluster.KubectlAsync($"apply -n {vaultNamespace} -f -", vault)).EnsureSuccess("kubectl apply the Vault");

            var reconciled = await PollAsync(
                async () => (await Cluster.KubectlAsync($"get vault rbac -n {vaultNamespace} -o jsonpath={{.status.observedGeneration}}")).StandardOutput == "1",
                TimeSpan.FromSeconds(60));
            Assert.True(reconciled, "the operator did not write the Vault's status within 60 s:\n" + op.Output);
            await Cluster.Client.AppsV1.ReadNamespacedDeploymentAsync("rbac-proxy", vaultNamespace);
            await Cluster.Client.CoreV1.ReadNamespacedServiceAccountAsync("rbac-proxy", vaultNamespace);
            await Cluster.Client.CoreV1.ReadNamespacedServiceAsync("rbac-proxy-lb", vaultNamespace);
            await Cluster.Client.RbacAuthorizationV1.ReadNamespacedRoleAsync("rbac-proxy", vaultNamespace);
            await Cluster.Client.RbacAuthorizationV1.ReadNamespacedRoleBindingAsync("rbac-proxy", vaultNamespace);
            await Cluster.Client.CoreV1.ReadNamespacedSecretAsync("rbac-master-key", vaultNamespace);
            await Cluster.Client.CoreV1.ReadNamespacedSecretAsync("rbac-proxy-config", vaultNamespace);
            (await Cluster.KubectlAsync($"get poddisruptionbudget rbac-proxy -n {vaultNamespace}")).EnsureSuccess("get the proxy PodDisruptionBudget");
            var events = (await Cluster.KubectlAsync($"get events -n {vaultNamespace} --field-selector involvedObject.name=rbac")).EnsureSuccess("kubectl get events");
            Assert.Contains("MasterKeyCreated", events.StandardOutput, StringComparison.Ordinal);
            var lease = await Cluster.Client.CoordinationV1.ReadNamespacedLeaseAsync("xks-operator-leader", releaseNamespace);
            Assert.StartsWith(op.Identity, lease.Spec.HolderIdentity, StringComparison.Ordinal);
            Assert.DoesNotContain("forbidden", op.Output, StringComparison.OrdinalIgnoreCase);
        }
        finally
        {
            File.Delete(kubeconfig);
        }
    }

    /// <summary>
    /// The negative control of <see cref="ReconcileVaultAsServiceAccountAsync"/>: the same operator and credentials
    /// pointed at a namespace the RBAC does not cover never becomes ready, and says why.
    /// </summary>
    private static async Task AssertOperatorForbiddenAsync(string releaseNamespace, string serviceAccount, string vaultNamespace)
    {
        var kubeconfig = Path.Combine(Path.GetTempPath(), $"xks-{Guid.NewGuid():N}.kubeconfig");
        try
        {
            await WriteServiceAccountKubeconfigAsync(releaseNamespace, serviceAccount, kubeconfig);
            // Without leader election: a standby replica is ready by design (its caches are warm), and this process
            // could still be waiting for the Lease of the previous one, which would make /readyz say nothing here.
            await using var op = await OperatorProcess.StartAsync(vaultNamespace, leaderElect: false, extraArguments: $"--kubeconfig {kubeconfig}");
            var refused = await PollAsync(
                () => Task.FromResult(op.Output.Contains("forbidden", StringComparison.OrdinalIgnoreCase) || op.Output.Contains("403", StringComparison.Ordinal)),
                TimeSpan.FromSeconds(30));
            Assert.True(refused, "no Forbidden reported:\n" + op.Output);
            Assert.False(await op.GetAsync("/readyz") is { Status: HttpStatusCode.OK }, "ready without access to its namespace");
        }
        finally
        {
            File.Delete(kubeconfig);
        }
    }

    /// <summary>A kubeconfig for the local API server that authenticates with a token of the ServiceAccount.</summary>
    private static async Task WriteServiceAccountKubeconfigAsync(string ns, string serviceAccount, string path)
    {
        var token = (await Cluster.KubectlAsync($"create token {serviceAccount} -n {ns} --duration 1h")).EnsureSuccess("kubectl create token").StandardOutput.Trim();
        var admin = KubernetesYaml.Deserialize<k8s.KubeConfigModels.K8SConfiguration>(await File.ReadAllTextAsync(Cluster.KubeconfigPath));
        var server = admin.Clusters.Single();
        var config = $$"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: local
              cluster: {server: "{{server.ClusterEndpoint.Server}}", certificate-authority: "{{server.ClusterEndpoint.CertificateAuthority}}"}
            users:
            - name: operator
              user: {token: "{{token}}"}
            contexts:
            - name: operator
              context: {cluster: local, user: operator}
            current-context: operator
            """;
        await File.WriteAllTextAsync(path, config);
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

    private static async Task<bool> PollAsync(Func<Task<bool>> condition, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            await Task.Delay(200);
        }

        return true;
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
