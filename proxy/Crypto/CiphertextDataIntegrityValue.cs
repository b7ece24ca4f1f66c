using System.Security.Cryptography;

namespace Xks.Proxy.Crypto;

/// <summary>CDIV (spec Appendix C): SHA-256 over AAD || ciphertextMetadata || IV || ciphertext || tag, no lengths.</summary>
public static class CiphertextDataIntegrityValue
{
    public const int Size = 32;

    [ThreadStatic]
    private static IncrementalHash? t_hash;

    public static void Compute(
        ReadOnlySpan<byte> aad,
        ReadOnlySpan<byte> metadata,
        ReadOnlySpan<byte> iv,
        ReadOnlySpan<byte> ciphertext,
        ReadOnlySpan<byte> tag,
        Span<byte> destination)
    {
        var hash = t_hash ??= IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(aad);
        hash.AppendData(metadata);
        hash.AppendData(iv);
        hash.AppendData(ciphertext);
        hash.AppendData(tag);
        hash.GetHashAndReset(destination);
    }
}
