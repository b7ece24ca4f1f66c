using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Xks.Testing;

/// <summary>A self-signed ECDSA P-256 server certificate, for a client that trusts exactly that certificate.</summary>
public static class SelfSignedCertificate
{
    /// <summary>A server certificate (CN=localhost, names localhost and 127.0.0.1) with its private key, valid for two days.</summary>
    public static X509Certificate2 CreateServer()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = LeafCertificateRequest.Create("localhost", key, LeafCertificateRequest.ServerAuth, ["localhost"], [IPAddress.Loopback]);
        return request.CreateSelfSigned(LeafCertificateRequest.NotBefore, DateTimeOffset.UtcNow.AddDays(2));
    }

    /// <summary>A self-signed server certificate CN=<paramref name="dnsName"/> naming <paramref name="dnsName"/>, with its private key, valid for <paramref name="validity"/>.</summary>
    public static X509Certificate2 CreateServer(string dnsName, TimeSpan validity)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = LeafCertificateRequest.Create(dnsName, key, LeafCertificateRequest.ServerAuth, [dnsName], []);
        return request.CreateSelfSigned(LeafCertificateRequest.NotBefore, DateTimeOffset.UtcNow.Add(validity));
    }

    /// <summary>A new <see cref="CreateServer()"/> certificate written to DIRECTORY/NAME.pem and DIRECTORY/NAME.key.</summary>
    public static PemFiles WriteServer(string directory, string name) => PemFiles.Write(directory, name, CreateServer());
}
