using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Xks.Testing;

/// <summary>A certificate (with its private key) and the PEM files it was written to, as the proxy and OpenSSL-based clients read them.</summary>
public sealed record PemFiles(X509Certificate2 Certificate, string CertificateFile, string KeyFile)
{
    public string Sha256Fingerprint => Certificate.GetCertHashString(HashAlgorithmName.SHA256);

    /// <summary>Writes the certificate to DIRECTORY/NAME.pem and its ECDSA key (PKCS#8) to DIRECTORY/NAME.key; the directory is created.</summary>
    public static PemFiles Write(string directory, string name, X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        Directory.CreateDirectory(directory);
        var certificateFile = Path.Combine(directory, name + ".pem");
        var keyFile = Path.Combine(directory, name + ".key");
        File.WriteAllText(certificateFile, certificate.ExportCertificatePem() + "\n");
        using var key = certificate.GetECDsaPrivateKey() ?? throw new InvalidOperationException("certificate without an ECDSA private key");
        File.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem() + "\n");
        return new PemFiles(certificate, certificateFile, keyFile);
    }
}
