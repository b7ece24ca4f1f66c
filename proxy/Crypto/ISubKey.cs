namespace Xks.Proxy.Crypto;

/// <summary>
/// The AES-256-GCM key one Encrypt or Decrypt runs under: a sub-key derived from a key version for a salt
/// (ciphertextMetadata format 2), or the version's key itself when <see cref="Salt"/> is empty (format 1).
/// </summary>
public interface ISubKey
{
    /// <summary>The 15-byte salt this key was derived for (<see cref="SubKeyDerivation"/>); empty for the version key itself.</summary>
    ReadOnlySpan<byte> Salt { get; }

    /// <summary>AES-256-GCM with a fresh 12-byte IV (written to <paramref name="iv"/>) and a 16-byte tag.</summary>
    void Encrypt(ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> aad, Span<byte> iv, Span<byte> ciphertext, Span<byte> tag);

    /// <summary>Returns false when the tag does not verify (tampered ciphertext, IV, tag, AAD or metadata).</summary>
    bool TryDecrypt(ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> iv, ReadOnlySpan<byte> tag, ReadOnlySpan<byte> aad, Span<byte> plaintext);
}
