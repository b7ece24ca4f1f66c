using Xks.Operator.Entities;

namespace Xks.Operator.Resources.Tests;

public class ProxyCertificateBuilderTests
{
    [Fact]
    public void Build_IssuerRef_RequestsAnEcdsaCertificateForTheHostnameWithKeyRotation()
    {
        var certificate = ProxyCertificateBuilder.Build(ResourceTestSupport.MinimalVault())!;

        Assert.Equal("cert-manager.io/v1", certificate.ApiVersion);
        Assert.Equal("Certificate", certificate.Kind);
        Assert.Equal("demo", certificate.Metadata.Name);
        Assert.Equal("demo-tls", certificate.Spec.SecretName);
        Assert.Equal("xks.demo.example.com", certificate.Spec.CommonName);
        Assert.Equal(["xks.demo.example.com"], certificate.Spec.DnsNames);
        Assert.Equal(("acme", "Issuer", "cert-manager.io"), (certificate.Spec.IssuerRef.Name, certificate.Spec.IssuerRef.Kind, certificate.Spec.IssuerRef.Group));
        Assert.Null(certificate.Spec.Duration);
        Assert.Null(certificate.Spec.RenewBefore);
        Assert.Equal(("ECDSA", 256, "Always"), (certificate.Spec.PrivateKey!.Algorithm, certificate.Spec.PrivateKey.Size, certificate.Spec.PrivateKey.RotationPolicy));
    }

    [Fact]
    public void Build_SpecValues_AreCopied()
    {
        var vault = ResourceTestSupport.MinimalVault(s => s.Tls = new V1Alpha1VaultTls
        {
            IssuerRef = new V1Alpha1IssuerReference { Name = "le", Kind = "ClusterIssuer", Group = "example.io" },
            SecretName = "custom",
            Duration = "720h",
            RenewBefore = "240h",
        });

        var certificate = ProxyCertificateBuilder.Build(vault)!;

        Assert.Equal("custom", certificate.Spec.SecretName);
        Assert.Equal(("le", "ClusterIssuer", "example.io"), (certificate.Spec.IssuerRef.Name, certificate.Spec.IssuerRef.Kind, certificate.Spec.IssuerRef.Group));
        Assert.Equal(("720h", "240h"), (certificate.Spec.Duration, certificate.Spec.RenewBefore));
    }

    [Fact]
    public void Build_NoIssuerRef_IsNull() =>
        Assert.Null(ProxyCertificateBuilder.Build(ResourceTestSupport.MinimalVault(s => s.Tls = new V1Alpha1VaultTls { SecretName = "x" })));

    [Fact]
    public void BuildBackend_BackendIssuerRef_RequestsAnEcdsaCertificateForTheServicesClusterNames()
    {
        var vault = ResourceTestSupport.MinimalVault(s => s.Tls!.BackendIssuerRef = new V1Alpha1IssuerReference { Name = "platform-ca" });

        var certificate = ProxyCertificateBuilder.BuildBackend(vault)!;

        Assert.Equal("demo-backend", certificate.Metadata.Name);
        Assert.Equal("demo-backend-tls", certificate.Spec.SecretName);
        Assert.Equal(["demo-proxy.ns1.svc", "demo-proxy.ns1.svc.cluster.local"], certificate.Spec.DnsNames);
        Assert.Equal(("platform-ca", "Issuer", "cert-manager.io"), (certificate.Spec.IssuerRef.Name, certificate.Spec.IssuerRef.Kind, certificate.Spec.IssuerRef.Group));
        Assert.Equal(("ECDSA", 256, "Always"), (certificate.Spec.PrivateKey!.Algorithm, certificate.Spec.PrivateKey.Size, certificate.Spec.PrivateKey.RotationPolicy));
    }

    [Fact]
    public void BuildBackend_WithoutBackendIssuerRefOrBehindALoadBalancer_IsNull()
    {
        Assert.Null(ProxyCertificateBuilder.BuildBackend(ResourceTestSupport.MinimalVault()));
        Assert.Null(ProxyCertificateBuilder.BuildBackend(ResourceTestSupport.MinimalVault(s =>
        {
            s.Exposure = new V1Alpha1VaultExposure { Type = V1Alpha1ExposureType.LoadBalancer };
            s.Tls!.BackendIssuerRef = new V1Alpha1IssuerReference { Name = "platform-ca" };
        })));
    }
}
