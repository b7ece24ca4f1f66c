using System.Security.Cryptography;
using System.Text;

namespace Xks.Contracts.KeyWrap;

/// <summary>
/// The wrap format of a software key version, written by the operator (new versions, from the Vault's master key)
/// and by a standalone proxy (its key files), read by the proxy: 32 bytes of AES-256 key material wrapped with
/// AES-256-GCM under the 32-byte master key, a random 12-byte IV, AAD (UTF-8) <c>xks-proxy:key:{keyId}:v{version}</c>
/// and a 16-byte tag, stored as Base64 of iv || wrapped key || tag. The AAD binds a version to its key and number,
/// so material moved to another key or version fails to unwrap.
/// </summary>
public static class WrappedKey
{
    /// <summary>Bytes of the master key and of a key version's material (AES-256).</summary>
    public const int KeySize = 32;

    public const int IvSize = 12;

    public const int TagSize = 16;

    /// <summary>Bytes of a wrapped version: IV, wrapped key, tag.</summary>
    public const int WrappedSize = IvSize + KeySize + TagSize;

    /// <summary>Characters of the Base64 form of <see cref="WrappedSize"/> bytes.</summary>
    public const int Base64Length = (WrappedSize + 2) / 3 * 4;

    /// <summary>Wraps <paramref name="material"/> for <paramref name="keyId"/> version <paramref name="version"/>; returns the Base64 form.</summary>
    public static string Wrap(ReadOnlySpan<byte> masterKey, string keyId, int version, ReadOnlySpan<byte> material)
    {
        CheckArguments(masterKey, keyId, version);
        if (material.Length != KeySize)
        {
            throw new ArgumentException($"Key material must be {KeySize} bytes (got {material.Length}).", nameof(material));
        }

        Span<byte> wrapped = stackalloc byte[WrappedSize];
        RandomNumberGenerator.Fill(wrapped[..IvSize]);
        using var gcm = new AesGcm(masterKey, TagSize);
        gcm.Encrypt(wrapped[..IvSize], material, wrapped.Slice(IvSize, KeySize), wrapped[(IvSize + KeySize)..], Aad(keyId, version));
        return Convert.ToBase64String(wrapped);
    }

    /// <summary>
    /// Unwraps <paramref name="wrappedBase64"/> into <paramref name="material"/> (<see cref="KeySize"/> bytes). False for
    /// malformed Base64, another master key, key id or version number, or tampering; <paramref name="material"/> then
    /// holds no key.
    /// </summary>
    public static bool TryUnwrap(ReadOnlySpan<byte> masterKey, string keyId, int version, string? wrappedBase64, Span<byte> material)
    {
        CheckArguments(masterKey, keyId, Math.Max(version, 1));
        if (material.Length != KeySize)
        {
            throw new ArgumentException($"The material buffer must be {KeySize} bytes (got {material.Length}).", nameof(material));
        }

        Span<byte> wrapped = stackalloc byte[WrappedSize];
        if (version < 1 || !Convert.TryFromBase64String(wrappedBase64 ?? "", wrapped, out var length) || length != WrappedSize)
        {
            return false;
        }

        using var gcm = new AesGcm(masterKey, TagSize);
        try
        {
            gcm.Decrypt(wrapped[..IvSize], wrapped.Slice(IvSize, KeySize), wrapped[(IvSize + KeySize)..], material, Aad(keyId, version));
            return true;
        }
        catch (AuthenticationTagMismatchException)
        {
            CryptographicOperations.ZeroMemory(material);
            return false;
        }
    }

    /// <summary>Whether <paramref name="wrappedBase64"/> unwraps for this key and version; the material is zeroed at once.</summary>
    public static bool CanUnwrap(ReadOnlySpan<byte> masterKey, string keyId, int version, string? wrappedBase64)
    {
        Span<byte> material = stackalloc byte[KeySize];
        try
        {
            return TryUnwrap(masterKey, keyId, version, wrappedBase64, material);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(material);
        }
    }

    private static byte[] Aad(string keyId, int version) => Encoding.UTF8.GetBytes($"xks-proxy:key:{keyId}:v{version}");

    private static void CheckArguments(ReadOnlySpan<byte> masterKey, string keyId, int version)
    {
        if (masterKey.Length != KeySize)
        {
            throw new ArgumentException($"The master key must be {KeySize} bytes (got {masterKey.Length}).", nameof(masterKey));
        }

        ArgumentException.ThrowIfNullOrEmpty(keyId);
        ArgumentOutOfRangeException.ThrowIfLessThan(version, 1);
    }
}
