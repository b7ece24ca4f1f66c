using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Xks.KmsEmulator.Xks;

/// <summary>Accepts a proxy certificate that the system trusts, or that chains to one of the configured CAs; the host name must match either way.</summary>
internal sealed class CertificateTrust
{
    private readonly X509Certificate2Collection _roots;

    public CertificateTrust(string? caFile)
    {
        _roots = [];
        if (!string.IsNullOrEmpty(caFile))
        {
            _roots.ImportFromPemFile(caFile);
        }
    }

    public bool Validate(X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }

        if (certificate is null || errors != SslPolicyErrors.RemoteCertificateChainErrors || _roots.Count == 0)
        {
            return false;
        }

        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.AddRange(_roots);
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (chain is not null)
        {
            foreach (var element in chain.ChainElements)
            {
                custom.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        return custom.Build(certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
    }
}
