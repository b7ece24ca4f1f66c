using System.Security.Cryptography;

namespace Xks.Contracts.KeyCustody;

/// <summary>A fresh P-256 recipient key pair as PEM, for <see cref="BundleRecipient.ForPublicKey"/> and <see cref="BundleOpener.WithPrivateKey"/>.</summary>
/// <param name="PublicKeyPem">SubjectPublicKeyInfo (<c>-----BEGIN PUBLIC KEY-----</c>): give this to whoever seals.</param>
/// <param name="PrivateKeyPem">Unencrypted PKCS#8 (<c>-----BEGIN PRIVATE KEY-----</c>): keep this offline; it opens every bundle sealed to the public key.</param>
public sealed record BundleRecipientKeyPair(string PublicKeyPem, string PrivateKeyPem)
{
    /// <summary>Generates a new P-256 key pair.</summary>
    public static BundleRecipientKeyPair Generate()
    {
        using var key = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        return new BundleRecipientKeyPair(key.ExportSubjectPublicKeyInfoPem(), key.ExportPkcs8PrivateKeyPem());
    }

    /// <summary>Keeps the private key out of logs and debugger displays.</summary>
    public override string ToString() => $"{nameof(BundleRecipientKeyPair)} {{ {nameof(PublicKeyPem)} = {PublicKeyPem} }}";
}
