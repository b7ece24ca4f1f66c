using System.Text;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;
using Net.Pkcs11Interop.HighLevelAPI.Factories;

namespace Xks.Pkcs11;

/// <summary>
/// The template of a key version generated in the HSM: a persistent, private AES-256 secret key that is sensitive
/// and never extractable, usable for exactly the usages given, and CKA_DERIVE so the proxy can derive its per-process
/// sub-keys from it (C_DeriveKey with CKM_AES_ECB_ENCRYPT_DATA; docs/security.md, "Random IVs: a bound per key
/// version"). Every usage attribute is set explicitly (SoftHSM, for one, turns SIGN/VERIFY/WRAP/UNWRAP on when a
/// template leaves them out).
/// </summary>
public static class AesKeyTemplate
{
    public const int KeyBytes = 32;

    /// <summary>The template for <c>C_GenerateKey(CKM_AES_KEY_GEN)</c> of version <paramref name="version"/> of <paramref name="keyId"/>.</summary>
    public static List<IObjectAttribute> ForVersion(IObjectAttributeFactory factory, string keyId, int version, bool canEncrypt, bool canDecrypt) =>
        ForLabel(factory, KeyLabels.ForVersion(keyId, version), canEncrypt, canDecrypt);

    /// <summary>The same template for any label (the health key).</summary>
    public static List<IObjectAttribute> ForLabel(IObjectAttributeFactory factory, string label, bool canEncrypt, bool canDecrypt)
    {
        ArgumentException.ThrowIfNullOrEmpty(label);
        return
        [
            factory.Create(CKA.CKA_CLASS, CKO.CKO_SECRET_KEY),
            factory.Create(CKA.CKA_KEY_TYPE, CKK.CKK_AES),
            factory.Create(CKA.CKA_VALUE_LEN, (ulong)KeyBytes),
            factory.Create(CKA.CKA_TOKEN, true),
            factory.Create(CKA.CKA_PRIVATE, true),
            factory.Create(CKA.CKA_SENSITIVE, true),
            factory.Create(CKA.CKA_EXTRACTABLE, false),
            factory.Create(CKA.CKA_MODIFIABLE, true),
            factory.Create(CKA.CKA_ENCRYPT, canEncrypt),
            factory.Create(CKA.CKA_DECRYPT, canDecrypt),
            factory.Create(CKA.CKA_SIGN, false),
            factory.Create(CKA.CKA_VERIFY, false),
            factory.Create(CKA.CKA_WRAP, false),
            factory.Create(CKA.CKA_UNWRAP, false),
            factory.Create(CKA.CKA_DERIVE, true),
            factory.Create(CKA.CKA_LABEL, label),
            factory.Create(CKA.CKA_ID, Encoding.UTF8.GetBytes(label)),
        ];
    }
}
