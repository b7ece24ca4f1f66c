using System.Security.Cryptography;

namespace Xks.KmsEmulator.Crypto;

/// <summary>XKS-SPEC §5.3: Base64(SHA-256(AAD || ciphertextMetadata || IV || ciphertext || tag)); absent parts are empty.</summary>
internal static class CiphertextDataIntegrityValue
{
    public static byte[] Compute(byte[]? aad, byte[]? metadata, byte[] iv, byte[] ciphertext, byte[] tag)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(aad ?? []);
        hash.AppendData(metadata ?? []);
        hash.AppendData(iv);
        hash.AppendData(ciphertext);
        hash.AppendData(tag);
        return hash.GetHashAndReset();
    }
}
