using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;
using Xks.Contracts.KeyWrap;

namespace Xks.Pkcs11;

/// <summary>
/// Sealing of key versions by a root key inside the token (wrap format 3, <see cref="SealedKey"/>), through one
/// logged-in session (not thread-safe: one caller at a time). The root is a non-extractable AES-256 token object
/// labelled <c>{prefix}/r{rootVersion}</c> that may only derive: each blob's wrapping key
/// <c>K_wrap = C_DeriveKey(CKM_AES_ECB_ENCRYPT_DATA, root, SealedKey.DerivationData(keyId, version, rootVersion))</c>
/// is a session object that may only wrap and unwrap, and the key version is wrapped with
/// <c>CKM_AES_KEY_WRAP_PAD</c> (RFC 5649). Sealing and resealing never let plaintext leave the token; only
/// <see cref="Unseal"/> reads a key version out (the proxy's software backend needs it in memory).
/// <para>
/// Every session object made here is destroyed before the call returns. Device and session faults propagate as
/// <see cref="Pkcs11Exception"/>; a blob or root that cannot be used is a <see cref="Pkcs11SealingException"/>.
/// Whoever holds the token's PIN can make blobs of keys they know (generate an extractable key, wrap it under a
/// derived K_wrap), so the PIN guards the Vault's keys as the master key did; the adoption check of
/// <see cref="EnsureRoot"/> keeps a planted known-value object from becoming the root.
/// </para>
/// </summary>
public sealed class Pkcs11Sealer(ISession session)
{
    private static readonly List<CKA> RootAttributes = [CKA.CKA_KEY_TYPE, CKA.CKA_VALUE_LEN, CKA.CKA_DERIVE];

    /// <summary>The label of root version <paramref name="rootVersion"/>: <c>{prefix}/r{rootVersion}</c>.</summary>
    /// <exception cref="ArgumentException">An empty prefix, or a root version outside 1..255.</exception>
    public static string RootLabel(string rootLabelPrefix, int rootVersion)
    {
        ArgumentException.ThrowIfNullOrEmpty(rootLabelPrefix);
        if (rootVersion is < 1 or > SealedKey.MaxRootVersion)
        {
            throw new ArgumentOutOfRangeException(nameof(rootVersion), rootVersion, $"Root versions are 1 to {SealedKey.MaxRootVersion}.");
        }

        return string.Create(CultureInfo.InvariantCulture, $"{rootLabelPrefix}/r{rootVersion}");
    }

    /// <summary>
    /// Root version <paramref name="rootVersion"/>: the token object with its label, adopted if it is an AES-256 key
    /// generated in the token that never left it (sensitive, never extractable, local) and may derive; else a new one
    /// generated in the token (private, sensitive, not extractable, CKA_DERIVE and no other usage). Two objects under
    /// the label, or one that fails the check, throw <see cref="Pkcs11KeyConflictException"/>: nothing is generated.
    /// </summary>
    public HsmKeyVersion EnsureRoot(string rootLabelPrefix, int rootVersion)
    {
        var label = RootLabel(rootLabelPrefix, rootVersion);
        var existing = FindRoots(label);
        if (existing.Count > 1)
        {
            throw new Pkcs11KeyConflictException($"{existing.Count} secret-key objects are labelled '{label}' in the token: which one is root version {rootVersion} cannot be told, so none is used; remove the ones this software did not make");
        }

        if (existing.Count == 1)
        {
            var found = Pkcs11KeyAdmin.Describe(session, existing[0]);
            var problem = found.AdoptionProblem
                ?? (found.CanDerive ? null : $"object '{label}' may not derive (CKA_DERIVE false)");
            return problem is null
                ? found
                : throw new Pkcs11KeyConflictException($"{problem}: it is not adopted as root version {rootVersion}; remove it from the token");
        }

        var handle = session.GenerateKey(session.Factories.MechanismFactory.Create(CKM.CKM_AES_KEY_GEN), RootTemplate(label));
        return Pkcs11KeyAdmin.Describe(session, handle);
    }

    /// <summary>
    /// The root versions the token holds under <paramref name="rootLabelPrefix"/> (objects labelled
    /// <c>{prefix}/r{n}</c>, n 1..255 in plain digits), ascending and distinct; their attributes unchecked.
    /// </summary>
    public IReadOnlyList<int> RootVersions(string rootLabelPrefix)
    {
        ArgumentException.ThrowIfNullOrEmpty(rootLabelPrefix);
        var start = rootLabelPrefix + "/r";
        var versions = new SortedSet<int>();
        foreach (var handle in new Pkcs11KeyAdmin(session).FindSecretKeys(label: null))
        {
            var label = Pkcs11KeyAdmin.Describe(session, handle).Label;
            if (label.StartsWith(start, StringComparison.Ordinal)
                && label.Length > start.Length && label.Length <= start.Length + 3 && label[start.Length] != '0'
                && int.TryParse(label.AsSpan(start.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var version)
                && version <= SealedKey.MaxRootVersion)
            {
                versions.Add(version);
            }
        }

        return [.. versions];
    }

    /// <summary>
    /// Destroys every object labelled as root version <paramref name="rootVersion"/>; how many there were (0 when
    /// already gone). Every blob sealed under it becomes unreadable: callers destroy a root only when no blob names it.
    /// </summary>
    public int DestroyRoot(string rootLabelPrefix, int rootVersion)
    {
        var handles = FindRoots(RootLabel(rootLabelPrefix, rootVersion));
        foreach (var handle in handles)
        {
            session.DestroyObject(handle);
        }

        return handles.Count;
    }

    /// <summary>Whether the token holds an object labelled as root version <paramref name="rootVersion"/> (its attributes unchecked).</summary>
    public bool HasRoot(string rootLabelPrefix, int rootVersion) => FindRoots(RootLabel(rootLabelPrefix, rootVersion)).Count > 0;

    /// <summary>
    /// Generates a new AES-256 key version in the token (a sensitive, extractable session object) and seals it for
    /// <paramref name="keyId"/> version <paramref name="version"/> under root version <paramref name="rootVersion"/>;
    /// returns the <see cref="SealedKey.Size"/>-byte blob. The key's value never leaves the token.
    /// </summary>
    /// <exception cref="Pkcs11SealingException">The root is missing or refused.</exception>
    public byte[] SealNewKey(string rootLabelPrefix, int rootVersion, string keyId, int version)
    {
        CheckKey(keyId, version);
        var root = FindRoot(rootLabelPrefix, rootVersion, keyId, version);
        IObjectHandle? key = null;
        IObjectHandle? wrappingKey = null;
        try
        {
            key = session.GenerateKey(session.Factories.MechanismFactory.Create(CKM.CKM_AES_KEY_GEN), SessionKeyTemplate(sensitive: true, withLength: true));
            wrappingKey = DeriveWrappingKey(root, keyId, version, rootVersion);
            return SealedKey.Compose(rootVersion, Wrap(wrappingKey, key));
        }
        finally
        {
            DestroyQuietly(key);
            DestroyQuietly(wrappingKey);
        }
    }

    /// <summary>
    /// The 32-byte key version sealed in <paramref name="blob"/> for <paramref name="keyId"/> version
    /// <paramref name="version"/>, read out of the token (the caller zeroes it).
    /// </summary>
    /// <exception cref="Pkcs11SealingException">Malformed, the blob's root missing or refused, or the integrity check failed.</exception>
    public byte[] Unseal(string rootLabelPrefix, string keyId, int version, ReadOnlySpan<byte> blob)
    {
        var rootVersion = Parse(blob, keyId, version, out var wrapped);
        var root = FindRoot(rootLabelPrefix, rootVersion, keyId, version);
        IObjectHandle? key = null;
        IObjectHandle? wrappingKey = null;
        try
        {
            wrappingKey = DeriveWrappingKey(root, keyId, version, rootVersion);
            key = UnwrapInto(wrappingKey, wrapped, root, sensitive: false, keyId, version, rootVersion);
            var value = session.GetAttributeValue(key, [CKA.CKA_VALUE])[0].GetValueAsByteArray() ?? [];
            if (value.Length != AesKeyTemplate.KeyBytes)
            {
                CryptographicOperations.ZeroMemory(value);
                throw new Pkcs11SealingException(Pkcs11SealingFailure.IntegrityFailure,
                    $"key '{keyId}' version {version}: the sealed key under root version {rootVersion} is not a 32-byte key");
            }

            return value;
        }
        finally
        {
            DestroyQuietly(key);
            DestroyQuietly(wrappingKey);
        }
    }

    /// <summary>
    /// Seals the key version in <paramref name="blob"/> again under root version <paramref name="toRootVersion"/>
    /// (master-key rotation): it is unwrapped into a sensitive session object and wrapped under the new root's
    /// K_wrap, so its value never leaves the token. Returns the new blob.
    /// </summary>
    /// <exception cref="Pkcs11SealingException">Malformed, either root missing or refused, or the integrity check failed.</exception>
    public byte[] Reseal(string rootLabelPrefix, string keyId, int version, ReadOnlySpan<byte> blob, int toRootVersion)
    {
        var rootVersion = Parse(blob, keyId, version, out var wrapped);
        var root = FindRoot(rootLabelPrefix, rootVersion, keyId, version);
        var newRoot = FindRoot(rootLabelPrefix, toRootVersion, keyId, version);
        IObjectHandle? key = null;
        IObjectHandle? oldWrappingKey = null;
        IObjectHandle? newWrappingKey = null;
        try
        {
            oldWrappingKey = DeriveWrappingKey(root, keyId, version, rootVersion);
            key = UnwrapInto(oldWrappingKey, wrapped, root, sensitive: true, keyId, version, rootVersion);
            newWrappingKey = DeriveWrappingKey(newRoot, keyId, version, toRootVersion);
            return SealedKey.Compose(toRootVersion, Wrap(newWrappingKey, key));
        }
        finally
        {
            DestroyQuietly(key);
            DestroyQuietly(oldWrappingKey);
            DestroyQuietly(newWrappingKey);
        }
    }

    /// <summary>The root's template: a token key that only derives (every usage set: SoftHSM turns unset ones on).</summary>
    private List<IObjectAttribute> RootTemplate(string label)
    {
        var attributes = session.Factories.ObjectAttributeFactory;
        return
        [
            attributes.Create(CKA.CKA_CLASS, CKO.CKO_SECRET_KEY),
            attributes.Create(CKA.CKA_KEY_TYPE, CKK.CKK_AES),
            attributes.Create(CKA.CKA_VALUE_LEN, (ulong)AesKeyTemplate.KeyBytes),
            attributes.Create(CKA.CKA_TOKEN, true),
            attributes.Create(CKA.CKA_PRIVATE, true),
            attributes.Create(CKA.CKA_SENSITIVE, true),
            attributes.Create(CKA.CKA_EXTRACTABLE, false),
            attributes.Create(CKA.CKA_MODIFIABLE, false),
            attributes.Create(CKA.CKA_ENCRYPT, false),
            attributes.Create(CKA.CKA_DECRYPT, false),
            attributes.Create(CKA.CKA_SIGN, false),
            attributes.Create(CKA.CKA_VERIFY, false),
            attributes.Create(CKA.CKA_WRAP, false),
            attributes.Create(CKA.CKA_UNWRAP, false),
            attributes.Create(CKA.CKA_DERIVE, true),
            attributes.Create(CKA.CKA_LABEL, label),
            attributes.Create(CKA.CKA_ID, Encoding.UTF8.GetBytes(label)),
        ];
    }

    /// <summary>A session AES key with no usage at all, extractable (so it can be wrapped); sensitive unless it is to be read.</summary>
    private List<IObjectAttribute> SessionKeyTemplate(bool sensitive, bool withLength)
    {
        var attributes = session.Factories.ObjectAttributeFactory;
        List<IObjectAttribute> template =
        [
            attributes.Create(CKA.CKA_CLASS, CKO.CKO_SECRET_KEY),
            attributes.Create(CKA.CKA_KEY_TYPE, CKK.CKK_AES),
            attributes.Create(CKA.CKA_TOKEN, false),
            attributes.Create(CKA.CKA_PRIVATE, true),
            attributes.Create(CKA.CKA_SENSITIVE, sensitive),
            attributes.Create(CKA.CKA_EXTRACTABLE, true),
            attributes.Create(CKA.CKA_ENCRYPT, false),
            attributes.Create(CKA.CKA_DECRYPT, false),
            attributes.Create(CKA.CKA_SIGN, false),
            attributes.Create(CKA.CKA_VERIFY, false),
            attributes.Create(CKA.CKA_WRAP, false),
            attributes.Create(CKA.CKA_UNWRAP, false),
            attributes.Create(CKA.CKA_DERIVE, false),
        ];
        if (withLength)
        {
            template.Add(attributes.Create(CKA.CKA_VALUE_LEN, (ulong)AesKeyTemplate.KeyBytes));
        }

        return template;
    }

    /// <summary>K_wrap for the blob: a session key derived from the root that may only wrap and unwrap, and never leaves the token.</summary>
    private IObjectHandle DeriveWrappingKey(IObjectHandle root, string keyId, int version, int rootVersion)
    {
        var factories = session.Factories;
        var mechanism = factories.MechanismFactory.Create(
            CKM.CKM_AES_ECB_ENCRYPT_DATA, factories.MechanismParamsFactory.CreateCkKeyDerivationStringData(SealedKey.DerivationData(keyId, version, rootVersion)));
        var attributes = factories.ObjectAttributeFactory;
        return session.DeriveKey(mechanism, root,
        [
            attributes.Create(CKA.CKA_CLASS, CKO.CKO_SECRET_KEY),
            attributes.Create(CKA.CKA_KEY_TYPE, CKK.CKK_AES),
            attributes.Create(CKA.CKA_VALUE_LEN, (ulong)AesKeyTemplate.KeyBytes),
            attributes.Create(CKA.CKA_TOKEN, false),
            attributes.Create(CKA.CKA_PRIVATE, true),
            attributes.Create(CKA.CKA_SENSITIVE, true),
            attributes.Create(CKA.CKA_EXTRACTABLE, false),
            attributes.Create(CKA.CKA_ENCRYPT, false),
            attributes.Create(CKA.CKA_DECRYPT, false),
            attributes.Create(CKA.CKA_SIGN, false),
            attributes.Create(CKA.CKA_VERIFY, false),
            attributes.Create(CKA.CKA_WRAP, true),
            attributes.Create(CKA.CKA_UNWRAP, true),
            attributes.Create(CKA.CKA_DERIVE, false),
        ]);
    }

    private byte[] Wrap(IObjectHandle wrappingKey, IObjectHandle key)
    {
        var wrapped = session.WrapKey(session.Factories.MechanismFactory.Create(CKM.CKM_AES_KEY_WRAP_PAD), wrappingKey, key);
        return wrapped.Length == SealedKey.WrappedSize
            ? wrapped
            : throw new InvalidOperationException($"C_WrapKey(CKM_AES_KEY_WRAP_PAD) of a 32-byte key returned {wrapped.Length} bytes, not {SealedKey.WrappedSize}: the token does not implement RFC 5649");
    }

    /// <summary>
    /// C_UnwrapKey into a session object. A refusal of the wrapped data is an integrity failure; tokens differ in
    /// the code (CKR_WRAPPED_KEY_INVALID as the standard says, CKR_GENERAL_ERROR on SoftHSM2, CKR_FUNCTION_FAILED
    /// elsewhere), so a generic code counts only when the session and the root still answer right after it —
    /// otherwise the token is failing and the original exception propagates.
    /// </summary>
    private IObjectHandle UnwrapInto(IObjectHandle wrappingKey, ReadOnlySpan<byte> wrapped, IObjectHandle root, bool sensitive, string keyId, int version, int rootVersion)
    {
        try
        {
            return session.UnwrapKey(session.Factories.MechanismFactory.Create(CKM.CKM_AES_KEY_WRAP_PAD), wrappingKey, wrapped.ToArray(), SessionKeyTemplate(sensitive, withLength: false));
        }
        catch (Pkcs11Exception ex) when (IsWrappedDataRefusal(ex.RV) && TokenStillAnswers(root))
        {
            throw new Pkcs11SealingException(Pkcs11SealingFailure.IntegrityFailure,
                $"key '{keyId}' version {version}: the sealed key fails its integrity check under root version {rootVersion} (sealed for another key id, version or root, or tampered with; {ex.RV})", ex);
        }
    }

    private static bool IsWrappedDataRefusal(CKR rv) => rv is CKR.CKR_WRAPPED_KEY_INVALID or CKR.CKR_WRAPPED_KEY_LEN_RANGE
        or CKR.CKR_ENCRYPTED_DATA_INVALID or CKR.CKR_ENCRYPTED_DATA_LEN_RANGE or CKR.CKR_GENERAL_ERROR or CKR.CKR_FUNCTION_FAILED;

    private bool TokenStillAnswers(IObjectHandle root)
    {
        try
        {
            session.GetSessionInfo();
            session.GetAttributeValue(root, [CKA.CKA_KEY_TYPE]);
            return true;
        }
        catch (Pkcs11Exception)
        {
            return false;
        }
    }

    private static int Parse(ReadOnlySpan<byte> blob, string keyId, int version, out ReadOnlySpan<byte> wrapped)
    {
        CheckKey(keyId, version);
        return SealedKey.TryParse(blob, out var rootVersion, out wrapped)
            ? rootVersion
            : throw new Pkcs11SealingException(Pkcs11SealingFailure.Malformed, $"key '{keyId}' version {version} {SealedKey.Problem(blob)}");
    }

    /// <summary>The one object labelled as the root version, if it is an AES-256 key that may derive.</summary>
    private IObjectHandle FindRoot(string rootLabelPrefix, int rootVersion, string keyId, int version)
    {
        var label = RootLabel(rootLabelPrefix, rootVersion);
        var found = FindRoots(label);
        if (found.Count == 0)
        {
            throw new Pkcs11SealingException(Pkcs11SealingFailure.RootMissing,
                $"key '{keyId}' version {version}: the token has no root key '{label}' (root version {rootVersion})");
        }

        if (found.Count > 1)
        {
            throw new Pkcs11SealingException(Pkcs11SealingFailure.RootRefused,
                $"key '{keyId}' version {version}: {found.Count} objects are labelled '{label}' in the token, so none is used as root version {rootVersion}");
        }

        var values = session.GetAttributeValue(found[0], RootAttributes);
        var isAes = !values[0].CannotBeRead && (CKK)values[0].GetValueAsUlong() == CKK.CKK_AES;
        var length = values[1].CannotBeRead ? 0UL : values[1].GetValueAsUlong();
        var canDerive = !values[2].CannotBeRead && values[2].GetValueAsBool();
        return isAes && length == AesKeyTemplate.KeyBytes && canDerive
            ? found[0]
            : throw new Pkcs11SealingException(Pkcs11SealingFailure.RootRefused,
                $"key '{keyId}' version {version}: object '{label}' is not an AES-256 key that may derive (AES {isAes}, {length * 8} bits, derive {canDerive}), so it is not used as root version {rootVersion}");
    }

    private List<IObjectHandle> FindRoots(string label) => new Pkcs11KeyAdmin(session).FindSecretKeys(label);

    private void DestroyQuietly(IObjectHandle? handle)
    {
        if (handle is null)
        {
            return;
        }

        try
        {
            session.DestroyObject(handle);
        }
        catch (Pkcs11Exception)
        {
            // a session object dies with its session anyway
        }
    }

    private static void CheckKey(string keyId, int version)
    {
        ArgumentException.ThrowIfNullOrEmpty(keyId);
        ArgumentOutOfRangeException.ThrowIfLessThan(version, 1);
    }
}
