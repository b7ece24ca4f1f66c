using k8s.Models;

namespace Xks.Operator.Charts.Tests;

/// <summary>
/// What the operator is expected to be allowed to do on the namespaces it manages, as (group, resource, verb)
/// triples: exactly this, nothing more. Shared by the template and install tests.
/// </summary>
internal static class OperatorRbac
{
    private static readonly string[] ChildVerbs = ["get", "list", "watch", "create", "update", "patch", "delete"];

    private static readonly string[] Kinds = ["vaults", "cspaccounts", "keysets", "cloudkeys"];

    public static IReadOnlySet<(string Group, string Resource, string Verb)> Expected { get; } = Build();

    /// <summary><see cref="Expected"/> plus what only a cluster-wide install holds: ClusterCspAccounts and Namespaces.</summary>
    public static IReadOnlySet<(string Group, string Resource, string Verb)> ExpectedClusterWide { get; } = new HashSet<(string, string, string)>(Expected)
    {
        ("xks.dev", "clustercspaccounts", "get"),
        ("xks.dev", "clustercspaccounts", "list"),
        ("xks.dev", "clustercspaccounts", "watch"),
        ("xks.dev", "clustercspaccounts/status", "get"),
        ("xks.dev", "clustercspaccounts/status", "update"),
        ("xks.dev", "clustercspaccounts/status", "patch"),
        ("", "namespaces", "get"),
        ("", "namespaces", "list"),
        ("", "namespaces", "watch"),
    };

    /// <summary>Flattens policy rules into triples (no wildcards or resourceNames are expected in the chart).</summary>
    public static HashSet<(string Group, string Resource, string Verb)> Flatten(IEnumerable<V1PolicyRule> rules)
    {
        var triples = new HashSet<(string, string, string)>();
        foreach (var rule in rules)
        {
            Assert.Null(rule.ResourceNames);
            Assert.Null(rule.NonResourceURLs);
            foreach (var group in rule.ApiGroups)
            {
                foreach (var resource in rule.Resources)
                {
                    foreach (var verb in rule.Verbs)
                    {
                        Assert.NotEqual("*", verb);
                        Assert.NotEqual("*", resource);
                        Assert.NotEqual("*", group);
                        triples.Add((group, resource, verb));
                    }
                }
            }
        }

        return triples;
    }

    private static HashSet<(string, string, string)> Build()
    {
        var expected = new HashSet<(string, string, string)>();
        foreach (var kind in Kinds)
        {
            foreach (var verb in new[] { "get", "list", "watch", "update", "patch" })
            {
                expected.Add(("xks.dev", kind, verb));
            }

            foreach (var verb in new[] { "get", "update", "patch" })
            {
                expected.Add(("xks.dev", kind + "/status", verb));
            }

            expected.Add(("xks.dev", kind + "/finalizers", "update"));
        }

        void Children(string group, params string[] resources)
        {
            foreach (var resource in resources)
            {
                foreach (var verb in ChildVerbs)
                {
                    expected.Add((group, resource, verb));
                }
            }
        }

        Children("", "secrets", "serviceaccounts", "services");
        Children("apps", "deployments");
        Children("policy", "poddisruptionbudgets");
        Children("networking.k8s.io", "ingresses", "networkpolicies");
        Children("rbac.authorization.k8s.io", "roles", "rolebindings");
        Children("cert-manager.io", "certificates");
        foreach (var group in new[] { "", "events.k8s.io" })
        {
            expected.Add((group, "events", "create"));
            expected.Add((group, "events", "patch"));
        }

        return expected;
    }
}
