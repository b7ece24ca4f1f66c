using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Xks.Proxy.Tests.Support;

/// <summary>A certificate (with its private key) and the PEM files it was written to.</summary>
public sealed record PemFiles(X509Certificate2 Certificate, string CertificateFile, string KeyFile)
{
    public string Sha256Fingerprint => Certificate.GetCertHashString(HashAlgorithmName.SHA256);
}

/// <summary>
/// ECDSA P-256 certificates made with .NET's CertificateRequest and written as PEM (certificate, PKCS#8 key), as
/// OpenSSL-based clients (curl, python, openssl s_client) and the proxy read them.
/// </summary>
public static class TestCertificates
{
    private static readonly Oid ServerAuth = new("1.3.6.1.5.5.7.3.1");
    private static readonly Oid ClientAuth = new("1.3.6.1.5.5.7.3.2");

    /// <summary>A self-signed server certificate for 127.0.0.1 and localhost, written to NAME.pem and NAME.key.</summary>
    public static PemFiles WriteSelfSignedServer(string directory, string name, string commonName = "localhost")
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([ServerAuth], false));
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        san.AddDnsName("localhost");
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(2));
        return Write(directory, name, certificate);
    }

    /// <summary>A self-signed CA certificate (with key) that can issue client certificates.</summary>
    public static PemFiles WriteCertificateAuthority(string directory, string name, string commonName)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(2));
        return Write(directory, name, certificate);
    }

    /// <summary>A client certificate (EKU clientAuth) with subject CN=<paramref name="commonName"/>, issued by <paramref name="issuer"/>.</summary>
    public static PemFiles WriteClient(string directory, string name, PemFiles issuer, string commonName)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([ClientAuth], false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer.Certificate, true, false));
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        using var signed = request.Create(issuer.Certificate, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1), serial);
        return Write(directory, name, signed.CopyWithPrivateKey(key));
    }

    /// <summary>Writes PEM text to a temporary file and renames it over <paramref name="path"/> (readers never see half a file).</summary>
    public static void ReplaceFile(string path, string text)
    {
        var temporary = path + ".tmp-" + Guid.NewGuid().ToString("N");
        File.WriteAllText(temporary, text);
        File.Move(temporary, path, overwrite: true);
    }

    private static PemFiles Write(string directory, string name, X509Certificate2 certificate)
    {
        Directory.CreateDirectory(directory);
        var certificateFile = Path.Combine(directory, name + ".pem");
        var keyFile = Path.Combine(directory, name + ".key");
        File.WriteAllText(certificateFile, certificate.ExportCertificatePem() + "\n");
        using var key = certificate.GetECDsaPrivateKey() ?? throw new InvalidOperationException("certificate without an ECDSA private key");
        File.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem() + "\n");
        return new PemFiles(certificate, certificateFile, keyFile);
    }
}
