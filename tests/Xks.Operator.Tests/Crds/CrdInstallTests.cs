using System.Text.RegularExpressions;
using k8s;
using k8s.Models;
using Xks.Operator.Entities;
using Xks.Testing;

namespace Xks.Operator.Crds.Tests;

/// <summary>
/// The committed CRDs and samples against the local 1.20 API server. The CRDs are cluster-scoped and shared with every
/// other test (see <see cref="ClusterCrds"/>); each test works in a namespace of its own.
/// </summary>
[Trait("Category", "Cluster")]
public partial class CrdInstallTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);
    private static string Samples => Path.Combine(LocalCluster.RepositoryRoot, "config", "samples");

    [Fact]
    public async Task InstallCrds_AppliedAgain_SucceedsUnchanged()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await ClusterCrds.InstallAsync(cts.Token);

        var again = await LocalCluster.Instance.KubectlAsync($"apply -f {ClusterCrds.Directory}", cancellationToken: cts.Token);

        Assert.True(again.ExitCode == 0, again.Output);
        foreach (var plural in ClusterCrds.Plurals)
        {
            var crd = await LocalCluster.Instance.Client.ApiextensionsV1.ReadCustomResourceDefinitionAsync($"{plural}.xks.dev", cancellationToken: cts.Token);
            Assert.Contains(crd.Status.Conditions, c => c.Type == "Established" && c.Status == "True");
            Assert.Contains(crd.Status.Conditions, c => c.Type == "NamesAccepted" && c.Status == "True");
            Assert.DoesNotContain(crd.Status.Conditions, c => c.Type == "NonStructuralSchema" && c.Status == "True");
        }
    }

    [Fact]
    public async Task ApplySamples_EveryKind_AcceptedAndDefaulted()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await ClusterCrds.InstallAsync(cts.Token);
        var cluster = LocalCluster.Instance;
        var ns = await cluster.CreateNamespaceAsync("crd");
        try
        {
            var apply = await cluster.KubectlAsync($"apply -n {ns} -f {Samples}", cancellationToken: cts.Token);
            Assert.True(apply.ExitCode == 0, apply.Output);

            var all = await cluster.KubectlAsync($"get xks -n {ns} -o name", cancellationToken: cts.Token);
            Assert.Equal(
                ["cloudkey.xks.dev/payments-db", "cspaccount.xks.dev/production", "keyset.xks.dev/payments", "vault.xks.dev/xks"],
                all.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal));

            // defaults the samples leave out are filled in by the API server
            Assert.Equal("false", await JsonPathAsync(ns, "vault/xks", "{.spec.allowSingleReplica}", cts.Token));
            Assert.Equal("cert-manager.io", await JsonPathAsync(ns, "vault/xks", "{.spec.tls.issuerRef.group}", cts.Token));
            Assert.Equal("accessKeyId", await JsonPathAsync(ns, "cspaccount/production", "{.spec.credentials.secretRef.accessKeyIdKey}", cts.Token));
            Assert.Equal("false", await JsonPathAsync(ns, "keyset/payments", "{.spec.blocked}", cts.Token));
            Assert.Equal("Secret", await JsonPathAsync(ns, "cspaccount/production", "{.spec.credentials.source}", cts.Token));
        }
        finally
        {
            await DeleteNamespaceAsync(ns);
        }
    }

    [Fact]
    public async Task ApplyMinimalVault_OnlyHostname_ObjectDefaultsApplied()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await ClusterCrds.InstallAsync(cts.Token);
        var cluster = LocalCluster.Instance;
        var ns = await cluster.CreateNamespaceAsync("crd");
        try
        {
            var apply = await cluster.KubectlAsync($"apply -n {ns} -f -", VaultYaml("minimal", "hostname: xks.example.com"), cts.Token);
            Assert.True(apply.ExitCode == 0, apply.Output);

            Assert.Equal("2", await JsonPathAsync(ns, "vault/minimal", "{.spec.replicas}", cts.Token));
            Assert.Equal("Ingress", await JsonPathAsync(ns, "vault/minimal", "{.spec.exposure.type}", cts.Token));
            Assert.Equal("Software", await JsonPathAsync(ns, "vault/minimal", "{.spec.keyBackend.type}", cts.Token));
            Assert.Equal("Information", await JsonPathAsync(ns, "vault/minimal", "{.spec.proxy.logLevel}", cts.Token));
        }
        finally
        {
            await DeleteNamespaceAsync(ns);
        }
    }

    [Fact]
    public async Task ExplainVaultSpec_EveryField_ListedWithItsDescription()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await ClusterCrds.InstallAsync(cts.Token);
        var spec = KubernetesYaml.Deserialize<V1CustomResourceDefinition>(File.ReadAllText(Path.Combine(ClusterCrds.Directory, "xks.dev_vaults.yaml")))
            .Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"];

        // the API server publishes a new CRD's OpenAPI a few seconds after it is Established
        var explained = "";
        var missing = new List<string>();
        for (var attempt = 0; attempt < 30; attempt++)
        {
            var explain = await LocalCluster.Instance.KubectlAsync("explain vault.spec", cancellationToken: cts.Token);
            explained = Collapse(explain.StandardOutput);
            missing = [.. spec.Properties.Where(p => !explained.Contains(Collapse(p.Value.Description), StringComparison.Ordinal)).Select(p => p.Key)];
            if (explain.ExitCode == 0 && missing.Count == 0)
            {
                break;
            }

            await Task.Delay(TimeSpan.FromSeconds(1), cts.Token);
        }

        Assert.True(missing.Count == 0, $"kubectl explain vault.spec lacks {string.Join(", ", missing)}:\n{explained}");
        Assert.Contains("Desired state of the Vault.", explained, StringComparison.Ordinal);
        Assert.Matches(@"hostname\s+<string>\s+-required-", explained);
        foreach (var field in spec.Properties.Keys)
        {
            Assert.Matches($@"(^|\s){field}\s+<", explained);
        }
    }

    [Fact]
    public async Task GetVaults_WithStatus_ShowsPrinterColumnsAndCanBeWaitedOn()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await ClusterCrds.InstallAsync(cts.Token);
        var cluster = LocalCluster.Instance;
        var ns = await cluster.CreateNamespaceAsync("crd");
        try
        {
            var apply = await cluster.KubectlAsync($"apply -n {ns} -f {Path.Combine(Samples, "xks.dev_v1alpha1_vault.yaml")}", cancellationToken: cts.Token);
            Assert.True(apply.ExitCode == 0, apply.Output);

            var before = await cluster.KubectlAsync($"get vaults -n {ns}", cancellationToken: cts.Token);
            Assert.Matches(@"^NAME\s+HOSTNAME\s+READY\s+REPLICAS\s+AGE\n", before.StandardOutput);
            Assert.Matches(@"\nxks\s+xks\.example\.com\s+", before.StandardOutput);

            const string Status = """
                {"status":{"endpoint":"https://xks.example.com","replicas":2,"readyReplicas":2,"observedGeneration":1,
                 "conditions":[{"type":"Ready","status":"True","reason":"Available","message":"2 of 2 proxy replicas ready",
                                "lastTransitionTime":"2026-01-01T00:00:00Z","observedGeneration":1}]}}
                """;
            var patch = await cluster.KubectlAsync(
                $"patch vault xks -n {ns} --subresource=status --type=merge --patch-file=/dev/stdin", Status, cts.Token);
            Assert.True(patch.ExitCode == 0, patch.Output);

            var wide = await cluster.KubectlAsync($"get xv -n {ns} -o wide", cancellationToken: cts.Token);
            Assert.Matches(@"^NAME\s+HOSTNAME\s+READY\s+REPLICAS\s+ENDPOINT\s+REASON\s+AGE\n", wide.StandardOutput);
            Assert.Matches(@"\nxks\s+xks\.example\.com\s+True\s+2\s+https://xks\.example\.com\s+Available\s+", wide.StandardOutput);

            var wait = await cluster.KubectlAsync($"wait --for=condition=Ready --timeout=10s -n {ns} vault/xks", cancellationToken: cts.Token);
            Assert.True(wait.ExitCode == 0, wait.Output);
        }
        finally
        {
            await DeleteNamespaceAsync(ns);
        }
    }

    /// <summary>The C# entities as the operator sends them: created, status replaced through /status, read back.</summary>
    [Fact]
    public async Task CustomObjects_VaultEntityWithStatus_RoundTripsThroughTheServer()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await ClusterCrds.InstallAsync(cts.Token);
        var client = LocalCluster.Instance.Client;
        var ns = await LocalCluster.Instance.CreateNamespaceAsync("crd");
        try
        {
            var vault = new V1Alpha1Vault();
            vault.Metadata.Name = "typed";
            vault.Spec.Hostname = "xks.example.com";
            vault.Spec.Tls = new V1Alpha1VaultTls { SecretName = "xks-tls" };
            vault.Spec.Proxy.Tolerations = [new V1Toleration { Key = "dedicated", OperatorProperty = "Exists" }];
            var created = KubernetesJson.Deserialize<V1Alpha1Vault>(KubernetesJson.Serialize(
                await client.CustomObjects.CreateNamespacedCustomObjectAsync(vault, "xks.dev", "v1alpha1", ns, "vaults", cancellationToken: cts.Token)));

            created.Status.Endpoint = "https://xks.example.com";
            created.Status.ObservedGeneration = created.Metadata.Generation;
            Conditions.Set(created.Status.Conditions, ConditionTypes.Ready, ConditionStatus.False, "InvalidSpec", "", created.Metadata.Generation, TimeProvider.System);
            Conditions.Set(created.Status.Conditions, ConditionTypes.CertificateReady, ConditionStatus.True, "SecretValid", "xks-tls is valid", created.Metadata.Generation, TimeProvider.System);
            await client.CustomObjects.ReplaceNamespacedCustomObjectStatusAsync(created, "xks.dev", "v1alpha1", ns, "vaults", "typed", cancellationToken: cts.Token);

            var read = KubernetesJson.Deserialize<V1Alpha1Vault>(KubernetesJson.Serialize(
                await client.CustomObjects.GetNamespacedCustomObjectAsync("xks.dev", "v1alpha1", ns, "vaults", "typed", cts.Token)));
            Assert.Equal(2, read.Spec.Replicas);
            Assert.Equal("Exists", Assert.Single(read.Spec.Proxy.Tolerations!).OperatorProperty);
            Assert.Equal("https://xks.example.com", read.Status.Endpoint);
            Assert.Equal(1, read.Status.ObservedGeneration);
            Assert.Equal(ConditionStatus.False, Conditions.Get(read.Status.Conditions, ConditionTypes.Ready)!.Status);
            Assert.Null(Conditions.Get(read.Status.Conditions, ConditionTypes.Ready)!.Message);
            Assert.Equal("xks-tls is valid", Conditions.Get(read.Status.Conditions, ConditionTypes.CertificateReady)!.Message);
            Assert.True(Conditions.IsTrue(read.Status.Conditions, ConditionTypes.CertificateReady));
        }
        finally
        {
            await DeleteNamespaceAsync(ns);
        }
    }

    [Theory]
    [InlineData("replicas 0", "hostname: xks.example.com\n  replicas: 0", "spec.replicas", "greater than or equal to 1")]
    [InlineData("replicas 51", "hostname: xks.example.com\n  replicas: 51", "spec.replicas", "less than or equal to 50")]
    [InlineData("hostname with port", "hostname: kms.example.com:443", "spec.hostname", "should match")]
    [InlineData("hostname is an IP", "hostname: 10.0.0.1", "spec.hostname", "should match")]
    [InlineData("hostname in capitals", "hostname: KMS.example.com", "spec.hostname", "should match")]
    [InlineData("no hostname", "replicas: 2", "spec.hostname", "Required value")]
    [InlineData("unknown key backend", "hostname: xks.example.com\n  keyBackend:\n    type: Unknown", "spec.keyBackend.type", "supported values: \"Software\", \"Pkcs11\"")]
    [InlineData("unknown exposure", "hostname: xks.example.com\n  exposure:\n    type: NodePort", "spec.exposure.type", "supported values: \"Ingress\", \"LoadBalancer\"")]
    [InlineData("issuerRef without name", "hostname: xks.example.com\n  tls:\n    issuerRef:\n      kind: ClusterIssuer", "spec.tls.issuerRef.name", "Required value")]
    public async Task ApplyInvalidVault_RejectedAtApplyTime_WithTheFieldAndRule(string scenario, string spec, string field, string rule)
    {
        using var cts = new CancellationTokenSource(Timeout);
        await ClusterCrds.InstallAsync(cts.Token);
        var cluster = LocalCluster.Instance;
        var ns = await cluster.CreateNamespaceAsync("crd");
        try
        {
            // as a user runs it: kubectl validates against the published schema first (missing required fields),
            // otherwise the API server rejects the object
            var apply = await cluster.KubectlAsync($"apply -n {ns} -f -", VaultYaml("invalid", spec), cts.Token);
            Assert.True(apply.ExitCode != 0, $"{scenario}: accepted\n{apply.Output}");
            Assert.Contains(field.Split('.')[^1], apply.StandardError, StringComparison.Ordinal);

            // the API server alone (any client, e.g. Argo CD or the KubernetesClient)
            var server = await cluster.KubectlAsync($"apply --validate=false -n {ns} -f -", VaultYaml("invalid", spec), cts.Token);
            Assert.True(server.ExitCode != 0, $"{scenario}: accepted by the server\n{server.Output}");
            Assert.Contains("The Vault \"invalid\" is invalid", server.StandardError, StringComparison.Ordinal);
            Assert.Contains(field, server.StandardError, StringComparison.Ordinal);
            Assert.Contains(rule, server.StandardError, StringComparison.Ordinal);
            var get = await cluster.KubectlAsync($"get vault invalid -n {ns}", cancellationToken: cts.Token);
            Assert.Contains("NotFound", get.StandardError, StringComparison.Ordinal);
        }
        finally
        {
            await DeleteNamespaceAsync(ns);
        }
    }

    private static string VaultYaml(string name, string spec) =>
        $"apiVersion: xks.dev/v1alpha1\nkind: Vault\nmetadata:\n  name: {name}\nspec:\n  {spec}\n";

    private static async Task<string> JsonPathAsync(string ns, string resource, string jsonPath, CancellationToken cancellationToken)
    {
        var result = await LocalCluster.Instance.KubectlAsync($"get {resource} -n {ns} -o jsonpath={jsonPath}", cancellationToken: cancellationToken);
        return result.EnsureSuccess($"kubectl get {resource}").StandardOutput.Trim();
    }

    private static async Task DeleteNamespaceAsync(string ns)
    {
        try
        {
            await LocalCluster.Instance.Client.CoreV1.DeleteNamespaceAsync(ns);
        }
        catch (k8s.Autorest.HttpOperationException)
        {
            // best effort: the namespace is unique to this test
        }
    }

    private static string Collapse(string text) => WhiteSpace().Replace(text, " ").Trim();

    [GeneratedRegex(@"\s+")]
    private static partial Regex WhiteSpace();

}
