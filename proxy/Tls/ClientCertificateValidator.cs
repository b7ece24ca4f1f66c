using System.Security.Cryptography.X509Certificates;

namespace Xks.Proxy.Tls;

/// <summary>
/// Mutual TLS: the client certificate must chain to the configured CA (and only it) and name one of the allowed
/// subjects in its common name or DNS SANs; otherwise the handshake is terminated.
/// </summary>
public sealed class ClientCertificateValidator(TlsCertificateProvider certificates, IReadOnlyList<string> allowedSubjects)
{
    public bool Validate(X509Certificate2? certificate)
    {
        if (certificate is null)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(certificates.ClientCa);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(new System.Security.Cryptography.Oid("1.3.6.1.5.5.7.3.2"));
        if (!chain.Build(certificate))
        {
            return false;
        }

        return SubjectNames(certificate).Any(name => allowedSubjects.Contains(name, StringComparer.OrdinalIgnoreCase));
    }

    private static IEnumerable<string> SubjectNames(X509Certificate2 certificate)
    {
        var cn = certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
        if (!string.IsNullOrEmpty(cn))
        {
            yield return cn;
        }

        foreach (var extension in certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>())
        {
            foreach (var dns in extension.EnumerateDnsNames())
            {
                yield return dns;
            }
        }
    }
}
