using System.Text;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;

namespace Xks.Pkcs11;

/// <summary>
/// Key-version objects of one token, through one logged-in session (not thread-safe: one caller at a time). Used by
/// the operator (generation, deletion) and the proxy's <c>keys</c> command. Objects are found by
/// <c>CKA_LABEL</c> = <c>&lt;keyId&gt;/v&lt;version&gt;</c> (<see cref="KeyLabels"/>); objects with other labels are
/// ignored and never touched.
/// </summary>
public sealed class Pkcs11KeyAdmin(ISession session)
{
    private static readonly List<CKA> DescribedAttributes =
    [
        CKA.CKA_LABEL, CKA.CKA_KEY_TYPE, CKA.CKA_VALUE_LEN, CKA.CKA_ENCRYPT, CKA.CKA_DECRYPT, CKA.CKA_SENSITIVE, CKA.CKA_EXTRACTABLE,
        CKA.CKA_NEVER_EXTRACTABLE, CKA.CKA_LOCAL, CKA.CKA_DERIVE,
    ];

    /// <summary>The versions of <paramref name="keyId"/> in the token, by version.</summary>
    public IReadOnlyList<HsmKeyVersion> ListVersions(string keyId) =>
        ListKeys().TryGetValue(keyId, out var versions) ? versions : [];

    /// <summary>Every key in the token (every secret-key object whose label parses as a version), by key id, versions ascending.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<HsmKeyVersion>> ListKeys() =>
        FindSecretKeys(label: null)
            .Select(h => Describe(session, h))
            .Where(v => v.Version > 0)
            .GroupBy(v => v.KeyId, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => (IReadOnlyList<HsmKeyVersion>)[.. g.OrderBy(v => v.Version)], StringComparer.Ordinal);

    /// <summary>
    /// Version <paramref name="version"/> of <paramref name="keyId"/>: the existing object with its label (adopted as
    /// it is, whatever its usage, if it is a key generated in the token that never left it — see
    /// <see cref="HsmKeyVersion.AdoptionProblem"/>), or a new AES-256 key generated in the token with
    /// <see cref="AesKeyTemplate"/>. Two objects under one label, or one that fails the check, throw
    /// <see cref="Pkcs11KeyConflictException"/>: nothing is generated or adopted.
    /// </summary>
    public HsmKeyVersion EnsureVersion(string keyId, int version, bool canEncrypt, bool canDecrypt)
    {
        var label = KeyLabels.ForVersion(keyId, version);
        var existing = FindSecretKeys(label);
        if (existing.Count > 1)
        {
            throw new Pkcs11KeyConflictException($"{existing.Count} secret-key objects are labelled '{label}' in the token: which one is the key version cannot be told, so none is used; remove the ones this software did not make");
        }

        if (existing.Count == 1)
        {
            var found = Describe(session, existing[0]);
            return found.AdoptionProblem is { } problem
                ? throw new Pkcs11KeyConflictException($"{problem}: it is not adopted as version {version} of {keyId}; remove it from the token")
                : found;
        }

        var factories = session.Factories;
        var handle = session.GenerateKey(
            factories.MechanismFactory.Create(CKM.CKM_AES_KEY_GEN),
            AesKeyTemplate.ForVersion(factories.ObjectAttributeFactory, keyId, version, canEncrypt, canDecrypt));
        return Describe(session, handle);
    }

    /// <summary>
    /// Disables (CKA_ENCRYPT and CKA_DECRYPT false) or enables (the usages given) every version of
    /// <paramref name="keyId"/>; returns how many objects changed.
    /// </summary>
    public int SetEnabled(string keyId, bool enabled, bool canEncrypt = true, bool canDecrypt = true)
    {
        var handles = FindVersionHandles(keyId);
        var attributes = session.Factories.ObjectAttributeFactory;
        foreach (var handle in handles)
        {
            session.SetAttributeValue(handle,
            [
                attributes.Create(CKA.CKA_ENCRYPT, enabled && canEncrypt),
                attributes.Create(CKA.CKA_DECRYPT, enabled && canDecrypt),
            ]);
        }

        return handles.Count;
    }

    /// <summary>Destroys every version object of <paramref name="keyId"/>; returns how many there were.</summary>
    public int DestroyKey(string keyId)
    {
        var handles = FindVersionHandles(keyId);
        foreach (var handle in handles)
        {
            session.DestroyObject(handle);
        }

        return handles.Count;
    }

    /// <summary>The secret-key objects labelled <paramref name="label"/> (every secret key when null).</summary>
    public List<IObjectHandle> FindSecretKeys(string? label)
    {
        var attributes = session.Factories.ObjectAttributeFactory;
        List<IObjectAttribute> template = [attributes.Create(CKA.CKA_CLASS, CKO.CKO_SECRET_KEY), attributes.Create(CKA.CKA_TOKEN, true)];
        if (label is not null)
        {
            template.Add(attributes.Create(CKA.CKA_LABEL, label));
        }

        return session.FindAllObjects(template);
    }

    /// <summary>Reads what the proxy needs to know about a key object (KeyId = the label and Version 0 when the label is not a version's).</summary>
    public static HsmKeyVersion Describe(ISession session, IObjectHandle handle)
    {
        var values = session.GetAttributeValue(handle, DescribedAttributes);
        var label = values[0].CannotBeRead ? "" : Encoding.UTF8.GetString(values[0].GetValueAsByteArray() ?? []);
        var keyType = values[1].CannotBeRead ? "unknown" : ((CKK)values[1].GetValueAsUlong()).ToString();
        var length = values[2].CannotBeRead ? 0 : (int)Math.Min(values[2].GetValueAsUlong(), int.MaxValue);
        if (!KeyLabels.TryParse(label, out var keyId, out var version))
        {
            keyId = label;
            version = 0;
        }

        return new HsmKeyVersion(keyId, version, label, keyType, length,
            CanEncrypt: Flag(values[3]), CanDecrypt: Flag(values[4]), Sensitive: Flag(values[5]), Extractable: Flag(values[6]),
            NeverExtractable: Flag(values[7]), Local: Flag(values[8]), CanDerive: Flag(values[9]));
    }

    private List<IObjectHandle> FindVersionHandles(string keyId) =>
        FindSecretKeys(label: null)
            .Where(h => KeyLabels.TryParse(Describe(session, h).Label, out var id, out _) && id == keyId)
            .ToList();

    private static bool Flag(IObjectAttribute attribute) => !attribute.CannotBeRead && attribute.GetValueAsBool();
}
