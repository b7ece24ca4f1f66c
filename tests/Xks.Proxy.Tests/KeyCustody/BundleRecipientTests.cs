using System.Security.Cryptography;
using Xks.Contracts.KeyCustody;

namespace Xks.Proxy.KeyCustody.Tests;

/// <summary>Recipients and openers refuse weak passphrases and keys that are not P-256 in the expected PEM form.</summary>
public sealed class BundleRecipientTests
{
    [Theory]
    [InlineData("")]
    [InlineData("hunter2")]
    [InlineData("elevenchars")]
    [InlineData("🔑🔑🔑🔑🔑🔑🔑🔑🔑🔑🔑")] // 11 characters, 22 UTF-16 code units
    public void ForPassphrase_ShorterThanTwelveCharacters_IsRefused(string passphrase)
    {
        var e = Assert.Throws<ArgumentException>("passphrase", () => BundleRecipient.ForPassphrase(passphrase));

        Assert.Contains("at least 12 characters", e.Message, StringComparison.Ordinal);
        if (passphrase.Length > 0)
        {
            Assert.DoesNotContain(passphrase, e.ToString(), StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("twelve chars")]
    [InlineData("🔑🔑🔑🔑🔑🔑🔑🔑🔑🔑🔑🔑")]
    public void ForPassphrase_TwelveCharacters_IsAccepted(string passphrase)
    {
        var recipient = BundleRecipient.ForPassphrase(passphrase);

        Assert.Equal(BundleRecipientKind.Passphrase, recipient.Kind);
    }

    [Theory]
    [InlineData(19455, 2, 1)]
    [InlineData(19456, 1, 1)]
    [InlineData(19456, 2, 0)]
    [InlineData(1048577, 3, 1)]
    [InlineData(65536, 11, 1)]
    [InlineData(65536, 3, 9)]
    public void ForPassphrase_ParametersOutsideTheBoundsOpenAccepts_AreRefused(int memoryKiB, int iterations, int parallelism)
    {
        Assert.Throws<ArgumentException>("parameters", () => BundleRecipient.ForPassphrase("correct horse battery staple", new Argon2Parameters(memoryKiB, iterations, parallelism)));
    }

    [Fact]
    public void ForPublicKey_APrivateKeyPem_IsRefusedByItsLabel()
    {
        var keys = BundleRecipientKeyPair.Generate();

        var e = Assert.Throws<ArgumentException>("publicKeyPem", () => BundleRecipient.ForPublicKey(keys.PrivateKeyPem));

        Assert.Contains("Expected a PEM block labelled 'PUBLIC KEY'; found 'PRIVATE KEY'", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(keys.PrivateKeyPem.Split('\n')[1], e.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void ForPublicKey_AP384Key_IsRefused()
    {
        using var key = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP384);

        var e = Assert.Throws<ArgumentException>("publicKeyPem", () => BundleRecipient.ForPublicKey(key.ExportSubjectPublicKeyInfoPem()));

        Assert.Contains("not an EC key on curve P-256", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ForPublicKey_AnRsaKey_IsRefused()
    {
        using var rsa = RSA.Create(2048);

        Assert.Throws<ArgumentException>("publicKeyPem", () => BundleRecipient.ForPublicKey(rsa.ExportSubjectPublicKeyInfoPem()));
    }

    [Fact]
    public void ForPublicKey_AnUnknownCurveOid_IsRefusedAsAnArgument()
    {
        using var key = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var spki = key.ExportSubjectPublicKeyInfo();
        spki[17] ^= 0x20; // inside the prime256v1 OID: a curve no platform knows
        var pem = PemEncoding.WriteString("PUBLIC KEY", spki);

        var e = Assert.Throws<ArgumentException>("publicKeyPem", () => BundleRecipient.ForPublicKey(pem));

        Assert.Contains("not an EC key on curve P-256", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not PEM at all")]
    [InlineData("-----BEGIN PUBLIC KEY-----\nnot base64!\n-----END PUBLIC KEY-----")]
    public void ForPublicKey_NotAPemPublicKey_IsRefused(string pem)
    {
        Assert.Throws<ArgumentException>("publicKeyPem", () => BundleRecipient.ForPublicKey(pem));
    }

    [Fact]
    public void WithPrivateKey_APublicKeyPem_IsRefused()
    {
        var keys = BundleRecipientKeyPair.Generate();

        Assert.Throws<ArgumentException>("privateKeyPem", () => BundleOpener.WithPrivateKey(keys.PublicKeyPem));
    }

    [Fact]
    public void WithPrivateKey_Sec1EcPrivateKeyPem_IsRefusedForPkcs8()
    {
        using var key = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);

        var e = Assert.Throws<ArgumentException>("privateKeyPem", () => BundleOpener.WithPrivateKey(key.ExportECPrivateKeyPem()));

        Assert.Contains("found 'EC PRIVATE KEY'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WithPrivateKey_EncryptedPkcs8_IsRefused()
    {
        using var key = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var pem = key.ExportEncryptedPkcs8PrivateKeyPem("pem password", new PbeParameters(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, 1000));

        var e = Assert.Throws<ArgumentException>("privateKeyPem", () => BundleOpener.WithPrivateKey(pem));

        Assert.Contains("found 'ENCRYPTED PRIVATE KEY'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Generate_Twice_GivesDistinctP256PairsThatMatch()
    {
        var first = BundleRecipientKeyPair.Generate();
        var second = BundleRecipientKeyPair.Generate();

        Assert.NotEqual(first.PublicKeyPem, second.PublicKeyPem);
        Assert.StartsWith("-----BEGIN PUBLIC KEY-----", first.PublicKeyPem, StringComparison.Ordinal);
        Assert.StartsWith("-----BEGIN PRIVATE KEY-----", first.PrivateKeyPem, StringComparison.Ordinal);
        using var key = ECDiffieHellman.Create();
        key.ImportFromPem(first.PrivateKeyPem);
        Assert.Equal(first.PublicKeyPem, key.ExportSubjectPublicKeyInfoPem());
        Assert.Equal(256, key.KeySize);
    }

    [Fact]
    public void ToString_KeyPair_ShowsThePublicKeyButNotThePrivateKey()
    {
        var keys = BundleRecipientKeyPair.Generate();

        var text = keys.ToString();

        Assert.Contains(keys.PublicKeyPem, text, StringComparison.Ordinal);
        Assert.DoesNotContain("PRIVATE", text, StringComparison.Ordinal);
    }
}
