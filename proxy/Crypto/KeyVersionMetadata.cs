using System.Buffers.Binary;

namespace Xks.Proxy.Crypto;

/// <summary>
/// The ciphertextMetadata this proxy returns from Encrypt, bound into the tag through the AAD (<see cref="XksAad"/>):
/// <list type="bullet">
/// <item>format 2 (written by every Encrypt): <c>0x02 || uint32_be(version) || salt (15)</c>, 20 bytes, the spec's
/// maximum; the ciphertext is under the sub-key derived from the version's key for that salt (<see cref="SubKeyDerivation"/>);</item>
/// <item>format 1 (older proxies, and PKCS#11 keys that may not derive): <c>0x01 || uint32_be(version)</c>, 5 bytes;
/// the ciphertext is under the version's key itself. It decrypts for ever.</item>
/// </list>
/// </summary>
public static class KeyVersionMetadata
{
    public const byte FormatVersionKey = 1;
    public const byte FormatSubKey = 2;
    public const int VersionKeyLength = 5;
    public const int SubKeyLength = 5 + SubKeyDerivation.SaltSize;
    public const int MaxLength = SubKeyLength;

    /// <summary>The length <see cref="Write"/> produces for <paramref name="salt"/> (empty: format 1).</summary>
    public static int GetLength(ReadOnlySpan<byte> salt) => salt.IsEmpty ? VersionKeyLength : SubKeyLength;

    /// <summary>Writes format 2 naming <paramref name="salt"/>, or format 1 when it is empty; returns the length written.</summary>
    public static int Write(int version, ReadOnlySpan<byte> salt, Span<byte> destination)
    {
        if (!salt.IsEmpty && salt.Length != SubKeyDerivation.SaltSize)
        {
            throw new ArgumentException($"a sub-key salt is {SubKeyDerivation.SaltSize} bytes", nameof(salt));
        }

        destination[0] = salt.IsEmpty ? FormatVersionKey : FormatSubKey;
        BinaryPrimitives.WriteUInt32BigEndian(destination[1..], (uint)version);
        salt.CopyTo(destination[VersionKeyLength..]);
        return GetLength(salt);
    }

    /// <summary>Reads either format; <paramref name="salt"/> is empty for format 1. False for any other length or format byte.</summary>
    public static bool TryRead(ReadOnlySpan<byte> metadata, out int version, out ReadOnlySpan<byte> salt)
    {
        version = 0;
        salt = default;
        var valid = metadata.Length switch
        {
            VersionKeyLength => metadata[0] == FormatVersionKey,
            SubKeyLength => metadata[0] == FormatSubKey,
            _ => false,
        };
        if (!valid)
        {
            return false;
        }

        var raw = BinaryPrimitives.ReadUInt32BigEndian(metadata[1..]);
        if (raw is 0 or > int.MaxValue)
        {
            return false;
        }

        version = (int)raw;
        salt = metadata[VersionKeyLength..];
        return true;
    }

    /// <summary>The version named by either format.</summary>
    public static bool TryRead(ReadOnlySpan<byte> metadata, out int version) => TryRead(metadata, out version, out _);
}
