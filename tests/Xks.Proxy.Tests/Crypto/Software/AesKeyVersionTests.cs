using System.Security.Cryptography;

namespace Xks.Proxy.Crypto.Software.Tests;

public sealed class AesKeyVersionTests
{
    private static readonly byte[] Key = Convert.FromHexString("000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F");
    private static readonly byte[] Aad = "aad"u8.ToArray();

    [Fact]
    public void DeriveMaterial_KnownKeyAndSalt_IsAesEcbOfTheTwoBlocks()
    {
        // openssl: printf 01<salt>02<salt> | openssl enc -aes-256-ecb -nopad -K 000102…1f
        var version = new AesKeyVersion(1, Key);
        var subKey = new byte[32];

        version.DeriveMaterial(Convert.FromHexString("A0A1A2A3A4A5A6A7A8A9AAABACADAE"), subKey);

        Assert.Equal("9A5E6130AADFCD974D49EC4C25772CAB493B7715231B1E3949B6CA1694F17894", Convert.ToHexString(subKey));
    }

    [Fact]
    public void ReserveEncryption_BudgetOfThree_FourthEncryptCarriesANewSalt_AndAllDecrypt()
    {
        var version = new AesKeyVersion(1, Key, subKeyBudget: 3);
        var plaintext = RandomNumberGenerator.GetBytes(40);
        var results = new List<(byte[] Salt, byte[] Iv, byte[] Ciphertext, byte[] Tag)>();

        for (var i = 0; i < 4; i++)
        {
            var subKey = version.ReserveEncryption();
            var (iv, ciphertext, tag) = (new byte[12], new byte[plaintext.Length], new byte[16]);
            subKey.Encrypt(plaintext, Aad, iv, ciphertext, tag);
            results.Add((subKey.Salt.ToArray(), iv, ciphertext, tag));
        }

        Assert.All(results, r => Assert.Equal(SubKeyDerivation.SaltSize, r.Salt.Length));
        Assert.Equal(results[0].Salt, results[1].Salt);
        Assert.Equal(results[0].Salt, results[2].Salt);
        Assert.NotEqual(results[0].Salt, results[3].Salt);
        Assert.Equal(2, version.SubKeysDerived);

        // A fresh process (no cache) decrypts them all from the salts alone.
        var elsewhere = new AesKeyVersion(1, Key);
        foreach (var (salt, iv, ciphertext, tag) in results)
        {
            var decrypted = new byte[plaintext.Length];
            Assert.True(elsewhere.ForSalt(salt).TryDecrypt(ciphertext, iv, tag, Aad, decrypted));
            Assert.Equal(plaintext, decrypted);
        }
    }

    [Fact]
    public void ForSalt_Empty_IsTheVersionKeyItself_SoFormatOneCiphertextsDecrypt()
    {
        var plaintext = RandomNumberGenerator.GetBytes(16);
        var (iv, ciphertext, tag) = (RandomNumberGenerator.GetBytes(12), new byte[16], new byte[16]);
        using (var gcm = new AesGcm(Key, 16))
        {
            gcm.Encrypt(iv, plaintext, ciphertext, tag, Aad);
        }

        var decrypted = new byte[16];
        Assert.True(new AesKeyVersion(1, Key).ForSalt(default).TryDecrypt(ciphertext, iv, tag, Aad, decrypted));
        Assert.Equal(plaintext, decrypted);
    }

    [Fact]
    public void ForSalt_AnotherSalt_DoesNotDecrypt()
    {
        var version = new AesKeyVersion(1, Key);
        var subKey = version.ReserveEncryption();
        var (iv, ciphertext, tag) = (new byte[12], new byte[8], new byte[16]);
        subKey.Encrypt(new byte[8], Aad, iv, ciphertext, tag);
        var salt = subKey.Salt.ToArray();
        salt[^1] ^= 1;

        Assert.False(version.ForSalt(salt).TryDecrypt(ciphertext, iv, tag, Aad, new byte[8]));
        Assert.False(version.ForSalt(default).TryDecrypt(ciphertext, iv, tag, Aad, new byte[8]));
    }
}
