using System.Security.Cryptography;
using System.Text;

namespace Xks.Operator.Resources;

/// <summary>
/// Key material of the software backend, made exactly as the proxy's SoftwareKeyBackend makes and reads it: 32 random
/// bytes wrapped with AES-256-GCM under the Vault's 32-byte master key, a random 12-byte IV, AAD (UTF-8)
/// <c>xks-proxy:key:{keyId}:v{version}</c> and a 16-byte tag, stored as Base64 of iv || wrapped key || tag. The plain
/// key exists only inside <see cref="Wrap"/>, and is zeroed there.
/// </summary>
public static class KeyMaterial
{
    public const int KeySize = 32;
    public const int IvSize = 12;
    public const int TagSize = 16;

    /// <summary>Bytes of a wrapped version: IV, wrapped key, tag.</summary>
    public const int WrappedSize = IvSize + KeySize + TagSize;

    /// <summary>A new version: fresh random key material, wrapped under <paramref name="masterKey"/> for this key id and version.</summary>
    public static ProxyKeyVersionModel Wrap(ReadOnlySpan<byte> masterKey, string keyId, int version, DateTimeOffset createdAt)
    {
        CheckArguments(masterKey, keyId, version);
        Span<byte> material = stackalloc byte[KeySize];
        Span<byte> wrapped = stackalloc byte[WrappedSize];
        try
        {
            RandomNumberGenerator.Fill(material);
            RandomNumberGenerator.Fill(wrapped[..IvSize]);
            using var gcm = new AesGcm(masterKey, TagSize);
            gcm.Encrypt(wrapped[..IvSize], material, wrapped.Slice(IvSize, KeySize), wrapped[(IvSize + KeySize)..], Aad(keyId, version));
            return new ProxyKeyVersionModel(version, Convert.ToBase64String(wrapped), createdAt);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(material);
        }
    }

    /// <summary>
    /// Whether <paramref name="version"/> unwraps under <paramref name="masterKey"/> for <paramref name="keyId"/> — what
    /// the proxy will check. False for malformed Base64, another master key, key id or version number, or tampering.
    /// </summary>
    public static bool CanUnwrap(ReadOnlySpan<byte> masterKey, string keyId, ProxyKeyVersionModel version)
    {
        ArgumentNullException.ThrowIfNull(version);
        CheckArguments(masterKey, keyId, Math.Max(version.Version, 1));
        Span<byte> wrapped = stackalloc byte[WrappedSize];
        if (version.Version < 1
            || !Convert.TryFromBase64String(version.WrappedMaterial ?? "", wrapped, out var length) || length != WrappedSize)
        {
            return false;
        }

        Span<byte> material = stackalloc byte[KeySize];
        try
        {
            using var gcm = new AesGcm(masterKey, TagSize);
            gcm.Decrypt(wrapped[..IvSize], wrapped.Slice(IvSize, KeySize), wrapped[(IvSize + KeySize)..], material, Aad(keyId, version.Version));
            return true;
        }
        catch (AuthenticationTagMismatchException)
        {
            return false;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(material);
        }
    }

    private static byte[] Aad(string keyId, int version) => Encoding.UTF8.GetBytes($"xks-proxy:key:{keyId}:v{version}");

    private static void CheckArguments(ReadOnlySpan<byte> masterKey, string keyId, int version)
    {
        if (masterKey.Length != ProxyLayout.MasterKeyLength)
        {
            throw new ArgumentException($"The master key must be {ProxyLayout.MasterKeyLength} bytes (got {masterKey.Length}).", nameof(masterKey));
        }

        ArgumentException.ThrowIfNullOrEmpty(keyId);
        ArgumentOutOfRangeException.ThrowIfLessThan(version, 1);
    }
}
