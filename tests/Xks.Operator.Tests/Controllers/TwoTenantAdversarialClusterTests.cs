using System.Text.Json.Nodes;
using Amazon.KeyManagementService.Model;
using Xks.Operator.Charts.Tests;
using Xks.Operator.Scenarios.Tests;
using Xks.Operator.Support.Tests;
using Xks.Testing;

namespace Xks.Operator.Controllers.Tests;

/// <summary>
/// Two tenants of one AWS account. Tenant a is the seed scenario (Vault, CspAccount, KeySet, CloudKey, all Ready).
/// Tenant b holds only the chart's admin role in its own namespace, acts through the API server's RBAC as that
/// ServiceAccount, has its own AWS credential, and tries to take over a's key store (by name, by the same endpoint and
/// path, by <c>spec.adopt</c>), to borrow the operator's identity or a's role, to run a hostile proxy image, to forge
/// status and to read Secrets. Each attempt ends in a clear condition (or a Forbidden), and the emulator's call log
/// shows no successful mutating call naming any of a's objects. Each namespace has its own operator process, as the
/// tests run one per namespace; every proof is made from AWS and the KeySet's own namespace, so one cluster-wide
/// operator decides the same.
/// </summary>
[Trait("Category", "Cluster")]
public sealed class TwoTenantAdversarialClusterTests() : OperatorClusterTest("tenant-a")
{
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(90);
    private string _tenantB = "";

    [Fact]
    public async Task TenantB_TriesEveryTakeover_ClearConditionsAndNoMutatingCallOnTenantAsObjects()
    {
        await using var seed = await SeedEnvironment.StartAsync(Cluster, Ns, () => StartOperatorAsync());
        var storeId = (await seed.StatusFieldAsync("keyset/" + SeedEnvironment.KeySetName, "customKeyStoreId"))!;
        var keyId = (await seed.StatusFieldAsync("cloudkey/" + SeedEnvironment.CloudKeyName, "keyId"))!;
        var store = (await seed.Admin.DescribeCustomKeyStoresAsync(new DescribeCustomKeyStoresRequest { CustomKeyStoreId = storeId })).CustomKeyStores[0];
        string[] tenantA = [storeId, store.CustomKeyStoreName, keyId, SeedEnvironment.Alias];
        var callsOnABefore = seed.Kms.MutatingCallsNaming(tenantA).Count;

        var b = _tenantB = await Cluster.CreateNamespaceAsync("tenant-b");
        var prefix = "adv-" + Guid.NewGuid().ToString("N")[..8];
        OperatorProcess? operatorB = null;
        try
        {
            // The platform team's part: the chart's user roles, tenant b's lead bound to admin in b, b's AWS credential
            // and its TLS Secret (the roles grant no Secrets).
            var roles = (await HelmChart.HelmAsync($"template x {HelmChart.Directory} --show-only templates/user-roles.yaml --set rbac.userRoles.namePrefix={prefix}")).EnsureSuccess("helm template");
            (await Cluster.KubectlAsync("apply -f -", roles.StandardOutput)).EnsureSuccess("kubectl apply the user roles");
            (await Cluster.KubectlAsync($"create rolebinding lead -n {b} --clusterrole {prefix}-admin --serviceaccount {b}:lead")).EnsureSuccess("kubectl create rolebinding");
            (await Cluster.KubectlAsync($"create secret generic aws-credentials -n {b} --from-literal=accessKeyId={seed.ApplicationAccessKeyId} --from-literal=secretAccessKey={seed.ApplicationSecretAccessKey}"))
                .EnsureSuccess("kubectl create secret");
            await TlsSecret.CreateOrReplaceAsync(Client, b, SeedEnvironment.TlsSecretName, seed.Ca, SeedEnvironment.Hostname);
            operatorB = await OperatorProcess.StartAsync(b);
            await operatorB.WaitReadyAsync(Timeout);

            // Tenant b's part, as its lead.
            await AsTenantB(b, "apply -f -", $$"""
                {"apiVersion":"v1","kind":"List","items":[
                 {"apiVersion":"xks.dev/v1alpha1","kind":"CspAccount","metadata":{"name":"mine"},
                  "spec":{"region":"{{SeedEnvironment.Region}}","endpoint":"{{seed.Kms.Url}}","credentials":{"secretRef":{"name":"aws-credentials"} } } },
                 {"apiVersion":"xks.dev/v1alpha1","kind":"CspAccount","metadata":{"name":"borrow"},
                  "spec":{"region":"{{SeedEnvironment.Region}}","endpoint":"{{seed.Kms.Url}}","credentials":{"source":"Default"} } },
                 {"apiVersion":"xks.dev/v1alpha1","kind":"CspAccount","metadata":{"name":"deputy"},
                  "spec":{"region":"{{SeedEnvironment.Region}}","endpoint":"{{seed.Kms.Url}}","credentials":{"secretRef":{"name":"aws-credentials"} },
                          "assumeRole":{"roleArn":"arn:aws:iam::111122223333:role/xks-operator","externalId":"xks:{{Ns}}/{{SeedEnvironment.CspAccountName}}"} } },
                 {"apiVersion":"xks.dev/v1alpha1","kind":"Vault","metadata":{"name":"xks"},
                  "spec":{"hostname":"{{SeedEnvironment.Hostname}}","exposure":{"type":"LoadBalancer"},"tls":{"secretName":"{{SeedEnvironment.TlsSecretName}}","privateCa":true} } },
                 {"apiVersion":"xks.dev/v1alpha1","kind":"Vault","metadata":{"name":"hostile"},
                  "spec":{"hostname":"b.example.com","exposure":{"type":"LoadBalancer"},"tls":{"secretName":"{{SeedEnvironment.TlsSecretName}}","privateCa":true},
                          "proxy":{"image":"evil.example/miner:latest"} } },
                 {"apiVersion":"xks.dev/v1alpha1","kind":"KeySet","metadata":{"name":"by-name"},
                  "spec":{"vaultRef":{"name":"xks"},"cspAccountRef":{"name":"mine"},"externalKeyStore":{"name":"{{store.CustomKeyStoreName}}"} } },
                 {"apiVersion":"xks.dev/v1alpha1","kind":"KeySet","metadata":{"name":"by-path"},
                  "spec":{"vaultRef":{"name":"xks"},"cspAccountRef":{"name":"mine"},"uriPathPrefix":"/payments"} },
                 {"apiVersion":"xks.dev/v1alpha1","kind":"KeySet","metadata":{"name":"by-adopt"},
                  "spec":{"vaultRef":{"name":"xks"},"cspAccountRef":{"name":"mine"},"adopt":{"customKeyStoreId":"{{storeId}}"} } }
                ]}
                """);

            (string Resource, string Reason)[] expected =
            [
                ("cspaccount/mine", "Verified"),
                ("cspaccount/borrow", "IdentityNotAllowed"),
                ("cspaccount/deputy", "IdentityNotAllowed"),
                ("vault/hostile", "NotAllowed"),
                ("keyset/by-name", "Conflict"),
                ("keyset/by-path", "XksProxyUriInUse"), // AWS's own rule: one store per endpoint and path
                ("keyset/by-adopt", "Conflict"),
            ];
            var reasons = new Dictionary<string, string?>();
            var deadline = DateTime.UtcNow + Within;
            while (true)
            {
                foreach (var (resource, _) in expected)
                {
                    reasons[resource] = await ReadyReasonAsync(b, resource);
                }

                if (expected.All(e => reasons[e.Resource] == e.Reason))
                {
                    break;
                }

                Assert.True(DateTime.UtcNow < deadline, $"tenant b's objects not in their expected conditions within {Within.TotalSeconds} s: "
                    + string.Join(", ", expected.Select(e => $"{e.Resource}={reasons[e.Resource]} (expected {e.Reason})"))
                    + "\n--- operator b:\n" + SeedEnvironment.Tail(operatorB.Output, 30));
                await Task.Delay(TimeSpan.FromSeconds(1));
            }

            // Each refusal is an Event tenant b can read with kubectl describe.
            var events = string.Join(' ', JsonNode.Parse((await AsTenantB(b, "get events -o json")).StandardOutput)!["items"]!.AsArray().Select(e => e?["reason"]?.ToString()));
            Assert.Contains("Conflict", events, StringComparison.Ordinal);
            Assert.Contains("IdentityNotAllowed", events, StringComparison.Ordinal);
            Assert.Contains("NotAllowed", events, StringComparison.Ordinal);

            // What b's roles do not allow at all: forging status, reading Secrets, acting in a.
            Assert.Contains("forbidden", (await AsTenantB(b, $"patch keyset by-adopt --subresource=status --type merge -p {{\"status\":{{\"customKeyStoreId\":\"{storeId}\"}}}}", check: false)).Output, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("forbidden", (await AsTenantB(b, "get secret aws-credentials", check: false)).Output, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("forbidden", (await AsTenantB(Ns, $"get secret {SeedEnvironment.KeyMaterialSecretName}", check: false)).Output, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("forbidden", (await AsTenantB(Ns, $"delete cloudkey {SeedEnvironment.CloudKeyName}", check: false)).Output, StringComparison.OrdinalIgnoreCase);

            // Deleting the intruders (their finalizers run) changes nothing of a's either.
            await AsTenantB(b, "delete keyset by-name by-path by-adopt --wait=true --timeout=60s");

            var callsOnA = seed.Kms.MutatingCallsNaming(tenantA);
            Assert.True(callsOnA.Count == callsOnABefore, "mutating calls on tenant a's objects: " + string.Join("; ", callsOnA.Skip(callsOnABefore).Select(c => $"{c.Operation} by {c.Caller} on {string.Join(',', c.Targets)}")));
            Assert.Equal("CONNECTED", (await seed.Admin.DescribeCustomKeyStoresAsync(new DescribeCustomKeyStoresRequest { CustomKeyStoreId = storeId })).CustomKeyStores[0].ConnectionState.Value);
            await seed.WaitReadyAsync(TimeSpan.FromSeconds(30));
        }
        finally
        {
            if (operatorB is not null)
            {
                await operatorB.DisposeAsync();
            }

            await Cluster.KubectlAsync($"delete clusterrole {prefix}-admin {prefix}-editor {prefix}-viewer --ignore-not-found");
            await Cluster.KubectlAsync($"delete namespace {b} --wait=false");
        }
    }

    /// <summary>kubectl in namespace <paramref name="ns"/> as tenant b's lead (the API server authorizes it as that ServiceAccount).</summary>
    private async Task<CommandResult> AsTenantB(string ns, string arguments, string? stdin = null, bool check = true)
    {
        var result = await Cluster.KubectlAsync($"{arguments} -n {ns} --as system:serviceaccount:{_tenantB}:lead", stdin);
        return check ? result.EnsureSuccess("kubectl as tenant b: " + arguments) : result;
    }

    private async Task<string?> ReadyReasonAsync(string ns, string resource)
    {
        var json = await Cluster.KubectlAsync($"get {resource} -n {ns} -o json");
        return json.ExitCode == 0
            ? JsonNode.Parse(json.StandardOutput)?["status"]?["conditions"]?.AsArray().FirstOrDefault(c => c?["type"]?.ToString() == "Ready")?["reason"]?.ToString()
            : null;
    }
}
