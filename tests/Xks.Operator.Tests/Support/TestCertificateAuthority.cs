using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using k8s;
using k8s.Models;

namespace Xks.Operator.Support.Tests;

/// <summary>
/// A throw-away certificate authority (ECDSA P-256, System.Security.Cryptography) and the server certificate it issues
/// for a Vault's hostname: what a public CA would give the proxy behind a LoadBalancer. Written as PEM (the CA for the
/// KMS emulator's trust store, tls.crt/tls.key for the proxy) and as a kubernetes.io/tls Secret.
/// </summary>
internal sealed class TestCertificateAuthority : IDisposable
{
    private static readonly Oid ServerAuth = new("1.3.6.1.5.5.7.3.1");
    private readonly X509Certificate2 _ca;

    private TestCertificateAuthority(X509Certificate2 ca, string directory)
    {
        _ca = ca;
        Directory = directory;
        CaFile = Path.Combine(directory, "ca.crt");
        File.WriteAllText(CaFile, ca.ExportCertificatePem() + "\n");
    }

    /// <summary>Folder of the PEM files.</summary>
    public string Directory { get; }

    /// <summary>The CA certificate (PEM), to trust.</summary>
    public string CaFile { get; }

    /// <summary>A new CA whose files go to <paramref name="directory"/> (created).</summary>
    public static TestCertificateAuthority Create(string directory, string commonName = "XKS test CA")
    {
        System.IO.Directory.CreateDirectory(directory);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var ca = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(7));
        return new TestCertificateAuthority(ca, directory);
    }

    /// <summary>A server certificate for <paramref name="hostname"/> (and 127.0.0.1): PEM text of the certificate and its PKCS#8 key.</summary>
    public (string CertificatePem, string PrivateKeyPem) IssueServer(string hostname)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={hostname}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([ServerAuth], false));
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(hostname);
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(_ca, true, false));
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        using var issued = request.Create(_ca, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(2), serial);
        return (issued.ExportCertificatePem() + "\n", key.ExportPkcs8PrivateKeyPem() + "\n");
    }

    /// <summary>Issues a certificate for <paramref name="hostname"/> and writes it to NAME.crt / NAME.key in <see cref="Directory"/>.</summary>
    public (string CertificateFile, string PrivateKeyFile) WriteServer(string hostname, string name)
    {
        var (certificate, privateKey) = IssueServer(hostname);
        var certificateFile = Path.Combine(Directory, name + ".crt");
        var keyFile = Path.Combine(Directory, name + ".key");
        File.WriteAllText(certificateFile, certificate);
        File.WriteAllText(keyFile, privateKey);
        File.SetUnixFileMode(keyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return (certificateFile, keyFile);
    }

    /// <summary>Creates (or replaces) the kubernetes.io/tls Secret <paramref name="secretName"/> with a certificate for <paramref name="hostname"/>.</summary>
    public async Task<V1Secret> CreateTlsSecretAsync(IKubernetes client, string @namespace, string secretName, string hostname)
    {
        var (certificate, privateKey) = IssueServer(hostname);
        var secret = new V1Secret
        {
            Metadata = new V1ObjectMeta { Name = secretName },
            Type = "kubernetes.io/tls",
            Data = new Dictionary<string, byte[]>
            {
                ["tls.crt"] = System.Text.Encoding.ASCII.GetBytes(certificate),
                ["tls.key"] = System.Text.Encoding.ASCII.GetBytes(privateKey),
                ["ca.crt"] = System.Text.Encoding.ASCII.GetBytes(_ca.ExportCertificatePem() + "\n"),
            },
        };
        try
        {
            return await client.CoreV1.CreateNamespacedSecretAsync(secret, @namespace);
        }
        catch (k8s.Autorest.HttpOperationException ex) when (ex.Response.StatusCode == HttpStatusCode.Conflict)
        {
            return await client.CoreV1.ReplaceNamespacedSecretAsync(secret, secretName, @namespace);
        }
    }

    public void Dispose() => _ca.Dispose();
}
