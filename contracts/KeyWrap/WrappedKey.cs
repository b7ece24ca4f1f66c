using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Xks.Contracts.KeyWrap;

/// <summary>
/// The wrap format of a software key version (the one definition; <see cref="MasterKeyRing"/> is the API on top of it).
/// Written by the operator (new versions, from the Vault's master key) and by a standalone proxy (its key files), read
/// by the proxy. 32 bytes of AES-256 key material are wrapped with AES-256-GCM under a 32-byte master key (the
/// <em>root key</em>) with a random 12-byte IV and a 16-byte tag; documents hold the Base64 form.
/// <list type="bullet">
/// <item><b>Format 2</b> (every new wrap), <see cref="Format2Size"/> bytes:
/// <c>0x02 ‖ rootVersion (uint32 big-endian, ≥ 1) ‖ kcv (8) ‖ iv (12) ‖ wrapped key (32) ‖ tag (16)</c>, AAD (UTF-8)
/// <c>xks-proxy:key:{keyId}:v{version}:r{rootVersion}</c>. The root version names the master-key version that wrapped
/// it and the key-check value (<see cref="KeyCheckValue(ReadOnlySpan{byte})"/>) identifies that master key, so a
/// blob under another master key is told apart from a tampered one.</item>
/// <item><b>Format 1</b> (read only), <see cref="Format1Size"/> bytes: <c>iv (12) ‖ wrapped key (32) ‖ tag (16)</c>,
/// AAD <c>xks-proxy:key:{keyId}:v{version}</c>; it carries neither root version nor key-check value and unwraps under
/// root version 1 only.</item>
/// </list>
/// Format 3 (<see cref="SealedKey"/>, 42 bytes) is wrapped by an HSM's root key, and format 4 (<see cref="DerivedKey"/>,
/// 34 bytes) is derived from a Shamir root key, not wrapped: parsing either here reports it as such
/// (<see cref="UnwrapOutcome.Malformed"/> with a message saying so; format 4 goes through
/// <see cref="MasterKeyRing.TryDerive(string, int, ReadOnlySpan{byte}, Span{byte}, out UnwrapOutcome)"/>).
/// The sizes tell the formats apart. The AAD binds a blob to its key id, version number and (format 2) root version,
/// so material moved to another key, version or root version fails to unwrap.
/// </summary>
public static class WrappedKey
{
    /// <summary>Bytes of a master (root) key and of a key version's material (AES-256).</summary>
    public const int KeySize = 32;

    public const int IvSize = 12;

    public const int TagSize = 16;

    /// <summary>Bytes of a key-check value (<see cref="KeyCheckValue(ReadOnlySpan{byte})"/>).</summary>
    public const int KeyCheckValueSize = 8;

    /// <summary>The first byte of a format-2 blob.</summary>
    public const byte Format2Marker = 0x02;

    /// <summary>Bytes of a format-1 blob: IV, wrapped key, tag.</summary>
    public const int Format1Size = IvSize + KeySize + TagSize;

    /// <summary>Bytes of the format-2 header: marker, root version (uint32 big-endian), key-check value.</summary>
    public const int Format2HeaderSize = 1 + sizeof(uint) + KeyCheckValueSize;

    /// <summary>Bytes of a format-2 blob: header, IV, wrapped key, tag.</summary>
    public const int Format2Size = Format2HeaderSize + Format1Size;

    /// <summary>Characters of the standard Base64 form of a format-1 blob.</summary>
    public const int Format1Base64Length = (Format1Size + 2) / 3 * 4;

    /// <summary>Characters of the standard Base64 form of a format-2 blob.</summary>
    public const int Format2Base64Length = (Format2Size + 2) / 3 * 4;

    /// <summary>The HMAC-SHA256 message of the key-check value.</summary>
    public const string KeyCheckValueLabel = "xks-proxy:key-check-value:v1";

    /// <summary>Bytes a buffer for <see cref="Parse"/> needs: a format-2 blob, with room to notice a longer one.</summary>
    internal const int ParseBufferSize = Format2Size + 3;

    /// <summary>
    /// Whether <paramref name="wrappedBase64"/> has the shape of a wrapped key: Base64 of <see cref="Format1Size"/>
    /// bytes, or of <see cref="Format2Size"/> bytes starting with <see cref="Format2Marker"/> and a root version of 1
    /// or more. Says nothing about whether it unwraps.
    /// </summary>
    public static bool IsWellFormed(string? wrappedBase64)
    {
        Span<byte> buffer = stackalloc byte[ParseBufferSize];
        return Parse(wrappedBase64, buffer, out _) is null;
    }

    /// <summary>
    /// The key-check value of <paramref name="rootKey"/>: the first <see cref="KeyCheckValueSize"/> bytes of
    /// HMAC-SHA256(rootKey, <see cref="KeyCheckValueLabel"/>), as lowercase hex (the form documents hold). It names a
    /// master key without revealing it.
    /// </summary>
    public static string KeyCheckValue(ReadOnlySpan<byte> rootKey)
    {
        Span<byte> kcv = stackalloc byte[KeyCheckValueSize];
        KeyCheckValue(rootKey, kcv);
        return Convert.ToHexStringLower(kcv);
    }

    /// <summary>Writes the key-check value of <paramref name="rootKey"/> into <paramref name="kcv"/> (<see cref="KeyCheckValueSize"/> bytes).</summary>
    public static void KeyCheckValue(ReadOnlySpan<byte> rootKey, Span<byte> kcv)
    {
        CheckRootKey(rootKey);
        if (kcv.Length != KeyCheckValueSize)
        {
            throw new ArgumentException($"The key-check value buffer must be {KeyCheckValueSize} bytes (got {kcv.Length}).", nameof(kcv));
        }

        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(rootKey, Encoding.UTF8.GetBytes(KeyCheckValueLabel), mac);
        mac[..KeyCheckValueSize].CopyTo(kcv);
        CryptographicOperations.ZeroMemory(mac);
    }

    /// <summary>
    /// Splits <paramref name="wrappedBase64"/> (decoded into <paramref name="buffer"/>, at least
    /// <see cref="ParseBufferSize"/> bytes) into its parts. Returns null when well formed, else why it is not (for a
    /// message that follows "version N "; never quotes the blob).
    /// </summary>
    internal static string? Parse(string? wrappedBase64, Span<byte> buffer, out WrappedKeyParts parts)
    {
        parts = default;
        if (string.IsNullOrEmpty(wrappedBase64))
        {
            return "is not a wrapped key: it is empty";
        }

        if (!Convert.TryFromBase64String(wrappedBase64, buffer, out var length))
        {
            return $"is not a wrapped key: not Base64 of {Format1Size} bytes (format 1) or {Format2Size} bytes (format 2)";
        }

        var blob = buffer[..length];
        if (length == Format1Size)
        {
            parts = new WrappedKeyParts(1, 1, default, blob[..IvSize], blob.Slice(IvSize, KeySize), blob[(IvSize + KeySize)..]);
            return null;
        }

        if (length == SealedKey.Size && SealedKey.IsSealed(blob))
        {
            return "is sealed by the HSM (format 3), not wrapped by a master key: only the HSM's root key unseals it (backend.software.sealing)";
        }

        if (length == DerivedKey.Size && DerivedKey.IsDerived(blob))
        {
            return "is derived from a Shamir root key (format 4), not wrapped by a master key: only an unsealed proxy derives it (backend.software.shamir)";
        }

        if (length != Format2Size)
        {
            return $"is not a wrapped key: {length} bytes, not {Format1Size} (format 1) or {Format2Size} (format 2)";
        }

        if (blob[0] != Format2Marker)
        {
            return $"is not a wrapped key: {Format2Size} bytes but the first is 0x{blob[0]:x2}, not the format-2 marker 0x{Format2Marker:x2}";
        }

        var rootVersion = BinaryPrimitives.ReadUInt32BigEndian(blob[1..]);
        if (rootVersion == 0)
        {
            return "is not a wrapped key: its master key version is 0 (versions start at 1)";
        }

        var body = blob[Format2HeaderSize..];
        parts = new WrappedKeyParts(2, rootVersion, blob.Slice(1 + sizeof(uint), KeyCheckValueSize), body[..IvSize], body.Slice(IvSize, KeySize), body[(IvSize + KeySize)..]);
        return null;
    }

    /// <summary>
    /// Wraps <paramref name="material"/> in format 2 under <paramref name="rootKey"/> (root version
    /// <paramref name="rootVersion"/>, key-check value <paramref name="kcv"/>) with <paramref name="iv"/>; returns the
    /// Base64 form. The caller vouches that <paramref name="kcv"/> is the root key's and that the IV is fresh.
    /// </summary>
    internal static string WrapFormat2(ReadOnlySpan<byte> rootKey, int rootVersion, ReadOnlySpan<byte> kcv, string keyId, int version, ReadOnlySpan<byte> material, ReadOnlySpan<byte> iv)
    {
        CheckRootKey(rootKey);
        CheckKey(keyId, version);
        ArgumentOutOfRangeException.ThrowIfLessThan(rootVersion, 1);
        if (material.Length != KeySize)
        {
            throw new ArgumentException($"Key material must be {KeySize} bytes (got {material.Length}).", nameof(material));
        }

        if (kcv.Length != KeyCheckValueSize || iv.Length != IvSize)
        {
            throw new ArgumentException($"The key-check value must be {KeyCheckValueSize} bytes and the IV {IvSize}.");
        }

        Span<byte> blob = stackalloc byte[Format2Size];
        blob[0] = Format2Marker;
        BinaryPrimitives.WriteUInt32BigEndian(blob[1..], (uint)rootVersion);
        kcv.CopyTo(blob.Slice(1 + sizeof(uint), KeyCheckValueSize));
        var body = blob[Format2HeaderSize..];
        iv.CopyTo(body[..IvSize]);
        using var gcm = new AesGcm(rootKey, TagSize);
        gcm.Encrypt(body[..IvSize], material, body.Slice(IvSize, KeySize), body[(IvSize + KeySize)..], Aad(keyId, version, (uint)rootVersion, format: 2));
        return Convert.ToBase64String(blob);
    }

    /// <summary>
    /// Decrypts parsed <paramref name="parts"/> under <paramref name="rootKey"/> into <paramref name="material"/>
    /// with the AAD of its format. False (and <paramref name="material"/> zeroed) when the tag does not verify.
    /// </summary>
    internal static bool TryDecrypt(ReadOnlySpan<byte> rootKey, string keyId, int version, in WrappedKeyParts parts, Span<byte> material)
    {
        CheckRootKey(rootKey);
        CheckKey(keyId, version);
        if (material.Length != KeySize)
        {
            throw new ArgumentException($"The material buffer must be {KeySize} bytes (got {material.Length}).", nameof(material));
        }

        using var gcm = new AesGcm(rootKey, TagSize);
        try
        {
            gcm.Decrypt(parts.Iv, parts.Wrapped, parts.Tag, material, Aad(keyId, version, parts.RootVersion, parts.Format));
            return true;
        }
        catch (AuthenticationTagMismatchException)
        {
            CryptographicOperations.ZeroMemory(material);
            return false;
        }
    }

    internal static void CheckRootKey(ReadOnlySpan<byte> rootKey)
    {
        if (rootKey.Length != KeySize)
        {
            throw new ArgumentException($"The master key must be {KeySize} bytes (got {rootKey.Length}).", nameof(rootKey));
        }
    }

    internal static void CheckKey(string keyId, int version)
    {
        ArgumentException.ThrowIfNullOrEmpty(keyId);
        ArgumentOutOfRangeException.ThrowIfLessThan(version, 1);
    }

    private static byte[] Aad(string keyId, int version, uint rootVersion, int format) => Encoding.UTF8.GetBytes(format == 1
        ? $"xks-proxy:key:{keyId}:v{version}"
        : $"xks-proxy:key:{keyId}:v{version}:r{rootVersion}");
}

/// <summary>
/// A parsed wrapped key (views into the decoded buffer): its format (1 or 2), root version (1 for format 1), key-check
/// value (empty for format 1), IV, wrapped key and tag.
/// </summary>
internal readonly ref struct WrappedKeyParts
{
    public WrappedKeyParts(int format, uint rootVersion, ReadOnlySpan<byte> keyCheckValue, ReadOnlySpan<byte> iv, ReadOnlySpan<byte> wrapped, ReadOnlySpan<byte> tag)
    {
        Format = format;
        RootVersion = rootVersion;
        KeyCheckValue = keyCheckValue;
        Iv = iv;
        Wrapped = wrapped;
        Tag = tag;
    }

    public int Format { get; }

    public uint RootVersion { get; }

    public ReadOnlySpan<byte> KeyCheckValue { get; }

    public ReadOnlySpan<byte> Iv { get; }

    public ReadOnlySpan<byte> Wrapped { get; }

    public ReadOnlySpan<byte> Tag { get; }
}
