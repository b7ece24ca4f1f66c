using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Xks.Testing;

/// <summary>The request for an end-entity certificate (not a CA, digital signature, one extended key usage), shared by <see cref="TestCertificateAuthority"/> and <see cref="SelfSignedCertificate"/>.</summary>
internal static class LeafCertificateRequest
{
    public static readonly Oid ServerAuth = new("1.3.6.1.5.5.7.3.1");
    public static readonly Oid ClientAuth = new("1.3.6.1.5.5.7.3.2");

    /// <summary>Certificates start five minutes back, so clock skew between processes does not matter.</summary>
    public static DateTimeOffset NotBefore => DateTimeOffset.UtcNow.AddMinutes(-5);

    public static CertificateRequest Create(string commonName, ECDsa key, Oid usage, IEnumerable<string> dnsNames, IEnumerable<IPAddress> ipAddresses)
    {
        var request = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([usage], false));
        var names = new SubjectAlternativeNameBuilder();
        var anyName = false;
        foreach (var dnsName in dnsNames)
        {
            names.AddDnsName(dnsName);
            anyName = true;
        }

        foreach (var address in ipAddresses)
        {
            names.AddIpAddress(address);
            anyName = true;
        }

        if (anyName)
        {
            request.CertificateExtensions.Add(names.Build());
        }

        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request;
    }
}
