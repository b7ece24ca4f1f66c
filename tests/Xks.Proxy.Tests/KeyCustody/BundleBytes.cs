using System.Buffers.Binary;
using System.Text;

namespace Xks.Proxy.KeyCustody.Tests;

/// <summary>
/// A bundle cut along its documented layout (magic, version, u16be header length, header, 12-byte nonce, ciphertext,
/// 16-byte tag), written here independently of the production parser so tests can forge headers.
/// </summary>
internal sealed record BundleBytes(byte[] Prefix, string Header, byte[] Nonce, byte[] Ciphertext, byte[] Tag)
{
    public const int MagicLength = 9;
    public const int PrefixLength = MagicLength + 1 + 2;
    public const int NonceLength = 12;
    public const int TagLength = 16;

    public int HeaderLength => Encoding.UTF8.GetByteCount(Header);

    /// <summary>Bytes covered as AES-GCM associated data: prefix and header.</summary>
    public byte[] Aad => [.. Prefix[..(MagicLength + 1)], .. LengthBytes(HeaderLength), .. Encoding.UTF8.GetBytes(Header)];

    public static BundleBytes Split(byte[] bundle)
    {
        int headerLength = BinaryPrimitives.ReadUInt16BigEndian(bundle.AsSpan(MagicLength + 1));
        var nonceAt = PrefixLength + headerLength;
        return new BundleBytes(
            bundle[..PrefixLength],
            Encoding.UTF8.GetString(bundle, PrefixLength, headerLength),
            bundle[nonceAt..(nonceAt + NonceLength)],
            bundle[(nonceAt + NonceLength)..^TagLength],
            bundle[^TagLength..]);
    }

    /// <summary>The bundle with its header text edited (the length prefix follows; nonce, ciphertext and tag are kept).</summary>
    public static byte[] WithHeader(byte[] bundle, Func<string, string> edit)
    {
        var parts = Split(bundle);
        var edited = parts with { Header = edit(parts.Header) };
        Assert.NotEqual(parts.Header, edited.Header);
        return edited.ToBytes();
    }

    public byte[] ToBytes() => [.. Aad, .. Nonce, .. Ciphertext, .. Tag];

    private static byte[] LengthBytes(int length)
    {
        var bytes = new byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(bytes, (ushort)length);
        return bytes;
    }
}
