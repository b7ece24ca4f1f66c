using Xks.Operator.Resources;

namespace Xks.Operator.Options.Tests;

public sealed class OperatorCommandLineTests
{
    [Fact]
    public void Parse_NoArguments_RunsWithDefaults()
    {
        var parsed = OperatorCommandLine.Parse([]);

        Assert.Empty(parsed.Problems);
        Assert.Equal(OperatorCommand.Run, parsed.Command);
        Assert.True(parsed.Options.LeaderElect);
        Assert.Null(parsed.Options.Namespace);
        Assert.Equal(8080, parsed.Options.HttpPort);
        Assert.Equal(TimeSpan.FromHours(1), parsed.Options.ResyncPeriod);
        Assert.Equal(TimeSpan.FromHours(3), parsed.Options.AwsResyncPeriod);
    }

    [Fact]
    public void Parse_EveryRunOption_IsApplied()
    {
        var parsed = OperatorCommandLine.Parse(
        [
            "run", "--kubeconfig", "/k", "--namespace", "team-a", "--leader-elect=false", "--leader-election-namespace", "ops",
            "--workers", "4", "--http-address", "127.0.0.1", "--http-port", "9443", "--resync-period", "1h30m", "--proxy-image", "r/p:1",
            "--access-key-settle", "10s",
        ]);

        Assert.Empty(parsed.Problems);
        var o = parsed.Options;
        Assert.Equal(("/k", "team-a", false, "ops", 4, "127.0.0.1", 9443), (o.Kubeconfig, o.Namespace, o.LeaderElect, o.LeaderElectionNamespace, o.Workers, o.HttpAddress, o.HttpPort));
        Assert.Equal(TimeSpan.FromMinutes(90), o.ResyncPeriod);
        Assert.Equal("r/p:1", o.ProxyImage);
        Assert.Equal(TimeSpan.FromSeconds(10), o.AccessKeySettle);
    }

    [Fact]
    public void Parse_SeveralBadOptions_ListsEveryProblem()
    {
        var parsed = OperatorCommandLine.Parse(["run", "--workers", "0", "--http-port", "70000", "--leader-elect", "maybe", "--resync-period", "5s", "--access-key-settle", "soon", "--colour", "red", "--namespace"]);

        Assert.Collection(
            parsed.Problems,
            p => Assert.StartsWith("--workers: '0'", p, StringComparison.Ordinal),
            p => Assert.StartsWith("--http-port: '70000'", p, StringComparison.Ordinal),
            p => Assert.StartsWith("--leader-elect: 'maybe'", p, StringComparison.Ordinal),
            p => Assert.StartsWith("--resync-period: '5s'", p, StringComparison.Ordinal),
            p => Assert.StartsWith("--access-key-settle: 'soon'", p, StringComparison.Ordinal),
            p => Assert.Equal("unknown option '--colour'", p),
            p => Assert.Equal("--namespace: a value is required", p));
    }

    [Fact]
    public void Parse_IdentityFlags_MakeThePolicy()
    {
        var parsed = OperatorCommandLine.Parse(
        [
            "--ambient-credentials-namespace", "xks-system", "--ambient-credentials-namespace=platform",
            "--allowed-role-arn", "arn:aws:iam::444455556666:role/xks-*", "--allow-http-endpoints", "true",
        ]);

        Assert.Empty(parsed.Problems);
        var policy = parsed.Options.AwsIdentity();
        Assert.Equal(["platform", "xks-system"], policy.AmbientNamespaces.Order(StringComparer.Ordinal));
        Assert.Equal(["arn:aws:iam::444455556666:role/xks-*"], policy.AllowedRoleArns);
        Assert.True(policy.AllowHttpEndpoints);
    }

    [Fact]
    public void Parse_ClusterResourceNamespace_WhereClusterCspAccountsSecretsAreRead()
    {
        Assert.Equal("platform", OperatorCommandLine.Parse(["--cluster-resource-namespace", "platform"]).Options.ClusterResourceNamespace);
        Assert.Equal("--cluster-resource-namespace: a namespace is required", Assert.Single(OperatorCommandLine.Parse(["--cluster-resource-namespace="]).Problems));
    }

    [Fact]
    public void Parse_NoIdentityFlags_NoAmbientNamespaceAnyRoleHttpsOnly()
    {
        var policy = OperatorCommandLine.Parse([]).Options.AwsIdentity();

        Assert.Empty(policy.AmbientNamespaces);
        Assert.Equal(["*"], policy.AllowedRoleArns);
        Assert.False(policy.AllowHttpEndpoints);
    }

    [Fact]
    public void Parse_VaultAllowListFlags_MakeTheAllowList()
    {
        var parsed = OperatorCommandLine.Parse(
        [
            "--proxy-image", "r.example/xks-proxy:2", "--allowed-proxy-image", "r.example/*", "--allowed-pkcs11-library", "/usr/lib/softhsm/*",
            "--allowed-pkcs11-library=/opt/nfast/lib.so", "--allowed-annotation-key", "service.beta.kubernetes.io/*",
        ]);

        Assert.Empty(parsed.Problems);
        var allowList = parsed.Options.VaultAllowList();
        Assert.Equal(["r.example/*"], allowList.EffectiveProxyImages);
        Assert.Equal(["/usr/lib/softhsm/*", "/opt/nfast/lib.so"], allowList.Pkcs11Libraries);
        Assert.Equal(["service.beta.kubernetes.io/*"], allowList.AnnotationKeys);
    }

    [Fact]
    public void Parse_NoVaultAllowListFlags_TheProxyImagesRepositoryAnyLibraryAnyAnnotation()
    {
        var allowList = OperatorCommandLine.Parse(["--proxy-image", "r.example:5000/xks-proxy:2"]).Options.VaultAllowList();

        Assert.Equal(["r.example:5000/xks-proxy:*", "r.example:5000/xks-proxy@*"], allowList.EffectiveProxyImages);
        Assert.Equal(VaultAllowList.KnownPkcs11Libraries, allowList.Pkcs11Libraries);
        Assert.Equal(["*"], allowList.AnnotationKeys);
    }

    [Fact]
    public void Parse_NoNetworkPolicyFlags_EnabledWithIngressNginxAnyAddressAndMonitoring()
    {
        var defaults = OperatorCommandLine.Parse([]).Options.NetworkPolicyDefaults();

        Assert.True(defaults.Enabled);
        Assert.Equal(VaultNetworkPolicyDefaults.Default, defaults);
        Assert.Equal("ingress-nginx", Assert.Single(defaults.IngressApiFrom).NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"]);
        Assert.Equal(["0.0.0.0/0", "::/0"], defaults.LoadBalancerApiFrom.Select(p => p.IpBlock.Cidr));
        Assert.Equal("monitoring", Assert.Single(defaults.MetricsFrom).NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"]);
    }

    [Fact]
    public void Parse_NetworkPolicyFlags_ReplaceEachDefaultList()
    {
        var parsed = OperatorCommandLine.Parse(
        [
            "--network-policy", "false",
            "--network-policy-api-from", """{"namespaceSelector":{"matchLabels":{"kubernetes.io/metadata.name":"traefik"}}}""",
            "--network-policy-api-from={\"podSelector\":{\"matchLabels\":{\"app\":\"edge\"}},\"namespaceSelector\":{}}",
            "--network-policy-load-balancer-api-from", """{"ipBlock":{"cidr":"10.0.0.0/8","except":["10.1.0.0/16"]}}""",
            "--network-policy-metrics-from", "none",
        ]);

        Assert.Empty(parsed.Problems);
        var defaults = parsed.Options.NetworkPolicyDefaults();
        Assert.False(defaults.Enabled);
        Assert.Collection(
            defaults.IngressApiFrom,
            p => Assert.Equal("traefik", p.NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"]),
            p => Assert.Equal(("edge", true), (p.PodSelector.MatchLabels["app"], p.NamespaceSelector is not null)));
        var block = Assert.Single(defaults.LoadBalancerApiFrom).IpBlock;
        Assert.Equal(("10.0.0.0/8", "10.1.0.0/16"), (block.Cidr, Assert.Single(block.Except)));
        Assert.Empty(defaults.MetricsFrom);
    }

    [Theory]
    [InlineData("--network-policy", "maybe", "--network-policy: 'maybe' is not true or false")]
    [InlineData("--network-policy-api-from", "{}", "--network-policy-api-from: '{}' names no source: set podSelector, namespaceSelector or ipBlock")]
    [InlineData("--network-policy-metrics-from", "{\"ipBlock\":{\"cidr\":\"10.0.0.0/33\"}}", "--network-policy-metrics-from: '{\"ipBlock\":{\"cidr\":\"10.0.0.0/33\"}}' has ipBlock.cidr '10.0.0.0/33', which is not a CIDR such as 10.0.0.0/8")]
    [InlineData("--network-policy-load-balancer-api-from", "{\"ipBlock\":{\"cidr\":\"0.0.0.0/0\"},\"podSelector\":{}}", "--network-policy-load-balancer-api-from: '{\"ipBlock\":{\"cidr\":\"0.0.0.0/0\"},\"podSelector\":{}}' sets ipBlock together with a selector; use one or the other")]
    public void Parse_BadNetworkPolicyFlag_IsAProblemNamingTheFlag(string flag, string value, string problem) =>
        Assert.Equal([problem], OperatorCommandLine.Parse([flag, value]).Problems);

    [Fact]
    public void Parse_NetworkPolicyPeerThatIsNotJson_IsAProblem()
    {
        var problem = Assert.Single(OperatorCommandLine.Parse(["--network-policy-api-from", "namespace: ingress-nginx"]).Problems);

        Assert.StartsWith("--network-policy-api-from: 'namespace: ingress-nginx' is not a NetworkPolicyPeer in JSON", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_BadIdentityFlags_AreProblems()
    {
        var parsed = OperatorCommandLine.Parse(["--ambient-credentials-namespace=", "--allowed-role-arn", "role/admin", "--allow-http-endpoints", "yes"]);

        Assert.Collection(
            parsed.Problems,
            p => Assert.Equal("--ambient-credentials-namespace: a namespace is required", p),
            p => Assert.StartsWith("--allowed-role-arn: 'role/admin' is not a role ARN pattern", p, StringComparison.Ordinal),
            p => Assert.Equal("--allow-http-endpoints: 'yes' is not true or false", p));
    }

    [Fact]
    public void Parse_CrdsWithoutOutput_IsAProblem()
    {
        Assert.Equal(["crds: --output DIR is required"], OperatorCommandLine.Parse(["crds"]).Problems);
        var parsed = OperatorCommandLine.Parse(["crds", "--output", "config/crd/bases"]);
        Assert.Equal((OperatorCommand.Crds, "config/crd/bases"), (parsed.Command, parsed.CrdOutput));
        Assert.Empty(parsed.Problems);
    }

    [Fact]
    public void Parse_UnknownCommand_IsAProblem() =>
        Assert.Equal(["unknown command 'serve' (expected run or crds)"], OperatorCommandLine.Parse(["serve"]).Problems);

    [Theory]
    [InlineData("30s", 30)]
    [InlineData("10m", 600)]
    [InlineData("1h", 3600)]
    [InlineData("1h30m15s", 5415)]
    public void TryParseDuration_GoStyle_IsParsed(string text, int seconds)
    {
        Assert.True(OperatorCommandLine.TryParseDuration(text, out var duration));
        Assert.Equal(TimeSpan.FromSeconds(seconds), duration);
    }

    [Theory]
    [InlineData("")]
    [InlineData("10")]
    [InlineData("m")]
    [InlineData("1d")]
    [InlineData("-5m")]
    public void TryParseDuration_Malformed_IsRefused(string text) =>
        Assert.False(OperatorCommandLine.TryParseDuration(text, out _));
}
