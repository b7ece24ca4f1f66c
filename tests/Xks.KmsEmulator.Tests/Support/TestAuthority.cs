using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Xks.KmsEmulator.Tests.Support;

/// <summary>A throw-away CA (ca.pem) and a server certificate for one DNS name (server.pem, server.key) it issued.</summary>
public sealed class TestAuthority
{
    private TestAuthority(string caFile, string certificateFile, string keyFile)
    {
        CaFile = caFile;
        CertificateFile = certificateFile;
        KeyFile = keyFile;
    }

    public string CaFile { get; }

    public string CertificateFile { get; }

    public string KeyFile { get; }

    public static TestAuthority Create(string directory, string dnsName)
    {
        Directory.CreateDirectory(directory);
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=XKS emulator test CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        using var ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(2));

        using var serverKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={dnsName}", serverKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(dnsName);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, true, false));
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        using var server = request.Create(ca, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1), serial);

        var authority = new TestAuthority(Path.Combine(directory, "ca.pem"), Path.Combine(directory, "server.pem"), Path.Combine(directory, "server.key"));
        File.WriteAllText(authority.CaFile, ca.ExportCertificatePem() + "\n");
        File.WriteAllText(authority.CertificateFile, server.ExportCertificatePem() + "\n");
        File.WriteAllText(authority.KeyFile, serverKey.ExportPkcs8PrivateKeyPem() + "\n");
        return authority;
    }
}
