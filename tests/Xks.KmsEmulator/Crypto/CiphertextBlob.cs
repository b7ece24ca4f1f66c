using System.Security.Cryptography;
using System.Text;

namespace Xks.KmsEmulator.Crypto;

/// <summary>
/// The emulator's ciphertext blob, version 1:
/// <c>0x01 | len | keyId (ASCII) | SHA-256(AAD) (32) | len | ciphertextMetadata | len | IV | tag (16) | ciphertext</c>.
/// It carries everything the proxy needs to decrypt (XKS-SPEC §3.2) and the digest of the encryption context, so a
/// different context is refused as InvalidCiphertextException, as AWS does, before the proxy is called.
/// </summary>
internal sealed record CiphertextBlob(string KeyId, byte[] AadDigest, byte[] Metadata, byte[] Iv, byte[] Tag, byte[] Ciphertext)
{
    public const byte Version = 1;
    private const int TagLength = 16;
    private const int DigestLength = 32;

    public static byte[] DigestOf(byte[]? aad) => SHA256.HashData(aad ?? []);

    public byte[] ToBytes()
    {
        var keyId = Encoding.ASCII.GetBytes(KeyId);
        using var stream = new MemoryStream();
        stream.WriteByte(Version);
        stream.WriteByte((byte)keyId.Length);
        stream.Write(keyId);
        stream.Write(AadDigest);
        stream.WriteByte((byte)Metadata.Length);
        stream.Write(Metadata);
        stream.WriteByte((byte)Iv.Length);
        stream.Write(Iv);
        stream.Write(Tag);
        stream.Write(Ciphertext);
        return stream.ToArray();
    }

    public static bool TryParse(ReadOnlySpan<byte> blob, out CiphertextBlob parsed)
    {
        parsed = null!;
        if (blob.Length < 2 || blob[0] != Version)
        {
            return false;
        }

        var position = 1;
        if (!TryTake(blob, ref position, blob[position++], out var keyId) || keyId.Length == 0
            || !TryTake(blob, ref position, DigestLength, out var digest)
            || position >= blob.Length || !TryTake(blob, ref position, blob[position++], out var metadata) || metadata.Length > 20
            || position >= blob.Length || !TryTake(blob, ref position, blob[position++], out var iv) || iv.Length is not (12 or 16)
            || !TryTake(blob, ref position, TagLength, out var tag))
        {
            return false;
        }

        foreach (var b in keyId)
        {
            if (b is < 0x21 or > 0x7E)
            {
                return false;
            }
        }

        parsed = new CiphertextBlob(Encoding.ASCII.GetString(keyId), digest, metadata, iv, tag, blob[position..].ToArray());
        return parsed.Ciphertext.Length > 0;
    }

    private static bool TryTake(ReadOnlySpan<byte> blob, ref int position, int length, out byte[] value)
    {
        value = [];
        if (position + length > blob.Length)
        {
            return false;
        }

        value = blob.Slice(position, length).ToArray();
        position += length;
        return true;
    }
}
