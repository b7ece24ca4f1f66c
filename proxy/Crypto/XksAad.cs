using System.Buffers.Binary;

namespace Xks.Proxy.Crypto;

/// <summary>
/// The AAD handed to the key manager, binding ciphertextMetadata into the GCM tag (spec §"Encrypt", recommended form):
/// <c>uint16_be(len(AAD)) || AAD || uint8(len(metadata)) || metadata</c>.
/// </summary>
public static class XksAad
{
    public static int GetLength(int aadLength, int metadataLength) => 2 + aadLength + 1 + metadataLength;

    public static int Build(ReadOnlySpan<byte> aad, ReadOnlySpan<byte> metadata, Span<byte> destination)
    {
        if (aad.Length > ushort.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(aad), "AAD longer than 65535 bytes cannot be length-prefixed in two bytes");
        }

        if (metadata.Length > byte.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(metadata), "ciphertextMetadata longer than 255 bytes");
        }

        BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)aad.Length);
        aad.CopyTo(destination[2..]);
        destination[2 + aad.Length] = (byte)metadata.Length;
        metadata.CopyTo(destination[(3 + aad.Length)..]);
        return GetLength(aad.Length, metadata.Length);
    }
}
