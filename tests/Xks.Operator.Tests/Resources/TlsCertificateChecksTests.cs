using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Xks.Operator.Entities;
using Xks.Testing;

namespace Xks.Operator.Resources.Tests;

/// <summary>
/// A user's serving certificate checked as AWS KMS would: certificates made in-test by <see cref="TestCertificateAuthority"/>;
/// a "public" CA is a test root passed as the system store, since no publicly trusted certificate can be made offline.
/// </summary>
public sealed class TlsCertificateChecksTests : IDisposable
{
    private const string Hostname = "xks.example.com";
    private static readonly TimeSpan Long = TimeSpan.FromDays(90);

    private readonly TestCertificateAuthority _root = TestCertificateAuthority.Create("Public test root", TimeSpan.FromDays(400));
    private readonly TestCertificateAuthority _privateCa = TestCertificateAuthority.Create("Private test CA", TimeSpan.FromDays(400));
    private readonly X509Certificate2Collection _systemRoots;

    public TlsCertificateChecksTests() => _systemRoots = [_root.Certificate];

    public void Dispose()
    {
        _root.Dispose();
        _privateCa.Dispose();
    }

    public static TheoryData<string, string, string> Cases => new()
    {
        { "public CA, leaf for the hostname", ConditionStatus.True, "CertificateValid" },
        { "public CA through an intermediate in tls.crt", ConditionStatus.True, "CertificateValid" },
        { "public CA, intermediate missing from tls.crt", ConditionStatus.False, "CertificateUntrusted" },
        { "wildcard SAN one label up", ConditionStatus.True, "CertificateValid" },
        { "wildcard SAN two labels up", ConditionStatus.False, "CertificateHostnameMismatch" },
        { "SAN for another host", ConditionStatus.False, "CertificateHostnameMismatch" },
        { "CN is the hostname but no SAN", ConditionStatus.False, "CertificateHostnameMismatch" },
        { "expired", ConditionStatus.False, "CertificateExpired" },
        { "not yet valid", ConditionStatus.False, "CertificateNotYetValid" },
        { "expires within the warning", ConditionStatus.True, "CertificateExpiringSoon" },
        { "tls.key of another certificate", ConditionStatus.False, "CertificateKeyMismatch" },
        { "no tls.key", ConditionStatus.False, "CertificateInvalid" },
        { "tls.crt not PEM", ConditionStatus.False, "CertificateInvalid" },
        { "private CA without privateCa", ConditionStatus.False, "CertificateUntrusted" },
        { "private CA without privateCa, the real system store", ConditionStatus.False, "CertificateUntrusted" },
        { "private CA with privateCa and ca.crt", ConditionStatus.True, "CertificateValid" },
        { "private CA with privateCa but ca.crt of another CA", ConditionStatus.False, "CertificateUntrusted" },
        { "private CA with privateCa but no ca.crt", ConditionStatus.False, "CertificateUntrusted" },
        { "self-signed with privateCa and no ca.crt", ConditionStatus.True, "CertificateValid" },
        { "self-signed without privateCa", ConditionStatus.False, "CertificateUntrusted" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Check_Case_GivesTheCondition(string @case, string status, string reason)
    {
        var finding = TlsCertificateChecks.Check(Input(@case));

        Assert.Equal((status, reason), (finding.Status, finding.Reason));
    }

    [Fact]
    public void Check_Refusals_AreExactlyTheFalseReasons()
    {
        var falseReasons = Cases.Select(c => ((string)c[1], (string)c[2])).Where(c => c.Item1 == ConditionStatus.False).Select(c => c.Item2).ToHashSet();

        Assert.Equal(falseReasons.Order(StringComparer.Ordinal), TlsCertificateChecks.Refusals.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Check_HostnameMismatch_MessageNamesHostnameNamesAndExpiryButNoKey()
    {
        using var leaf = _root.IssueServer("other.example.com", ["other.example.com", "www.other.example.com"], Long);
        var input = Secret(leaf, [leaf]);

        var finding = TlsCertificateChecks.Check(input);

        Assert.Equal("CertificateHostnameMismatch", finding.Reason);
        Assert.Contains(Hostname, finding.Message, StringComparison.Ordinal);
        Assert.Contains("other.example.com, www.other.example.com", finding.Message, StringComparison.Ordinal);
        Assert.Contains(leaf.NotAfter.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture), finding.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("PRIVATE KEY", finding.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(input.PrivateKeyPem!.Split('\n')[1], finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_ValidCertificate_ReportsItsFactsForAlerts()
    {
        using var leaf = _root.IssueServer(Hostname, [Hostname, "xks-b.example.com"], Long);

        var facts = TlsCertificateChecks.Check(Secret(leaf, [leaf])).Certificate!;

        Assert.Equal(leaf.NotAfter.ToUniversalTime(), facts.NotAfter);
        Assert.Equal("CN=Public test root", facts.Issuer);
        Assert.Equal([Hostname, "xks-b.example.com"], facts.DnsNames);
    }

    [Fact]
    public void Check_ValidCertificate_LooksAgainWhenTheWarningStarts()
    {
        using var leaf = _root.IssueServer(Hostname, [Hostname], Long);
        var input = Secret(leaf, [leaf]);

        var finding = TlsCertificateChecks.Check(input);

        Assert.Equal(leaf.NotAfter.ToUniversalTime() - input.Now.UtcDateTime - TimeSpan.FromDays(TlsCertificateChecks.ExpiryWarningDays), finding.RecheckAfter);
    }

    [Fact]
    public void Check_ExpiringSoon_LooksAgainAtExpiry()
    {
        using var leaf = _root.IssueServer(Hostname, [Hostname], TimeSpan.FromDays(2));
        var input = Secret(leaf, [leaf]);

        var finding = TlsCertificateChecks.Check(input);

        Assert.Equal(leaf.NotAfter.ToUniversalTime() - input.Now.UtcDateTime, finding.RecheckAfter);
        Assert.Contains($"within {TlsCertificateChecks.ExpiryWarningDays} days", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_NotYetValid_LooksAgainWhenItBecomesValid()
    {
        using var leaf = _root.IssueServer(Hostname, [Hostname], Long);
        var input = Secret(leaf, [leaf]) with { Now = leaf.NotBefore.ToUniversalTime().AddHours(-1) };

        Assert.Equal(TimeSpan.FromHours(1), TlsCertificateChecks.Check(input).RecheckAfter);
    }

    [Fact]
    public void Check_CommonNameDiffersButSanCovers_IsValidAndSaysSo()
    {
        using var leaf = _root.IssueServer("Payments proxy", [Hostname], Long);

        var finding = TlsCertificateChecks.Check(Secret(leaf, [leaf]));

        Assert.Equal("CertificateValid", finding.Reason);
        Assert.Contains($"its CN is not {Hostname}", finding.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false, "CertificateValid")]
    [InlineData(true, "CertificateKeyMismatch")]
    public void Check_RsaCertificate_ComparesTheRsaKey(bool foreignKey, string reason)
    {
        using var key = RSA.Create(2048);
        using var other = RSA.Create(2048);
        var request = new CertificateRequest($"CN={Hostname}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(Hostname);
        request.CertificateExtensions.Add(names.Build());
        using var leaf = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.Add(Long));

        var finding = TlsCertificateChecks.Check(new TlsCertificateInput(
            leaf.ExportCertificatePem(), (foreignKey ? other : key).ExportPkcs8PrivateKeyPem(), null, Hostname, DateTimeOffset.UtcNow, PrivateCa: true));

        Assert.Equal(reason, finding.Reason);
    }

    [Theory]
    [InlineData("xks.example.com", "xks.example.com", true)]
    [InlineData("XKS.Example.com", "xks.example.com", true)]
    [InlineData("xks.example.com.", "xks.example.com", true)]
    [InlineData("*.example.com", "xks.example.com", true)]
    [InlineData("*.example.com", "a.xks.example.com", false)]
    [InlineData("*.example.com", "example.com", false)]
    [InlineData("*.com", "example.com", false)]
    [InlineData("x*.example.com", "xks.example.com", false)]
    [InlineData("xks.*.com", "xks.example.com", false)]
    [InlineData("other.example.com", "xks.example.com", false)]
    [InlineData("", "xks.example.com", false)]
    public void Covers_DnsName_MatchesPerRfc6125(string pattern, string hostname, bool covers) =>
        Assert.Equal(covers, TlsCertificateChecks.Covers(pattern, hostname));

    private TlsCertificateInput Input(string @case)
    {
        switch (@case)
        {
            case "public CA, leaf for the hostname":
            {
                using var leaf = _root.IssueServer(Hostname, [Hostname], Long);
                return Secret(leaf, [leaf]);
            }

            case "public CA through an intermediate in tls.crt":
            case "public CA, intermediate missing from tls.crt":
            {
                using var intermediate = _root.CreateIntermediate("Public test intermediate", TimeSpan.FromDays(200));
                using var leaf = intermediate.IssueServer(Hostname, [Hostname], Long);
                return @case.Contains("missing", StringComparison.Ordinal) ? Secret(leaf, [leaf]) : Secret(leaf, [leaf, intermediate.Certificate]);
            }

            case "wildcard SAN one label up":
            {
                using var leaf = _root.IssueServer("*.example.com", ["*.example.com"], Long);
                return Secret(leaf, [leaf]);
            }

            case "wildcard SAN two labels up":
            {
                using var leaf = _root.IssueServer("*.example.com", ["*.example.com"], Long);
                return Secret(leaf, [leaf]) with { Hostname = "a." + Hostname };
            }

            case "SAN for another host":
            {
                using var leaf = _root.IssueServer(Hostname, ["other.example.com"], Long);
                return Secret(leaf, [leaf]);
            }

            case "CN is the hostname but no SAN":
            {
                using var leaf = _root.IssueServer(Hostname, [], Long);
                return Secret(leaf, [leaf]);
            }

            case "expired":
            {
                using var leaf = _root.IssueServer(Hostname, [Hostname], Long);
                return Secret(leaf, [leaf]) with { Now = leaf.NotAfter.ToUniversalTime().AddDays(1) };
            }

            case "not yet valid":
            {
                using var leaf = _root.IssueServer(Hostname, [Hostname], Long);
                return Secret(leaf, [leaf]) with { Now = leaf.NotBefore.ToUniversalTime().AddHours(-1) };
            }

            case "expires within the warning":
            {
                using var leaf = _root.IssueServer(Hostname, [Hostname], TimeSpan.FromDays(TlsCertificateChecks.ExpiryWarningDays - 1));
                return Secret(leaf, [leaf]);
            }

            case "tls.key of another certificate":
            {
                using var leaf = _root.IssueServer(Hostname, [Hostname], Long);
                using var other = _root.IssueServer(Hostname, [Hostname], Long);
                return Secret(leaf, [leaf]) with { PrivateKeyPem = KeyPem(other) };
            }

            case "no tls.key":
            {
                using var leaf = _root.IssueServer(Hostname, [Hostname], Long);
                return Secret(leaf, [leaf]) with { PrivateKeyPem = null };
            }

            case "tls.crt not PEM":
            {
                using var leaf = _root.IssueServer(Hostname, [Hostname], Long);
                return Secret(leaf, [leaf]) with { CertificatePem = "cert" };
            }

            case "private CA without privateCa":
            case "private CA without privateCa, the real system store":
            {
                using var leaf = _privateCa.IssueServer(Hostname, [Hostname], Long);
                var input = Secret(leaf, [leaf]) with { CaPem = _privateCa.CertificatePem };
                return @case.Contains("real", StringComparison.Ordinal) ? input with { SystemRoots = null } : input;
            }

            case "private CA with privateCa and ca.crt":
            {
                using var leaf = _privateCa.IssueServer(Hostname, [Hostname], Long);
                return Secret(leaf, [leaf]) with { CaPem = _privateCa.CertificatePem, PrivateCa = true };
            }

            case "private CA with privateCa but ca.crt of another CA":
            {
                using var another = TestCertificateAuthority.Create("Another CA", TimeSpan.FromDays(400));
                using var leaf = _privateCa.IssueServer(Hostname, [Hostname], Long);
                return Secret(leaf, [leaf]) with { CaPem = another.CertificatePem, PrivateCa = true };
            }

            case "private CA with privateCa but no ca.crt":
            {
                using var leaf = _privateCa.IssueServer(Hostname, [Hostname], Long);
                return Secret(leaf, [leaf]) with { PrivateCa = true };
            }

            case "self-signed with privateCa and no ca.crt":
            case "self-signed without privateCa":
            {
                using var leaf = SelfSignedCertificate.CreateServer(Hostname, Long);
                return Secret(leaf, [leaf]) with { PrivateCa = @case.Contains("with privateCa", StringComparison.Ordinal) };
            }

            default:
                throw new ArgumentOutOfRangeException(nameof(@case), @case, "no such case");
        }
    }

    /// <summary>A Secret as the operator reads it: tls.crt (leaf first), the leaf's tls.key, checked now against the test "system" roots.</summary>
    private TlsCertificateInput Secret(X509Certificate2 leaf, X509Certificate2[] chain) => new(
        string.Concat(chain.Select(c => c.ExportCertificatePem() + "\n")),
        KeyPem(leaf),
        null,
        Hostname,
        DateTimeOffset.UtcNow,
        PrivateCa: false,
        SystemRoots: _systemRoots);

    private static string KeyPem(X509Certificate2 certificate)
    {
        using var key = certificate.GetECDsaPrivateKey()!;
        return key.ExportPkcs8PrivateKeyPem();
    }
}
