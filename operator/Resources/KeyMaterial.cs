using System.Security.Cryptography;
using Xks.Contracts.KeyWrap;

namespace Xks.Operator.Resources;

/// <summary>
/// New software key versions for CloudKeys: fresh random AES-256 material wrapped under the Vault's master key in the
/// proxy's format (<see cref="WrappedKey"/>, the one definition both sides use), through a one-key
/// <see cref="MasterKeyRing"/> in which that master key is version 1: format 2, naming master key version 1 and
/// carrying its key-check value. The plain key exists only inside <see cref="Wrap"/>, and is zeroed there.
/// </summary>
public static class KeyMaterial
{
    /// <summary>The master key version the Vault's master key has in the wrap format (no rotation yet).</summary>
    public const int MasterKeyVersion = 1;

    /// <summary>A new version: fresh random key material, wrapped under <paramref name="masterKey"/> for this key id and version.</summary>
    public static ProxyKeyVersionModel Wrap(ReadOnlySpan<byte> masterKey, string keyId, int version, DateTimeOffset createdAt)
    {
        using var ring = MasterKeyRing.Single(masterKey, MasterKeyVersion);
        Span<byte> material = stackalloc byte[WrappedKey.KeySize];
        try
        {
            RandomNumberGenerator.Fill(material);
            return new ProxyKeyVersionModel(version, ring.Wrap(keyId, version, material), createdAt);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(material);
        }
    }

    /// <summary>
    /// Whether <paramref name="version"/> unwraps under <paramref name="masterKey"/> for <paramref name="keyId"/> — what
    /// the proxy will check (format 1 or 2). False for malformed Base64, another master key or master key version, key
    /// id or version number, or tampering.
    /// </summary>
    public static bool CanUnwrap(ReadOnlySpan<byte> masterKey, string keyId, ProxyKeyVersionModel version)
    {
        ArgumentNullException.ThrowIfNull(version);
        if (version.Version < 1)
        {
            return false;
        }

        using var ring = MasterKeyRing.Single(masterKey, MasterKeyVersion);
        return ring.CanUnwrap(keyId, version.Version, version.WrappedMaterial);
    }
}
