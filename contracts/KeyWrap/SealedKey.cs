using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Xks.Contracts.KeyWrap;

/// <summary>
/// Wrap format 3, <em>sealed</em>: a key version wrapped by a non-extractable AES-256 root key inside an HSM (the
/// <c>HsmSealed</c> key-protection mode), where no software master key exists. <see cref="Size"/> bytes:
/// <c>0x03 ‖ rootVersion (1 byte, 1..255) ‖ W (40 bytes)</c>, where
/// <list type="bullet">
/// <item><c>D = SHA-256(UTF-8 "xks-proxy:sealed-key:{keyId}:v{version}:r{rootVersion}")</c>, the derivation data
/// (<see cref="DerivationData"/>);</item>
/// <item><c>K_wrap = AES-256-ECB_root(D)</c>, exactly what <c>C_DeriveKey(CKM_AES_ECB_ENCRYPT_DATA, root, D)</c> with
/// CKA_VALUE_LEN 32 produces inside the token;</item>
/// <item><c>W = AES key wrap with padding (RFC 5649, CKM_AES_KEY_WRAP_PAD)</c> of the 32-byte key version under
/// K_wrap.</item>
/// </list>
/// A blob is bound to its key id, version and root version: another of any of them derives another K_wrap and the
/// unwrap's integrity check fails. The HSM does the sealing (<c>Xks.Pkcs11.Pkcs11Sealer</c>); <see cref="SealWithRoot"/>
/// and <see cref="TryUnsealWithRoot"/> are the software reference of the same computation, for tests, test harnesses
/// and auditors who hold a root in the clear (never a production root: that one never leaves its token).
/// <para>Messages name sizes and versions, never key bytes or blobs.</para>
/// </summary>
public static class SealedKey
{
    /// <summary>The first byte of a sealed blob.</summary>
    public const byte FormatByte = 0x03;

    /// <summary>Bytes of W: RFC 5649 of a 32-byte key (32 bytes plus the 8-byte integrity block).</summary>
    public const int WrappedSize = 40;

    /// <summary>Bytes of a sealed blob: format byte, root version, W.</summary>
    public const int Size = 2 + WrappedSize;

    /// <summary>Characters of the standard Base64 form of a sealed blob.</summary>
    public const int Base64Length = (Size + 2) / 3 * 4;

    /// <summary>Highest root version a blob can name (one byte).</summary>
    public const int MaxRootVersion = byte.MaxValue;

    /// <summary>Whether <paramref name="blob"/> claims to be sealed (its first byte is <see cref="FormatByte"/>); says nothing about its length.</summary>
    public static bool IsSealed(ReadOnlySpan<byte> blob) => !blob.IsEmpty && blob[0] == FormatByte;

    /// <summary>The blob <c>0x03 ‖ rootVersion ‖ wrapped</c>.</summary>
    /// <exception cref="ArgumentException">A root version outside 1..255, or <paramref name="wrapped"/> not <see cref="WrappedSize"/> bytes.</exception>
    public static byte[] Compose(int rootVersion, ReadOnlySpan<byte> wrapped)
    {
        CheckRootVersion(rootVersion);
        if (wrapped.Length != WrappedSize)
        {
            throw new ArgumentException($"A sealed key's wrapped part is {WrappedSize} bytes (got {wrapped.Length}).", nameof(wrapped));
        }

        var blob = new byte[Size];
        blob[0] = FormatByte;
        blob[1] = (byte)rootVersion;
        wrapped.CopyTo(blob.AsSpan(2));
        return blob;
    }

    /// <summary>
    /// Splits a sealed blob: exactly <see cref="Size"/> bytes, the format byte first, a root version of 1 or more.
    /// False for anything else (then <paramref name="rootVersion"/> is 0 and <paramref name="wrapped"/> empty).
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> blob, out int rootVersion, out ReadOnlySpan<byte> wrapped)
    {
        rootVersion = 0;
        wrapped = default;
        if (blob.Length != Size || blob[0] != FormatByte || blob[1] == 0)
        {
            return false;
        }

        rootVersion = blob[1];
        wrapped = blob[2..];
        return true;
    }

    /// <summary>
    /// Why <paramref name="blob"/> is not a sealed blob, as a phrase that follows "version N " (e.g. "is not a sealed
    /// key: 41 bytes, not 42"), or null when <see cref="TryParse"/> accepts it.
    /// </summary>
    public static string? Problem(ReadOnlySpan<byte> blob) =>
        blob.Length != Size ? $"is not a sealed key: {blob.Length} bytes, not {Size}"
        : blob[0] != FormatByte ? $"is not a sealed key: its first byte is 0x{blob[0]:x2}, not the format-3 marker 0x{FormatByte:x2}"
        : blob[1] == 0 ? "is not a sealed key: its root version is 0 (versions start at 1)"
        : null;

    /// <summary>D = SHA-256(UTF-8 <c>xks-proxy:sealed-key:{keyId}:v{version}:r{rootVersion}</c>), 32 bytes.</summary>
    public static byte[] DerivationData(string keyId, int version, int rootVersion)
    {
        WrappedKey.CheckKey(keyId, version);
        CheckRootVersion(rootVersion);
        return SHA256.HashData(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"xks-proxy:sealed-key:{keyId}:v{version}:r{rootVersion}")));
    }

    /// <summary>
    /// The software reference of sealing: what the HSM computes with a root key of value <paramref name="root"/>.
    /// For tests and auditors only; a production root never leaves its token.
    /// </summary>
    /// <exception cref="ArgumentException">A root or material that is not 32 bytes, an empty key id, a version below 1, a root version outside 1..255.</exception>
    public static byte[] SealWithRoot(ReadOnlySpan<byte> root, int rootVersion, string keyId, int version, ReadOnlySpan<byte> material)
    {
        WrappedKey.CheckRootKey(root);
        if (material.Length != WrappedKey.KeySize)
        {
            throw new ArgumentException($"Key material must be {WrappedKey.KeySize} bytes (got {material.Length}).", nameof(material));
        }

        var data = DerivationData(keyId, version, rootVersion);
        Span<byte> wrappingKey = stackalloc byte[WrappedKey.KeySize];
        Span<byte> wrapped = stackalloc byte[WrappedSize];
        try
        {
            DeriveWrappingKey(root, data, wrappingKey);
            using var aes = Aes.Create();
            aes.SetKey(wrappingKey);
            aes.EncryptKeyWrapPadded(material, wrapped);
            return Compose(rootVersion, wrapped);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(wrappingKey);
        }
    }

    /// <summary>
    /// The software reference of unsealing: opens <paramref name="blob"/> for <paramref name="keyId"/> version
    /// <paramref name="version"/> with a root key of value <paramref name="root"/> (of the blob's root version) into
    /// <paramref name="material"/> (32 bytes). False on any failure (malformed, another key id, version, root version
    /// or root, tampered), with <paramref name="material"/> zeroed. For tests and auditors only.
    /// </summary>
    public static bool TryUnsealWithRoot(ReadOnlySpan<byte> root, string keyId, int version, ReadOnlySpan<byte> blob, Span<byte> material)
    {
        if (root.Length != WrappedKey.KeySize || material.Length != WrappedKey.KeySize || string.IsNullOrEmpty(keyId) || version < 1
            || !TryParse(blob, out var rootVersion, out var wrapped))
        {
            CryptographicOperations.ZeroMemory(material);
            return false;
        }

        var data = DerivationData(keyId, version, rootVersion);
        Span<byte> wrappingKey = stackalloc byte[WrappedKey.KeySize];
        Span<byte> unwrapped = stackalloc byte[WrappedSize];
        try
        {
            DeriveWrappingKey(root, data, wrappingKey);
            using var aes = Aes.Create();
            aes.SetKey(wrappingKey);
            if (!aes.TryDecryptKeyWrapPadded(wrapped, unwrapped, out var written) || written != WrappedKey.KeySize)
            {
                CryptographicOperations.ZeroMemory(material);
                return false;
            }

            unwrapped[..WrappedKey.KeySize].CopyTo(material);
            return true;
        }
        catch (CryptographicException)
        {
            CryptographicOperations.ZeroMemory(material);
            return false;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(wrappingKey);
            CryptographicOperations.ZeroMemory(unwrapped);
        }
    }

    /// <summary>K_wrap = AES-256-ECB_root(D): two blocks, no padding (C_DeriveKey with CKM_AES_ECB_ENCRYPT_DATA).</summary>
    private static void DeriveWrappingKey(ReadOnlySpan<byte> root, ReadOnlySpan<byte> data, Span<byte> wrappingKey)
    {
        using var aes = Aes.Create();
        aes.SetKey(root);
        aes.EncryptEcb(data, wrappingKey, PaddingMode.None);
    }

    private static void CheckRootVersion(int rootVersion)
    {
        if (rootVersion is < 1 or > MaxRootVersion)
        {
            throw new ArgumentException($"A sealed key's root version is 1 to {MaxRootVersion} (got {rootVersion}).", nameof(rootVersion));
        }
    }
}
