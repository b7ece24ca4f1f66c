using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Xks.Contracts.KeyWrap;

/// <summary>
/// Wrap format 4, <em>derived</em>: a key version that is not wrapped at all but derived from a root key the
/// <c>Shamir</c> key protection keeps only in unsealed proxy memory. <see cref="Size"/> bytes:
/// <c>0x04 ‖ rootVersion (1 byte, 1..255) ‖ salt (32 random bytes)</c>, and the key version is
/// <code>K = HKDF-SHA256(ikm = R_rootVersion, salt = salt, info = UTF-8 "xks-proxy:derived-key:{keyId}:v{version}:r{rootVersion}", 32 bytes)</code>
/// (RFC 5869, extract then expand). The operator makes these blobs with <see cref="Create"/>: it draws the salt and
/// never knows R, so it never knows K; only a proxy holding R (through <see cref="MasterKeyRing.TryDerive(string, int, ReadOnlySpan{byte}, Span{byte}, out UnwrapOutcome)"/>)
/// can derive K. The info binds K to its key id, version and root version, so a blob moved to another key, version or
/// root version derives an unrelated key. A blob carries no integrity check: it is not secret and a changed salt only
/// derives another key, which then fails to decrypt what the right one encrypted.
/// <para>Messages name sizes and versions, never salts or keys.</para>
/// </summary>
public static class DerivedKey
{
    /// <summary>The first byte of a derived blob.</summary>
    public const byte FormatByte = 0x04;

    /// <summary>Bytes of the random salt.</summary>
    public const int SaltSize = 32;

    /// <summary>Bytes of a derived blob: format byte, root version, salt.</summary>
    public const int Size = 2 + SaltSize;

    /// <summary>Characters of the standard Base64 form of a derived blob.</summary>
    public const int Base64Length = (Size + 2) / 3 * 4;

    /// <summary>Highest root version a blob can name (one byte).</summary>
    public const int MaxRootVersion = byte.MaxValue;

    /// <summary>Whether <paramref name="blob"/> claims to be derived (its first byte is <see cref="FormatByte"/>); says nothing about its length.</summary>
    public static bool IsDerived(ReadOnlySpan<byte> blob) => !blob.IsEmpty && blob[0] == FormatByte;

    /// <summary>A new blob for root version <paramref name="rootVersion"/> with a fresh random salt.</summary>
    /// <exception cref="ArgumentException">A root version outside 1..255.</exception>
    public static byte[] Create(int rootVersion)
    {
        CheckRootVersion(rootVersion);
        var blob = new byte[Size];
        blob[0] = FormatByte;
        blob[1] = (byte)rootVersion;
        RandomNumberGenerator.Fill(blob.AsSpan(2));
        return blob;
    }

    /// <summary>The standard Base64 form of a new <see cref="Create"/> blob (what <c>wrappedMaterial</c> holds).</summary>
    public static string CreateBase64(int rootVersion) => Convert.ToBase64String(Create(rootVersion));

    /// <summary>
    /// Splits a derived blob: exactly <see cref="Size"/> bytes, the format byte first, a root version of 1 or more.
    /// False for anything else (then <paramref name="rootVersion"/> is 0 and <paramref name="salt"/> empty).
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> blob, out int rootVersion, out ReadOnlySpan<byte> salt)
    {
        rootVersion = 0;
        salt = default;
        if (Problem(blob) is not null)
        {
            return false;
        }

        rootVersion = blob[1];
        salt = blob[2..];
        return true;
    }

    /// <summary>
    /// Why <paramref name="blob"/> is not a derived blob, as a phrase that follows "version N " (e.g. "is not a derived
    /// key: 33 bytes, not 34"), or null when <see cref="TryParse"/> accepts it.
    /// </summary>
    public static string? Problem(ReadOnlySpan<byte> blob) =>
        blob.Length != Size ? $"is not a derived key: {blob.Length} bytes, not {Size}"
        : blob[0] != FormatByte ? $"is not a derived key: its first byte is 0x{blob[0]:x2}, not the format-4 marker 0x{FormatByte:x2}"
        : blob[1] == 0 ? "is not a derived key: its root version is 0 (versions start at 1)"
        : null;

    /// <summary>
    /// Decodes <paramref name="derivedBase64"/> into <paramref name="blob"/> (at least <see cref="Size"/> + 2 bytes) when it
    /// is the standard Base64 of <see cref="Size"/> bytes starting with <see cref="FormatByte"/>; says nothing about the
    /// root version (see <see cref="Problem"/>).
    /// </summary>
    public static bool TryDecode(string? derivedBase64, Span<byte> blob, out int length)
    {
        length = 0;
        return derivedBase64 is { Length: Base64Length }
            && Convert.TryFromBase64String(derivedBase64, blob, out length)
            && length == Size
            && IsDerived(blob[..length]);
    }

    /// <summary>The HKDF info: UTF-8 <c>xks-proxy:derived-key:{keyId}:v{version}:r{rootVersion}</c>.</summary>
    public static byte[] Info(string keyId, int version, int rootVersion)
    {
        WrappedKey.CheckKey(keyId, version);
        CheckRootVersion(rootVersion);
        return Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"xks-proxy:derived-key:{keyId}:v{version}:r{rootVersion}"));
    }

    /// <summary>
    /// K for <paramref name="keyId"/> version <paramref name="version"/> from a parsed blob (<paramref name="rootVersion"/>,
    /// <paramref name="salt"/>) and the root key <paramref name="root"/> of that root version, into <paramref name="key"/>
    /// (32 bytes). The caller vouches that <paramref name="root"/> is the blob's root version's key.
    /// </summary>
    internal static void Derive(ReadOnlySpan<byte> root, string keyId, int version, int rootVersion, ReadOnlySpan<byte> salt, Span<byte> key)
    {
        WrappedKey.CheckRootKey(root);
        if (key.Length != WrappedKey.KeySize)
        {
            throw new ArgumentException($"The key buffer must be {WrappedKey.KeySize} bytes (got {key.Length}).", nameof(key));
        }

        if (salt.Length != SaltSize)
        {
            throw new ArgumentException($"A derived key's salt is {SaltSize} bytes (got {salt.Length}).", nameof(salt));
        }

        HKDF.DeriveKey(HashAlgorithmName.SHA256, root, key, salt, Info(keyId, version, rootVersion));
    }

    /// <summary>
    /// The software reference of derivation for tests and auditors who hold a root in the clear: K from
    /// <paramref name="blob"/> and <paramref name="root"/> (the key of the blob's root version). False (and
    /// <paramref name="key"/> zeroed) for a malformed blob.
    /// </summary>
    public static bool TryDeriveWithRoot(ReadOnlySpan<byte> root, string keyId, int version, ReadOnlySpan<byte> blob, Span<byte> key)
    {
        if (!TryParse(blob, out var rootVersion, out var salt))
        {
            CryptographicOperations.ZeroMemory(key);
            return false;
        }

        Derive(root, keyId, version, rootVersion, salt, key);
        return true;
    }

    private static void CheckRootVersion(int rootVersion)
    {
        if (rootVersion is < 1 or > MaxRootVersion)
        {
            throw new ArgumentException($"A derived key's root version is 1 to {MaxRootVersion} (got {rootVersion}).", nameof(rootVersion));
        }
    }
}
