using System.Security.Cryptography;

namespace Xks.Proxy.Crypto.Software;

/// <summary>
/// One key version in memory: its own key (format 1 ciphertexts) and the sub-keys derived from it
/// (<see cref="SubKeyDerivation"/>): the one Encrypt uses until its budget is spent, and a bounded cache for Decrypt.
/// </summary>
internal sealed class AesKeyVersion
{
    private readonly AesGcmKey _versionKey;
    private readonly Aes _ecb;
    private readonly object _ecbLock = new();
    private readonly SubKeyRotation<AesGcmKey> _rotation;
    private readonly SubKeyCache<AesGcmKey> _subKeys = new(SubKeyDerivation.CacheCapacity);

    public AesKeyVersion(int version, ReadOnlySpan<byte> material, long subKeyBudget = SubKeyDerivation.DefaultBudget, SubKeyTally? tally = null)
    {
        Version = version;
        _versionKey = new AesGcmKey(material);
        _ecb = Aes.Create();
        var key = material.ToArray();
        _ecb.Key = key;
        CryptographicOperations.ZeroMemory(key);
        _rotation = new SubKeyRotation<AesGcmKey>(DeriveFresh, subKeyBudget, tally);
    }

    public int Version { get; }

    /// <summary>Sub-keys this process derived for Encrypt under this version.</summary>
    public long SubKeysDerived => _rotation.Derived;

    /// <summary>Takes one encryption from the current sub-key (a new one when its budget is spent).</summary>
    public ISubKey ReserveEncryption() => _rotation.Take();

    /// <summary>The key a ciphertext with this salt was made under: the version key for an empty salt, else the derived sub-key.</summary>
    public ISubKey ForSalt(ReadOnlySpan<byte> salt)
    {
        if (salt.IsEmpty)
        {
            return _versionKey;
        }

        return _subKeys.TryGet(salt, out var cached) ? cached : _subKeys.Add(salt, Derive(salt), out _);
    }

    /// <summary>The sub-key for <paramref name="salt"/>: <c>AES-ECB_K(0x01 || salt) || AES-ECB_K(0x02 || salt)</c>.</summary>
    internal void DeriveMaterial(ReadOnlySpan<byte> salt, Span<byte> subKey)
    {
        Span<byte> data = stackalloc byte[SubKeyDerivation.DataSize];
        SubKeyDerivation.WriteData(salt, data);
        lock (_ecbLock)
        {
            _ecb.EncryptEcb(data, subKey, PaddingMode.None);
        }
    }

    private AesGcmKey Derive(ReadOnlySpan<byte> salt)
    {
        Span<byte> material = stackalloc byte[AesGcmKey.KeySize];
        try
        {
            DeriveMaterial(salt, material);
            return new AesGcmKey(material, salt);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(material);
        }
    }

    private AesGcmKey DeriveFresh()
    {
        Span<byte> salt = stackalloc byte[SubKeyDerivation.SaltSize];
        RandomNumberGenerator.Fill(salt);
        return _subKeys.Add(salt, Derive(salt), out _);
    }
}
