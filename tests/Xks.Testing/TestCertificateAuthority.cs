using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Xks.Testing;

/// <summary>
/// A throw-away certificate authority (ECDSA P-256, System.Security.Cryptography) and the server and client
/// certificates it issues, each with its private key; <see cref="PemFiles"/> writes them where the proxy or a client
/// reads them.
/// </summary>
public sealed class TestCertificateAuthority : IDisposable
{
    private TestCertificateAuthority(X509Certificate2 certificate) => Certificate = certificate;

    /// <summary>The CA certificate, with its private key.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>The CA certificate as PEM text, to trust.</summary>
    public string CertificatePem => Certificate.ExportCertificatePem() + "\n";

    /// <summary>A new CA named CN=<paramref name="commonName"/>, valid for a week.</summary>
    public static TestCertificateAuthority Create(string commonName = "XKS test CA") => Create(commonName, TimeSpan.FromDays(7));

    /// <summary>A new root CA named CN=<paramref name="commonName"/>, valid from five minutes ago for <paramref name="validity"/>.</summary>
    public static TestCertificateAuthority Create(string commonName, TimeSpan validity)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = CaRequest(commonName, key);
        return new TestCertificateAuthority(request.CreateSelfSigned(LeafCertificateRequest.NotBefore, DateTimeOffset.UtcNow.Add(validity)));
    }

    /// <summary>An intermediate CA named CN=<paramref name="commonName"/> that this CA signs, valid for <paramref name="validity"/> (within this CA's).</summary>
    public TestCertificateAuthority CreateIntermediate(string commonName, TimeSpan validity)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = CaRequest(commonName, key);
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Certificate, true, false));
        using var issued = request.Create(Certificate, LeafCertificateRequest.NotBefore, DateTimeOffset.UtcNow.Add(validity), Serial());
        return new TestCertificateAuthority(issued.CopyWithPrivateKey(key));
    }

    /// <summary>A server certificate (EKU serverAuth) for <paramref name="dnsName"/> and <paramref name="ipAddresses"/>, CN=<paramref name="dnsName"/>.</summary>
    public X509Certificate2 IssueServer(string dnsName, params IPAddress[] ipAddresses) =>
        Issue(dnsName, LeafCertificateRequest.ServerAuth, [dnsName], ipAddresses);

    /// <summary>
    /// A server certificate (EKU serverAuth) with subject CN=<paramref name="commonName"/> and exactly the DNS names
    /// <paramref name="dnsNames"/> (wildcards allowed), valid from five minutes ago for <paramref name="validity"/>.
    /// </summary>
    public X509Certificate2 IssueServer(string commonName, IEnumerable<string> dnsNames, TimeSpan validity) =>
        Issue(commonName, LeafCertificateRequest.ServerAuth, dnsNames, [], validity);

    /// <summary>A client certificate (EKU clientAuth) with subject CN=<paramref name="commonName"/>.</summary>
    public X509Certificate2 IssueClient(string commonName) =>
        Issue(commonName, LeafCertificateRequest.ClientAuth, [], []);

    /// <summary>Writes the CA certificate and key to DIRECTORY/NAME.pem and DIRECTORY/NAME.key.</summary>
    public PemFiles Write(string directory, string name) => PemFiles.Write(directory, name, Certificate);

    public void Dispose() => Certificate.Dispose();

    private static CertificateRequest CaRequest(string commonName, ECDsa key)
    {
        var request = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request;
    }

    private static byte[] Serial()
    {
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        return serial;
    }

    private X509Certificate2 Issue(string commonName, Oid usage, IEnumerable<string> dnsNames, IEnumerable<IPAddress> ipAddresses, TimeSpan? validity = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = LeafCertificateRequest.Create(commonName, key, usage, dnsNames, ipAddresses);
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Certificate, true, false));
        using var issued = request.Create(Certificate, LeafCertificateRequest.NotBefore, DateTimeOffset.UtcNow.Add(validity ?? TimeSpan.FromDays(2)), Serial());
        return issued.CopyWithPrivateKey(key);
    }
}
