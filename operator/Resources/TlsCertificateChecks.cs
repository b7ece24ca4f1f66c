using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Xks.Operator.Controllers;
using Xks.Operator.Entities;

namespace Xks.Operator.Resources;

/// <summary>What <see cref="TlsCertificateChecks.Check"/> looks at: a user's kubernetes.io/tls Secret and the Vault's hostname.</summary>
/// <param name="CertificatePem">tls.crt: the leaf first, then the intermediates (PEM), or null when the key is missing.</param>
/// <param name="PrivateKeyPem">tls.key (PEM), or null when missing. Read only to compare its public half with the leaf's.</param>
/// <param name="CaPem">ca.crt (PEM), or null: the private CA trusted with <paramref name="PrivateCa"/>.</param>
/// <param name="Hostname">spec.hostname, which AWS KMS calls and the certificate must name.</param>
/// <param name="Now">The time the certificate must be valid at.</param>
/// <param name="PrivateCa">spec.tls.privateCa: a CA in ca.crt is enough (test and development only).</param>
/// <param name="SystemRoots">
/// The roots standing for the system trust store, or null for the operator's own system store. Tests pass their own,
/// since no publicly trusted certificate can be made offline.
/// </param>
public sealed record TlsCertificateInput(
    string? CertificatePem,
    string? PrivateKeyPem,
    string? CaPem,
    string Hostname,
    DateTimeOffset Now,
    bool PrivateCa,
    X509Certificate2Collection? SystemRoots = null);

/// <summary>The CertificateReady condition a user's serving certificate gives.</summary>
/// <param name="Status">True or False.</param>
/// <param name="Reason">One of the Certificate* reasons.</param>
/// <param name="Message">Names the hostname, the DNS names and notAfter; never key material.</param>
/// <param name="Certificate">status.certificate, or null when tls.crt could not be read.</param>
/// <param name="RecheckAfter">When the outcome changes by the clock alone (valid from, warning starts, expiry), or null.</param>
public sealed record TlsCertificateFinding(
    string Status,
    string Reason,
    string Message,
    V1Alpha1VaultCertificateStatus? Certificate,
    TimeSpan? RecheckAfter);

/// <summary>
/// Checks a user-supplied serving certificate (spec.tls.secretName without issuerRef) the way AWS KMS will when it
/// connects, before it ever does (pure but for X509Chain, which is given its roots and never goes to the network):
/// tls.crt and tls.key readable; the key is the leaf's; the leaf valid now; a DNS subject alternative name covers the
/// hostname (RFC 6125: a wildcard stands for exactly one leftmost label); the leaf chains, through the intermediates
/// in tls.crt, to a system root — or, with spec.tls.privateCa, to a CA in ca.crt. A certificate within
/// <see cref="ExpiryWarningDays"/> of its notAfter stays usable (True) with reason CertificateExpiringSoon.
/// </summary>
public static class TlsCertificateChecks
{
    /// <summary>How many days before notAfter the condition warns (reason CertificateExpiringSoon).</summary>
    public const int ExpiryWarningDays = 30;

    /// <summary>The reasons with CertificateReady=False that a certificate check gives: the Vault is not Ready, and KeySets wait.</summary>
    public static readonly IReadOnlySet<string> Refusals = new HashSet<string>(StringComparer.Ordinal)
    {
        Reasons.CertificateInvalid, Reasons.CertificateKeyMismatch, Reasons.CertificateExpired, Reasons.CertificateNotYetValid,
        Reasons.CertificateHostnameMismatch, Reasons.CertificateUntrusted,
    };

    private const string ServerAuthOid = "1.3.6.1.5.5.7.3.1";
    private const string RsaOid = "1.2.840.113549.1.1.1";
    private const string EcOid = "1.2.840.10045.2.1";

    public static TlsCertificateFinding Check(TlsCertificateInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var certificates = ReadCertificates(input.CertificatePem);
        if (certificates is null || certificates.Count == 0)
        {
            return Refuse(Reasons.CertificateInvalid, "tls.crt holds no readable PEM certificate", null);
        }

        using var owned = new Disposables(certificates);
        var leaf = certificates[0];
        var facts = Facts(leaf);
        var names = facts.DnsNames!.Count == 0 ? "no DNS names" : "DNS names " + string.Join(", ", facts.DnsNames);
        var notAfter = Time(leaf.NotAfter);
        var described = $"the certificate (CN {CommonName(leaf)}, {names}, notAfter {notAfter})";

        if (KeyProblem(leaf, input.PrivateKeyPem) is { } keyProblem)
        {
            return Refuse(keyProblem.Reason, keyProblem.Message.Replace("{certificate}", described, StringComparison.Ordinal), facts);
        }

        var now = input.Now.UtcDateTime;
        if (now < leaf.NotBefore.ToUniversalTime())
        {
            return Refuse(Reasons.CertificateNotYetValid, $"{described} is not valid before {Time(leaf.NotBefore)}", facts, leaf.NotBefore.ToUniversalTime() - now);
        }

        if (now > leaf.NotAfter.ToUniversalTime())
        {
            return Refuse(Reasons.CertificateExpired, $"{described} expired; AWS KMS cannot connect to https://{input.Hostname} with it; put a renewed certificate into the Secret", facts);
        }

        if (!facts.DnsNames.Any(name => Covers(name, input.Hostname)))
        {
            return Refuse(Reasons.CertificateHostnameMismatch,
                $"no DNS subject alternative name of {described} covers the hostname {input.Hostname}; AWS KMS requires the certificate to name the endpoint's hostname", facts);
        }

        if (TrustProblem(leaf, certificates, input) is { } untrusted)
        {
            return Refuse(Reasons.CertificateUntrusted, $"{described} {untrusted}", facts);
        }

        var commonNameNote = string.Equals(CommonName(leaf), input.Hostname, StringComparison.OrdinalIgnoreCase)
            ? ""
            : $"; note: its CN is not {input.Hostname} (a DNS name covers it, which is what TLS clients check)";
        var untilExpiry = leaf.NotAfter.ToUniversalTime() - now;
        var warning = TimeSpan.FromDays(ExpiryWarningDays);
        if (untilExpiry <= warning)
        {
            return new(ConditionStatus.True, Reasons.CertificateExpiringSoon,
                $"{described} serves {input.Hostname} but expires within {ExpiryWarningDays} days; renew it before {notAfter}{commonNameNote}", facts, untilExpiry);
        }

        return new(ConditionStatus.True, Reasons.CertificateValid, $"{described} serves {input.Hostname}{commonNameNote}", facts, untilExpiry - warning);
    }

    /// <summary>
    /// Whether the DNS name <paramref name="pattern"/> of a certificate covers <paramref name="hostname"/> (RFC 6125
    /// §6.4): equal ignoring case and a trailing dot, or "*." followed by at least two labels where the wildcard stands
    /// for exactly one non-empty leftmost label. Partial wildcards ("x*.example.com") cover nothing.
    /// </summary>
    public static bool Covers(string pattern, string hostname)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        ArgumentNullException.ThrowIfNull(hostname);
        pattern = pattern.TrimEnd('.');
        hostname = hostname.TrimEnd('.');
        if (pattern.Length == 0 || hostname.Length == 0)
        {
            return false;
        }

        if (!pattern.StartsWith("*.", StringComparison.Ordinal))
        {
            return !pattern.Contains('*', StringComparison.Ordinal) && string.Equals(pattern, hostname, StringComparison.OrdinalIgnoreCase);
        }

        var suffix = pattern[1..];
        if (suffix.Contains('*', StringComparison.Ordinal) || suffix.Count(c => c == '.') < 2)
        {
            return false;
        }

        var firstDot = hostname.IndexOf('.', StringComparison.Ordinal);
        return firstDot > 0 && string.Equals(hostname[firstDot..], suffix, StringComparison.OrdinalIgnoreCase);
    }

    private static TlsCertificateFinding Refuse(string reason, string message, V1Alpha1VaultCertificateStatus? facts, TimeSpan? recheck = null) =>
        new(ConditionStatus.False, reason, message, facts, recheck);

    private static X509Certificate2Collection? ReadCertificates(string? pem)
    {
        if (string.IsNullOrWhiteSpace(pem))
        {
            return null;
        }

        var certificates = new X509Certificate2Collection();
        try
        {
            certificates.ImportFromPem(pem);
            return certificates;
        }
        catch (CryptographicException)
        {
            foreach (var certificate in certificates)
            {
                certificate.Dispose();
            }

            return null;
        }
    }

    private static V1Alpha1VaultCertificateStatus Facts(X509Certificate2 leaf) => new()
    {
        NotAfter = leaf.NotAfter.ToUniversalTime(),
        Issuer = leaf.Issuer,
        DnsNames = [.. leaf.Extensions.OfType<X509SubjectAlternativeNameExtension>().SelectMany(e => e.EnumerateDnsNames())],
    };

    private static string CommonName(X509Certificate2 certificate) => certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false);

    private static string Time(DateTime time) => time.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

    /// <summary>tls.key missing, unreadable, or not the leaf's key. Messages never carry the key.</summary>
    private static (string Reason, string Message)? KeyProblem(X509Certificate2 leaf, string? keyPem)
    {
        if (string.IsNullOrWhiteSpace(keyPem))
        {
            return (Reasons.CertificateInvalid, "the Secret has no tls.key for {certificate}");
        }

        var algorithm = leaf.GetKeyAlgorithm();
        using AsymmetricAlgorithm? key = algorithm switch
        {
            RsaOid => RSA.Create(),
            EcOid => ECDsa.Create(),
            _ => null,
        };
        if (key is null)
        {
            return (Reasons.CertificateInvalid, $"{{certificate}} has a public key of algorithm {algorithm}; AWS KMS accepts RSA or ECDSA");
        }

        try
        {
            key.ImportFromPem(keyPem);
        }
        catch (Exception ex) when (ex is ArgumentException or CryptographicException)
        {
            return (Reasons.CertificateInvalid, "tls.key is not an unencrypted PEM private key of the algorithm of {certificate}");
        }

        var ours = key.ExportSubjectPublicKeyInfo();
        var theirs = leaf.PublicKey.ExportSubjectPublicKeyInfo();
        return CryptographicOperations.FixedTimeEquals(ours, theirs)
            ? null
            : (Reasons.CertificateKeyMismatch, "tls.key is not the private key of {certificate}: the Secret mixes two key pairs; put the matching key (or certificate) into it");
    }

    /// <summary>Null when the leaf chains to a trusted root; else how it does not (completing "the certificate …").</summary>
    private static string? TrustProblem(X509Certificate2 leaf, X509Certificate2Collection certificates, TlsCertificateInput input)
    {
        var intermediates = new X509Certificate2Collection();
        for (var i = 1; i < certificates.Count; i++)
        {
            intermediates.Add(certificates[i]);
        }

        var (systemTrusted, systemStatus) = Chains(leaf, intermediates, input.SystemRoots, input.Now);
        if (systemTrusted)
        {
            return null;
        }

        if (!input.PrivateCa)
        {
            return $"does not chain to a root of the system trust store ({systemStatus}); AWS KMS accepts only certificates from a public CA it trusts. "
                + "Add the intermediates to tls.crt, or, for a test or private setup only, set spec.tls.privateCa: true with the CA in ca.crt";
        }

        var fromCa = ReadCertificates(input.CaPem);
        using var ownedAnchors = new Disposables(fromCa ?? []);
        var anchors = fromCa is { Count: > 0 } ? fromCa : [];
        var anchorSource = "ca.crt";
        if (anchors.Count == 0)
        {
            anchorSource = "a self-signed certificate in tls.crt (no ca.crt)";
            foreach (var certificate in certificates.Where(c => c.SubjectName.RawData.AsSpan().SequenceEqual(c.IssuerName.RawData)))
            {
                anchors.Add(certificate);
            }
        }

        if (anchors.Count == 0)
        {
            return "does not chain to a system root, and spec.tls.privateCa has no CA to trust: put the CA certificate into the Secret's ca.crt";
        }

        var (privateTrusted, privateStatus) = Chains(leaf, intermediates, anchors, input.Now);
        return privateTrusted ? null : $"does not chain to {anchorSource} (spec.tls.privateCa: true): {privateStatus}";
    }

    /// <summary>Builds the chain offline: no revocation check, no AIA downloads; roots null means the system store.</summary>
    private static (bool Trusted, string Status) Chains(X509Certificate2 leaf, X509Certificate2Collection intermediates, X509Certificate2Collection? roots, DateTimeOffset now)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        chain.ChainPolicy.VerificationTime = now.UtcDateTime;
        chain.ChainPolicy.ApplicationPolicy.Add(new Oid(ServerAuthOid));
        chain.ChainPolicy.ExtraStore.AddRange(intermediates);
        if (roots is not null)
        {
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        }

        if (chain.Build(leaf))
        {
            return (true, "");
        }

        var status = chain.ChainStatus.Select(s => s.Status).Where(s => s != X509ChainStatusFlags.NoError).Distinct().ToList();
        return (false, status.Count == 0 ? "chain not built" : string.Join(", ", status));
    }

    /// <summary>Disposes the certificates read from PEM once a check is done.</summary>
    private sealed class Disposables(IEnumerable<X509Certificate2> certificates) : IDisposable
    {
        private readonly List<X509Certificate2> _certificates = [.. certificates];

        public void Dispose()
        {
            foreach (var certificate in _certificates)
            {
                certificate.Dispose();
            }
        }
    }
}
