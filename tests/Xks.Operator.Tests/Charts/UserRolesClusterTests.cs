using Xks.Testing;

namespace Xks.Operator.Charts.Tests;

/// <summary>
/// The chart's user ClusterRoles on the real API server's RBAC authorizer: bound in tenant namespace b to three
/// ServiceAccounts, each may do what its role says in b, nothing in a, never a /status write, never a Secret; each reads its namespace's Events.
/// </summary>
[Collection(ChartCollection.Name)]
[Trait("Category", "Cluster")]
public sealed class UserRolesClusterTests
{
    private static LocalCluster Cluster => LocalCluster.Instance;

    [Fact]
    public async Task UserRoles_BoundInTenantB_AllowTheirKindsThereAndNothingElse()
    {
        var prefix = "ur-" + Guid.NewGuid().ToString("N")[..8];
        var rendered = (await HelmChart.HelmAsync($"template x {HelmChart.Directory} --show-only templates/user-roles.yaml --set rbac.userRoles.namePrefix={prefix}")).EnsureSuccess("helm template");
        (await Cluster.KubectlAsync("apply -f -", rendered.StandardOutput)).EnsureSuccess("kubectl apply the user roles");
        var b = await Cluster.CreateNamespaceAsync("tenant-b");
        var a = await Cluster.CreateNamespaceAsync("tenant-a");
        try
        {
            foreach (var (role, user) in new[] { ("admin", "lead"), ("editor", "dev"), ("viewer", "auditor") })
            {
                (await Cluster.KubectlAsync($"create rolebinding {role} -n {b} --clusterrole {prefix}-{role} --serviceaccount {b}:{user}")).EnsureSuccess("kubectl create rolebinding");
            }

            (string User, string Verb, string Resource, bool InB, bool Allowed)[] cases =
            [
                ("lead", "create", "vaults", true, true),
                ("lead", "delete", "cspaccounts", true, true),
                ("lead", "create", "keysets", true, true),
                ("lead", "create", "cloudkeys", true, true),
                ("lead", "create", "cloudkeys", false, false),
                ("lead", "patch", "cloudkeys/status", true, false),
                ("lead", "patch", "keysets/status", true, false),
                ("lead", "get", "secrets", true, false),
                ("dev", "create", "cloudkeys", true, true),
                ("dev", "patch", "cloudkeys", true, true),
                ("dev", "delete", "cloudkeys", true, true),
                ("dev", "get", "keysets", true, true),
                ("dev", "create", "keysets", true, false),
                ("dev", "create", "cspaccounts", true, false),
                ("dev", "update", "vaults", true, false),
                ("dev", "patch", "cloudkeys/status", true, false),
                ("dev", "list", "cloudkeys", false, false),
                ("dev", "get", "secrets", true, false),
                ("auditor", "list", "cloudkeys", true, true),
                ("auditor", "watch", "vaults", true, true),
                ("auditor", "create", "cloudkeys", true, false),
                ("auditor", "get", "cloudkeys", false, false),
                ("auditor", "list", "events", true, true),
                ("dev", "watch", "events", true, true),
                ("dev", "list", "events", false, false),
                ("lead", "create", "events", true, false),
            ];
            var wrong = new List<string>();
            foreach (var c in cases)
            {
                var (resource, subresource) = c.Resource.Split('/') is [var r, var s] ? (r, $" --subresource={s}") : (c.Resource, "");
                var answer = await Cluster.KubectlAsync($"auth can-i {c.Verb} {resource}.xks.dev{subresource} -n {(c.InB ? b : a)} --as system:serviceaccount:{b}:{c.User}");
                if (resource is "secrets" or "events")
                {
                    answer = await Cluster.KubectlAsync($"auth can-i {c.Verb} {resource} -n {(c.InB ? b : a)} --as system:serviceaccount:{b}:{c.User}");
                }

                var allowed = answer.StandardOutput.Trim() == "yes";
                if (allowed != c.Allowed)
                {
                    wrong.Add($"{c.User} {c.Verb} {c.Resource} in {(c.InB ? "b" : "a")}: {answer.StandardOutput.Trim()}{answer.StandardError.Trim()}");
                }
            }

            Assert.True(wrong.Count == 0, string.Join("\n", wrong));
        }
        finally
        {
            await Cluster.KubectlAsync($"delete clusterrole {prefix}-admin {prefix}-editor {prefix}-viewer --ignore-not-found");
            await Cluster.KubectlAsync($"delete namespace {a} {b} --wait=false");
        }
    }
}
