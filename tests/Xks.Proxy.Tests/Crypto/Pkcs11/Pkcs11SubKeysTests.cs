using System.Security.Cryptography;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;
using Xks.Proxy.Crypto.Software;
using Xks.Testing;

namespace Xks.Proxy.Crypto.Pkcs11.Tests;

/// <summary>The sub-key derivation inside a SoftHSM2 token, against the software backend's on the same key bytes.</summary>
public sealed class Pkcs11SubKeysTests
{
    private const string Pin = "1357";
    private readonly string _token = "subkeys-" + Guid.NewGuid().ToString("N")[..8];

    public Pkcs11SubKeysTests() => SoftHsm.Shared.InitToken(_token, Pin);

    [Fact]
    public void Derive_SameKeyAndSalt_GivesTheSoftwareBackendsSubKey()
    {
        var keyBytes = RandomNumberGenerator.GetBytes(32);
        var salt = RandomNumberGenerator.GetBytes(SubKeyDerivation.SaltSize);
        var blocks = RandomNumberGenerator.GetBytes(32);

        var inToken = SoftHsm.Shared.WithSession(_token, Pin, session =>
        {
            var derived = Pkcs11SubKeys.Derive(session, Import(session, keyBytes, derive: true), salt);
            return session.Encrypt(session.Factories.MechanismFactory.Create(CKM.CKM_AES_ECB), derived, blocks);
        });

        var subKey = new byte[32];
        new AesKeyVersion(1, keyBytes).DeriveMaterial(salt, subKey);
        using var aes = Aes.Create();
        aes.Key = subKey;
        Assert.Equal(Convert.ToHexString(aes.EncryptEcb(blocks, PaddingMode.None)), Convert.ToHexString(inToken));
    }

    [Fact]
    public void Derive_Always_MakesASensitiveNonExtractableSessionObject()
    {
        var attributes = SoftHsm.Shared.WithSession(_token, Pin, session =>
        {
            var derived = Pkcs11SubKeys.Derive(session, Import(session, RandomNumberGenerator.GetBytes(32), derive: true), new byte[15]);
            return session.GetAttributeValue(derived, [CKA.CKA_TOKEN, CKA.CKA_SENSITIVE, CKA.CKA_EXTRACTABLE, CKA.CKA_ENCRYPT, CKA.CKA_DECRYPT, CKA.CKA_DERIVE])
                .Select(a => a.GetValueAsBool()).ToArray();
        });

        Assert.Equal([false, true, false, true, true, false], attributes);
    }

    [Fact]
    public void Derive_VersionKeyWithoutCkaDerive_IsRefusedByTheToken()
    {
        var refused = SoftHsm.Shared.WithSession(_token, Pin, session =>
            Assert.Throws<Pkcs11Exception>(() => Pkcs11SubKeys.Derive(session, Import(session, RandomNumberGenerator.GetBytes(32), derive: false), new byte[15])));

        Assert.Equal(CKR.CKR_KEY_FUNCTION_NOT_PERMITTED, refused.RV);
    }

    private static IObjectHandle Import(ISession session, byte[] value, bool derive)
    {
        var a = session.Factories.ObjectAttributeFactory;
        return session.CreateObject(
        [
            a.Create(CKA.CKA_CLASS, CKO.CKO_SECRET_KEY), a.Create(CKA.CKA_KEY_TYPE, CKK.CKK_AES), a.Create(CKA.CKA_TOKEN, false),
            a.Create(CKA.CKA_VALUE, value), a.Create(CKA.CKA_ENCRYPT, true), a.Create(CKA.CKA_DECRYPT, true),
            a.Create(CKA.CKA_SENSITIVE, true), a.Create(CKA.CKA_EXTRACTABLE, false), a.Create(CKA.CKA_DERIVE, derive),
        ]);
    }
}
