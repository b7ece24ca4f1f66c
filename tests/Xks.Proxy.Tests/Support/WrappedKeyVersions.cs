using System.Security.Cryptography;
using System.Text;

namespace Xks.Proxy.Tests.Support;

/// <summary>
/// Inline key versions as the operator renders them: 32 random bytes wrapped with AES-256-GCM under a master key, AAD
/// <c>xks-proxy:key:{keyId}:v{version}</c>, stored as Base64 of iv(12) || wrapped key(32) || tag(16).
/// </summary>
public static class WrappedKeyVersions
{
    public static string Wrap(byte[] masterKey, string keyId, int version, byte[]? material = null)
    {
        material ??= RandomNumberGenerator.GetBytes(32);
        var wrapped = new byte[60];
        RandomNumberGenerator.Fill(wrapped.AsSpan(0, 12));
        using var gcm = new AesGcm(masterKey, 16);
        gcm.Encrypt(wrapped.AsSpan(0, 12), material, wrapped.AsSpan(12, 32), wrapped.AsSpan(44), Encoding.UTF8.GetBytes($"xks-proxy:key:{keyId}:v{version}"));
        return Convert.ToBase64String(wrapped);
    }

    /// <summary>The same Base64 with one byte of the wrapped key flipped: still 60 bytes, fails the tag check.</summary>
    public static string Tamper(string wrappedMaterial)
    {
        var bytes = Convert.FromBase64String(wrappedMaterial);
        bytes[20] ^= 0x01;
        return Convert.ToBase64String(bytes);
    }
}
