using System.Security.Cryptography;

namespace Xks.Contracts.KeyCustody;

/// <summary>
/// What <see cref="BackupBundle.Open"/> opens with: the passphrase, or the recipient's P-256 private key as PEM PKCS#8
/// (<c>-----BEGIN PRIVATE KEY-----</c>; encrypted PKCS#8 and SEC1 <c>EC PRIVATE KEY</c> are refused). The private key
/// is imported only for the duration of an Open.
/// </summary>
public sealed class BundleOpener
{
    private const string PrivateKeyLabel = "PRIVATE KEY";

    private readonly string _secret;

    private BundleOpener(BundleRecipientKind kind, string secret)
    {
        Kind = kind;
        _secret = secret;
    }

    public BundleRecipientKind Kind { get; }

    /// <summary>Opens passphrase bundles. No minimum length here: a short passphrase simply fails to authenticate.</summary>
    public static BundleOpener WithPassphrase(string passphrase)
    {
        ArgumentException.ThrowIfNullOrEmpty(passphrase);
        return new BundleOpener(BundleRecipientKind.Passphrase, passphrase);
    }

    /// <summary>Opens recipient-key bundles with the P-256 private key in <paramref name="privateKeyPem"/>; checked here, used on Open.</summary>
    public static BundleOpener WithPrivateKey(string privateKeyPem)
    {
        using var key = RecipientKeyAgreement.ImportPem(privateKeyPem, PrivateKeyLabel, nameof(privateKeyPem));
        return new BundleOpener(BundleRecipientKind.PublicKey, privateKeyPem);
    }

    internal string Passphrase => Kind == BundleRecipientKind.Passphrase ? _secret : throw new InvalidOperationException("Not a passphrase opener.");

    /// <summary>The private key, imported anew; the caller disposes it.</summary>
    internal ECDiffieHellman ImportPrivateKey() => Kind == BundleRecipientKind.PublicKey
        ? RecipientKeyAgreement.ImportPem(_secret, PrivateKeyLabel, "privateKeyPem")
        : throw new InvalidOperationException("Not a private-key opener.");
}
