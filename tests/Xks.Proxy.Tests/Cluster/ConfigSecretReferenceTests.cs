namespace Xks.Proxy.Cluster.Tests;

public sealed class ConfigSecretReferenceTests
{
    [Theory]
    [InlineData("vault-a-proxy-config", "pod-ns", "pod-ns", "vault-a-proxy-config")]
    [InlineData("team-a/vault-a-proxy-config", "pod-ns", "team-a", "vault-a-proxy-config")]
    [InlineData(" team-a/cfg.v1 ", "pod-ns", "team-a", "cfg.v1")]
    public void TryParse_NameOrNamespaceAndName_UsesThePodNamespaceWhenOmitted(string value, string podNamespace, string ns, string name)
    {
        Assert.True(ConfigSecretReference.TryParse(value, () => podNamespace, out var reference, out var problem), problem);
        Assert.Equal(new ConfigSecretReference(ns, name), reference);
        Assert.Equal("metadata.name=" + name, reference.FieldSelector);
        Assert.Equal($"Secret {ns}/{name}", reference.Description);
    }

    [Theory]
    [InlineData("a/b/c", "not NAME or NAMESPACE/NAME")]
    [InlineData("ns/", "is not a Secret name")]
    [InlineData("Upper", "is not a Secret name")]
    [InlineData("ns.with.dots/name", "is not a namespace name")]
    [InlineData("/name", "is not a namespace name")]
    public void TryParse_Malformed_SaysWhatIsWrong(string value, string expected)
    {
        Assert.False(ConfigSecretReference.TryParse(value, () => "pod-ns", out _, out var problem));
        Assert.Contains(expected, problem, StringComparison.Ordinal);
    }

    [Fact]
    public void TryParse_WithNamespace_NeverAsksForTheDefault() =>
        Assert.True(ConfigSecretReference.TryParse("ns/name", () => throw new InvalidOperationException("not in a pod"), out _, out _));
}
