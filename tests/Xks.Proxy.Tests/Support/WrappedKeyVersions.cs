using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Xks.Proxy.Tests.Support;

/// <summary>
/// Wrapped key versions built from the documented recipe with <see cref="AesGcm"/> and <see cref="HMACSHA256"/>
/// directly — not through the code under test, so the tests also check that code against the format.
/// <list type="bullet">
/// <item><see cref="Wrap"/>: format 2, as the operator renders versions now: Base64 of 0x02 || master key version
/// (uint32 big-endian) || key-check value(8) || iv(12) || wrapped key(32) || tag(16), AAD
/// <c>xks-proxy:key:{keyId}:v{version}:r{rootVersion}</c>.</item>
/// <item><see cref="WrapFormat1"/>: format 1, as versions were written before: Base64 of iv(12) || wrapped key(32) ||
/// tag(16), AAD <c>xks-proxy:key:{keyId}:v{version}</c>.</item>
/// </list>
/// </summary>
public static class WrappedKeyVersions
{
    /// <summary>Format 2 under <paramref name="masterKey"/> as master key version <paramref name="rootVersion"/>; random material and IV unless given.</summary>
    public static string Wrap(byte[] masterKey, string keyId, int version, byte[]? material = null, int rootVersion = 1, byte[]? iv = null) =>
        Convert.ToBase64String(WrapFormat2Bytes(masterKey, keyId, version, material ?? RandomNumberGenerator.GetBytes(32), rootVersion, iv ?? RandomNumberGenerator.GetBytes(12)));

    /// <summary>The bytes of a format-2 blob.</summary>
    public static byte[] WrapFormat2Bytes(byte[] masterKey, string keyId, int version, byte[] material, int rootVersion, byte[] iv)
    {
        var blob = new byte[73];
        blob[0] = 0x02;
        BinaryPrimitives.WriteUInt32BigEndian(blob.AsSpan(1, 4), (uint)rootVersion);
        KeyCheckValue(masterKey).CopyTo(blob.AsSpan(5, 8));
        iv.CopyTo(blob.AsSpan(13, 12));
        using var gcm = new AesGcm(masterKey, 16);
        gcm.Encrypt(blob.AsSpan(13, 12), material, blob.AsSpan(25, 32), blob.AsSpan(57, 16), Encoding.UTF8.GetBytes($"xks-proxy:key:{keyId}:v{version}:r{rootVersion}"));
        return blob;
    }

    /// <summary>Format 1 under <paramref name="masterKey"/>: what versions written before format 2 hold.</summary>
    public static string WrapFormat1(byte[] masterKey, string keyId, int version, byte[]? material = null)
    {
        material ??= RandomNumberGenerator.GetBytes(32);
        var wrapped = new byte[60];
        RandomNumberGenerator.Fill(wrapped.AsSpan(0, 12));
        using var gcm = new AesGcm(masterKey, 16);
        gcm.Encrypt(wrapped.AsSpan(0, 12), material, wrapped.AsSpan(12, 32), wrapped.AsSpan(44), Encoding.UTF8.GetBytes($"xks-proxy:key:{keyId}:v{version}"));
        return Convert.ToBase64String(wrapped);
    }

    /// <summary>The key-check value: the first 8 bytes of HMAC-SHA256(masterKey, "xks-proxy:key-check-value:v1").</summary>
    public static byte[] KeyCheckValue(byte[] masterKey) =>
        HMACSHA256.HashData(masterKey, "xks-proxy:key-check-value:v1"u8)[..8];

    /// <summary>
    /// The same Base64 with one byte of the wrapped key flipped (20 bytes from the end, inside the wrapped key in both
    /// formats): the same size, fails the tag check.
    /// </summary>
    public static string Tamper(string wrappedMaterial) => Flip(wrappedMaterial, ^20);

    /// <summary>The same Base64 with the byte at <paramref name="index"/> XORed with <paramref name="mask"/>.</summary>
    public static string Flip(string wrappedMaterial, Index index, byte mask = 0x01)
    {
        var bytes = Convert.FromBase64String(wrappedMaterial);
        bytes[index] ^= mask;
        return Convert.ToBase64String(bytes);
    }
}
