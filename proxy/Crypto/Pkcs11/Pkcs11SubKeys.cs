using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;
using ISession = Net.Pkcs11Interop.HighLevelAPI.ISession;

namespace Xks.Proxy.Crypto.Pkcs11;

/// <summary>
/// <see cref="SubKeyDerivation"/> inside the token: <c>C_DeriveKey(CKM_AES_ECB_ENCRYPT_DATA)</c> over
/// <c>0x01 || salt || 0x02 || salt</c> (encrypted block by block under the version key, which needs CKA_DERIVE) into
/// a session object: AES-256, sensitive, not extractable, with the version object's encrypt and decrypt usage and
/// nothing else. It lives until it is destroyed or the session that derived it closes.
/// </summary>
internal static class Pkcs11SubKeys
{
    public static IObjectHandle Derive(ISession session, IObjectHandle versionKey, ReadOnlySpan<byte> salt, bool canEncrypt = true, bool canDecrypt = true)
    {
        var data = new byte[SubKeyDerivation.DataSize];
        SubKeyDerivation.WriteData(salt, data);
        var factories = session.Factories;
        var mechanism = factories.MechanismFactory.Create(
            CKM.CKM_AES_ECB_ENCRYPT_DATA, factories.MechanismParamsFactory.CreateCkKeyDerivationStringData(data));
        var attributes = factories.ObjectAttributeFactory;
        return session.DeriveKey(mechanism, versionKey,
        [
            attributes.Create(CKA.CKA_CLASS, CKO.CKO_SECRET_KEY),
            attributes.Create(CKA.CKA_KEY_TYPE, CKK.CKK_AES),
            attributes.Create(CKA.CKA_VALUE_LEN, (ulong)SubKeyDerivation.DataSize),
            attributes.Create(CKA.CKA_TOKEN, false),
            attributes.Create(CKA.CKA_PRIVATE, true),
            attributes.Create(CKA.CKA_SENSITIVE, true),
            attributes.Create(CKA.CKA_EXTRACTABLE, false),
            attributes.Create(CKA.CKA_ENCRYPT, canEncrypt),
            attributes.Create(CKA.CKA_DECRYPT, canDecrypt),
            attributes.Create(CKA.CKA_SIGN, false),
            attributes.Create(CKA.CKA_VERIFY, false),
            attributes.Create(CKA.CKA_WRAP, false),
            attributes.Create(CKA.CKA_UNWRAP, false),
            attributes.Create(CKA.CKA_DERIVE, false),
        ]);
    }
}
