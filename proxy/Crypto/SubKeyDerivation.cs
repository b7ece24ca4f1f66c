namespace Xks.Proxy.Crypto;

/// <summary>
/// How a process derives its sub-keys from a key version's AES-256 key K, so that no key ever sees more than
/// <see cref="DefaultBudget"/> random-IV encryptions (NIST SP 800-38D §8.3 allows 2^32):
/// <c>K_s = AES-ECB_K(0x01 || salt) || AES-ECB_K(0x02 || salt)</c> with a random 15-byte salt. This is exactly what
/// PKCS#11's <c>C_DeriveKey(CKM_AES_ECB_ENCRYPT_DATA)</c> computes over the 32 bytes of <see cref="WriteData"/>
/// (the data encrypted block by block), so a software key and an HSM key derive the same sub-key.
/// </summary>
public static class SubKeyDerivation
{
    public const int SaltSize = 15;
    public const int DataSize = 32;

    /// <summary>Encryptions one process makes under one sub-key before it derives the next (2^30, a quarter of the bound).</summary>
    public const long DefaultBudget = 1L << 30;

    /// <summary>Sub-keys a process keeps for decryption per key version (each is re-derived when evicted).</summary>
    public const int CacheCapacity = 256;

    /// <summary>Writes <c>0x01 || salt || 0x02 || salt</c>, the two AES blocks whose encryption under K is the sub-key.</summary>
    public static void WriteData(ReadOnlySpan<byte> salt, Span<byte> data)
    {
        if (salt.Length != SaltSize)
        {
            throw new ArgumentException($"a sub-key salt is {SaltSize} bytes", nameof(salt));
        }

        data[0] = 0x01;
        salt.CopyTo(data[1..16]);
        data[16] = 0x02;
        salt.CopyTo(data[17..32]);
    }
}
