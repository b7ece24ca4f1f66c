using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Xks.Contracts.KeyCustody;

namespace Xks.Proxy.KeyCustody.Tests;

/// <summary>A recipient-key bundle's key is exactly the documented ECDH + HKDF-SHA256 derivation, checked here independently.</summary>
public sealed class RecipientKeyAgreementTests
{
    [Fact]
    public void Open_RecipientKeyBundle_CanBeOpenedFromTheDocumentedFormatAlone()
    {
        var keys = BundleRecipientKeyPair.Generate();
        var payload = Encoding.UTF8.GetBytes("the payload");
        var bundle = BackupBundle.Seal(payload, BundleRecipient.ForPublicKey(keys.PublicKeyPem), "text/plain", DateTimeOffset.UnixEpoch);

        var parts = BundleBytes.Split(bundle);
        var ephemeralSpki = JsonDocument.Parse(parts.Header).RootElement.GetProperty("ephemeralKey").GetBytesFromBase64();
        using var recipient = ECDiffieHellman.Create();
        recipient.ImportFromPem(keys.PrivateKeyPem);
        using var ephemeral = ECDiffieHellman.Create();
        ephemeral.ImportSubjectPublicKeyInfo(ephemeralSpki, out _);
        var recipientSpki = recipient.ExportSubjectPublicKeyInfo();
        byte[] info = [.. "XKSBUNDLE\u0001"u8, .. U16(ephemeralSpki.Length), .. ephemeralSpki, .. U16(recipientSpki.Length), .. recipientSpki];
        var key = HKDF.DeriveKey(HashAlgorithmName.SHA256, recipient.DeriveRawSecretAgreement(ephemeral.PublicKey), 32, salt: [], info);
        using var gcm = new AesGcm(key, 16);
        var plaintext = new byte[parts.Ciphertext.Length];
        gcm.Decrypt(parts.Nonce, parts.Ciphertext, parts.Tag, plaintext, parts.Aad);

        Assert.Equal(payload, plaintext);
        Assert.Equal(91, ephemeralSpki.Length);
    }

    private static byte[] U16(int value)
    {
        var bytes = new byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(bytes, (ushort)value);
        return bytes;
    }
}
