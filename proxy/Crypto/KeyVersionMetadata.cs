using System.Buffers.Binary;

namespace Xks.Proxy.Crypto;

/// <summary>
/// The ciphertextMetadata this proxy returns from Encrypt: one format byte (the AAD construction, currently 1) and
/// the key version as a big-endian uint32 — 5 bytes, well under the spec's 20, bound into the tag through the AAD.
/// </summary>
public static class KeyVersionMetadata
{
    public const byte FormatSpecAad = 1;
    public const int Length = 5;

    public static void Write(int version, Span<byte> destination)
    {
        destination[0] = FormatSpecAad;
        BinaryPrimitives.WriteUInt32BigEndian(destination[1..], (uint)version);
    }

    public static bool TryRead(ReadOnlySpan<byte> metadata, out int version)
    {
        version = 0;
        if (metadata.Length != Length || metadata[0] != FormatSpecAad)
        {
            return false;
        }

        var raw = BinaryPrimitives.ReadUInt32BigEndian(metadata[1..]);
        if (raw is 0 or > int.MaxValue)
        {
            return false;
        }

        version = (int)raw;
        return true;
    }
}
