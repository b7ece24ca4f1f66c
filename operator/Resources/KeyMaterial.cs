using System.Security.Cryptography;
using Xks.Contracts.KeyWrap;

namespace Xks.Operator.Resources;

/// <summary>
/// New software key versions for CloudKeys: fresh random AES-256 material wrapped under the Vault's master key in the
/// proxy's format (<see cref="WrappedKey"/>, the one definition both sides use). The plain key exists only inside
/// <see cref="Wrap"/>, and is zeroed there.
/// </summary>
public static class KeyMaterial
{
    /// <summary>A new version: fresh random key material, wrapped under <paramref name="masterKey"/> for this key id and version.</summary>
    public static ProxyKeyVersionModel Wrap(ReadOnlySpan<byte> masterKey, string keyId, int version, DateTimeOffset createdAt)
    {
        Span<byte> material = stackalloc byte[WrappedKey.KeySize];
        try
        {
            RandomNumberGenerator.Fill(material);
            return new ProxyKeyVersionModel(version, WrappedKey.Wrap(masterKey, keyId, version, material), createdAt);
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
        return WrappedKey.CanUnwrap(masterKey, keyId, version.Version, version.WrappedMaterial);
    }
}
