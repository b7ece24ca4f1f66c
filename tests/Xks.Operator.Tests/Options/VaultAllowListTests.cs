using Xks.Operator.Entities;
using Xks.Operator.Resources.Tests;

namespace Xks.Operator.Options.Tests;

/// <summary>What a Vault may choose that runs code or steers traffic beyond it, by the operator's flags.</summary>
public sealed class VaultAllowListTests
{
    private static readonly VaultAllowList Defaults = new() { DefaultProxyImage = "registry.example:5000/xks/xks-proxy:1.2.0" };

    private static readonly VaultAllowList Platform = Defaults with
    {
        ProxyImages = ["registry.example:5000/xks/*"],
        Pkcs11Libraries = ["/opt/nfast/toolkits/pkcs11/libcknfast.so", "/usr/lib/softhsm/*"],
        AnnotationKeys = ["service.beta.kubernetes.io/aws-load-balancer-*", "nginx.ingress.kubernetes.io/proxy-*-timeout"],
    };

    public static TheoryData<string, VaultAllowList, Action<V1Alpha1VaultSpec>, string?> Cases => new()
    {
        { "no image: the operator's default", Defaults, _ => { }, null },
        { "another tag of the default repository", Defaults, s => s.Proxy.Image = "registry.example:5000/xks/xks-proxy:1.3.0", null },
        { "a digest of the default repository", Defaults, s => s.Proxy.Image = "registry.example:5000/xks/xks-proxy@sha256:" + new string('a', 64), null },
        { "a repository that only starts like it", Defaults, s => s.Proxy.Image = "registry.example:5000/xks/xks-proxy-evil:1.2.0", "spec.proxy.image registry.example:5000/xks/xks-proxy-evil:1.2.0 is not an image this operator runs" },
        { "another registry", Defaults, s => s.Proxy.Image = "attacker.example/xks-proxy:1.2.0", "is not an image this operator runs" },
        { "an image the platform lists", Platform, s => s.Proxy.Image = "registry.example:5000/xks/patched-proxy:7", null },
        { "a vendor module by default", Defaults, s => Pkcs11(s, "/opt/cloudhsm/lib/libcloudhsm_pkcs11.so"), null },
        { "Debian's SoftHSM2 by default", Defaults, s => Pkcs11(s, "/usr/lib/softhsm/libsofthsm2.so"), null },
        { "a library of one's own by default", Defaults, s => Pkcs11(s, "/tmp/evil.so"), "PKCS#11 library /tmp/evil.so is not one this operator loads" },
        { "a walk out of a listed directory", Platform, s => Pkcs11(s, "/usr/lib/softhsm/../../../tmp/evil.so"), "PKCS#11 library /usr/lib/softhsm/../../../tmp/evil.so is not one" },
        { "a relative path even with *", Defaults with { Pkcs11Libraries = ["*"] }, s => Pkcs11(s, "libsofthsm2.so"), "PKCS#11 library libsofthsm2.so is not one" },
        { "a listed library", Platform, s => Pkcs11(s, "/usr/lib/softhsm/libsofthsm2.so"), null },
        { "a library off the list", Platform, s => Pkcs11(s, "/var/run/xks/uploads/evil.so"), "PKCS#11 library /var/run/xks/uploads/evil.so is not one this operator loads" },
        { "an additional token's library off the list", Platform, s => { Pkcs11(s, "/usr/lib/softhsm/libsofthsm2.so"); s.KeyBackend.Pkcs11!.AdditionalTokens = [new V1Alpha1Pkcs11Token { Library = "/tmp/evil.so", TokenLabel = "b" }]; }, "PKCS#11 library /tmp/evil.so" },
        { "any annotation by default", Defaults, s => s.Exposure.Ingress = new V1Alpha1VaultIngress { Annotations = new Dictionary<string, string> { ["nginx.ingress.kubernetes.io/proxy-read-timeout"] = "5" } }, null },
        { "a snippet even by default", Defaults, s => s.Exposure.Ingress = new V1Alpha1VaultIngress { Annotations = new Dictionary<string, string> { ["nginx.ingress.kubernetes.io/configuration-snippet"] = "more_set_headers x;" } }, "spec.exposure.ingress.annotations: nginx.ingress.kubernetes.io/configuration-snippet would hand the controller raw configuration" },
        { "a listed Service annotation", Platform, s => s.Exposure.LoadBalancer = new V1Alpha1VaultLoadBalancer { Annotations = new Dictionary<string, string> { ["service.beta.kubernetes.io/aws-load-balancer-type"] = "nlb" } }, null },
        { "a pod annotation off the list", Platform, s => s.Proxy.PodAnnotations = new Dictionary<string, string> { ["container.apparmor.security.beta.kubernetes.io/proxy"] = "unconfined" }, "spec.proxy.podAnnotations: container.apparmor.security.beta.kubernetes.io/proxy is not an annotation key this operator sets" },
    };

    private static void Pkcs11(V1Alpha1VaultSpec spec, string library)
    {
        spec.KeyBackend = new V1Alpha1KeyBackend { Type = V1Alpha1KeyBackendType.Pkcs11, Pkcs11 = new V1Alpha1Pkcs11Backend { Library = library, TokenLabel = "a", PinSecretRef = new V1Alpha1SecretKeyReference { Name = "pin" } } };
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Refusals_OnlyWhatTheFlagsAllow(string because, VaultAllowList allowList, Action<V1Alpha1VaultSpec> change, string? refusal)
    {
        var refusals = allowList.Refusals(ResourceTestSupport.MinimalVault(change));

        if (refusal is null)
        {
            Assert.True(refusals.Count == 0, $"{because}: {string.Join("; ", refusals)}");
        }
        else
        {
            Assert.True(refusals.Count == 1 && refusals[0].Contains(refusal, StringComparison.Ordinal), $"{because}: {string.Join("; ", refusals)}");
        }
    }

    [Theory]
    [InlineData("ghcr.io/xks-operator/xks-proxy:0.1.0", "ghcr.io/xks-operator/xks-proxy")]
    [InlineData("registry.example:5000/xks/xks-proxy", "registry.example:5000/xks/xks-proxy")]
    [InlineData("registry.example:5000/xks/xks-proxy:1@sha256:abc", "registry.example:5000/xks/xks-proxy")]
    [InlineData("localhost/xks-proxy@sha256:abc", "localhost/xks-proxy")]
    public void Repository_DropsTagAndDigestButNotTheRegistryPort(string image, string repository) =>
        Assert.Equal(repository, VaultAllowList.Repository(image));
}
