using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Xks.Proxy.Benchmarks;

/// <summary>A self-signed ECDSA P-256 server certificate for 127.0.0.1 and localhost, as PEM files the proxy and the baseline both load.</summary>
internal sealed record CertificateFiles(string CertificateFile, string PrivateKeyFile, string Sha256Thumbprint)
{
    public static CertificateFiles Create(string directory)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));

        var files = new CertificateFiles(
            Path.Combine(directory, "server.crt"),
            Path.Combine(directory, "server.key"),
            certificate.GetCertHashString(HashAlgorithmName.SHA256));
        File.WriteAllText(files.CertificateFile, certificate.ExportCertificatePem());
        File.WriteAllText(files.PrivateKeyFile, key.ExportPkcs8PrivateKeyPem());
        return files;
    }
}
