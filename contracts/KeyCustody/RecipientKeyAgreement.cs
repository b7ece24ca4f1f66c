using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Xks.Contracts.KeyCustody;

/// <summary>
/// The recipient-key scheme: P-256 ECDH between an ephemeral key (made per bundle, its SubjectPublicKeyInfo in the
/// header) and the recipient key, then HKDF-SHA256 of the raw shared secret (the x coordinate) with an empty salt and
/// info = <c>XKSBUNDLE</c> || 0x01 || u16be(len) || ephemeral SPKI || u16be(len) || recipient SPKI, giving the 32-byte
/// AES-256-GCM key. The info binds the key to this format and to both public keys. Keys are handled as DER SPKI /
/// PKCS#8 from PEM, and only on curve P-256.
/// </summary>
internal static class RecipientKeyAgreement
{
    /// <summary>DER SubjectPublicKeyInfo of an uncompressed P-256 point, as .NET exports it.</summary>
    public const int SpkiSize = 91;

    private const string P256Oid = "1.2.840.10045.3.1.7";

    /// <summary>
    /// SEQUENCE { SEQUENCE { id-ecPublicKey, prime256v1 }, BIT STRING { 0x04 (uncompressed) … } }: the 27 bytes before
    /// x and y in every P-256 SubjectPublicKeyInfo .NET exports.
    /// </summary>
    private static ReadOnlySpan<byte> SpkiPrefix =>
    [
        0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01, 0x06, 0x08, 0x2A,
        0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04,
    ];

    /// <summary>
    /// Imports a P-256 public key from DER SPKI; null unless it is exactly the canonical 91-byte encoding
    /// (<see cref="SpkiPrefix"/>, then x and y) of a point on P-256. The coordinates are imported directly, so no DER
    /// parser sees the header's bytes.
    /// </summary>
    public static ECDiffieHellman? TryImportPublicKey(ReadOnlySpan<byte> spki)
    {
        if (spki.Length != SpkiSize || !spki.StartsWith(SpkiPrefix))
        {
            return null;
        }

        var point = spki[SpkiPrefix.Length..];
        var key = ECDiffieHellman.Create();
        try
        {
            key.ImportParameters(new ECParameters
            {
                Curve = ECCurve.NamedCurves.nistP256,
                Q = new ECPoint { X = point[..32].ToArray(), Y = point[32..].ToArray() },
            });
            return key;
        }
        catch (CryptographicException)
        {
            key.Dispose();
            return null;
        }
    }

    /// <summary>Imports the first PEM block of <paramref name="pem"/>, which must be labelled <paramref name="label"/>.</summary>
    public static ECDiffieHellman ImportPem(string pem, string label, string parameterName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(pem, parameterName);
        if (!PemEncoding.TryFind(pem, out var fields))
        {
            throw new ArgumentException($"Expected a PEM block labelled '{label}'; found no PEM block.", parameterName);
        }

        var found = pem[fields.Label];
        if (found != label)
        {
            throw new ArgumentException($"Expected a PEM block labelled '{label}'; found '{found}'.", parameterName);
        }

        var der = new byte[fields.DecodedDataLength];
        var key = ECDiffieHellman.Create();
        try
        {
            if (!Convert.TryFromBase64Chars(pem.AsSpan()[fields.Base64Data], der, out var length) || length != der.Length)
            {
                throw new CryptographicException();
            }

            int read;
            if (label == "PUBLIC KEY")
            {
                key.ImportSubjectPublicKeyInfo(der, out read);
            }
            else
            {
                key.ImportPkcs8PrivateKey(der, out read);
            }

            if (read != der.Length || !IsP256(key))
            {
                throw new CryptographicException();
            }

            return key;
        }
        catch (Exception e) when (e is CryptographicException or PlatformNotSupportedException)
        {
            key.Dispose();
            throw new ArgumentException($"The '{label}' PEM block is not an EC key on curve P-256.", parameterName);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(der);
        }
    }

    /// <summary>Derives the 32-byte bundle key from our private key and the peer's public key.</summary>
    public static void DeriveKey(
        ECDiffieHellman ours,
        ECDiffieHellman peer,
        ReadOnlySpan<byte> ephemeralSpki,
        ReadOnlySpan<byte> recipientSpki,
        Span<byte> key)
    {
        using var peerPublic = peer.PublicKey;
        var secret = ours.DeriveRawSecretAgreement(peerPublic);
        try
        {
            HKDF.DeriveKey(HashAlgorithmName.SHA256, secret, key, salt: default, Info(ephemeralSpki, recipientSpki));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }
    }

    private static byte[] Info(ReadOnlySpan<byte> ephemeralSpki, ReadOnlySpan<byte> recipientSpki)
    {
        var prefix = BundleLayout.PrefixOf(BundleLayout.Version);
        var info = new byte[prefix.Length + 2 + ephemeralSpki.Length + 2 + recipientSpki.Length];
        var span = info.AsSpan();
        prefix.CopyTo(span);
        span = span[prefix.Length..];
        BinaryPrimitives.WriteUInt16BigEndian(span, (ushort)ephemeralSpki.Length);
        ephemeralSpki.CopyTo(span[2..]);
        span = span[(2 + ephemeralSpki.Length)..];
        BinaryPrimitives.WriteUInt16BigEndian(span, (ushort)recipientSpki.Length);
        recipientSpki.CopyTo(span[2..]);
        return info;
    }

    private static bool IsP256(ECDiffieHellman key) => key.KeySize == 256 && key.ExportParameters(false).Curve.Oid?.Value == P256Oid;
}
