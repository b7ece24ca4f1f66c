using System.Security.Cryptography;
using Xks.Proxy.Crypto;

namespace Xks.Proxy.Tests.Support;

/// <summary>Assertions about a loaded backend key that go around the code under test.</summary>
internal static class BackendKeyAssert
{
    /// <summary>
    /// Asserts that <paramref name="version"/>'s own key is <paramref name="material"/>: a plain AES-GCM ciphertext
    /// under it (no salt, so no sub-key) decrypts.
    /// </summary>
    public static void VersionKeyIs(IBackendKey key, int version, byte[] material)
    {
        var plaintext = RandomNumberGenerator.GetBytes(16);
        var (iv, ciphertext, tag, roundTrip) = (RandomNumberGenerator.GetBytes(12), new byte[16], new byte[16], new byte[16]);
        using (var gcm = new AesGcm(material, 16))
        {
            gcm.Encrypt(iv, plaintext, ciphertext, tag, "aad"u8);
        }

        Assert.True(key.TryDecrypt(version, [], ciphertext, iv, tag, "aad"u8, roundTrip));
        Assert.Equal(plaintext, roundTrip);
    }
}
