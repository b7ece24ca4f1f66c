namespace Xks.Operator.Hsm;

/// <summary>
/// What the operator does inside a Vault's HSM: generate (or adopt) key versions, list them, destroy a key's versions,
/// and check that it can log in. Each call uses the first token of the target that works (tokens of one HSM cluster
/// replicate each other). Key bytes never leave the HSM: versions are generated there, sensitive and not extractable.
/// </summary>
internal interface IHsmKeys
{
    /// <summary>
    /// Version <paramref name="version"/> of <paramref name="keyId"/> (object label <c>&lt;keyId&gt;/v&lt;version&gt;</c>):
    /// adopted when the token already has it (a retry after a crash), otherwise generated as a new AES-256 key.
    /// </summary>
    /// <exception cref="HsmException">No token of the target could be used.</exception>
    HsmKeyVersionInfo EnsureVersion(HsmTarget target, string keyId, int version, bool canEncrypt, bool canDecrypt);

    /// <summary>The versions of <paramref name="keyId"/> the token holds, ascending.</summary>
    /// <exception cref="HsmException">No token of the target could be used.</exception>
    IReadOnlyList<HsmKeyVersionInfo> ListVersions(HsmTarget target, string keyId);

    /// <summary>Destroys every version object of <paramref name="keyId"/>; how many there were (0 when already gone).</summary>
    /// <exception cref="HsmException">No token of the target could be used.</exception>
    int DestroyKey(HsmTarget target, string keyId);

    /// <summary>
    /// Root key version <paramref name="rootVersion"/> of a HsmSealed Vault (object <c>&lt;prefix&gt;/r&lt;n&gt;</c>):
    /// adopted when the token has it, otherwise generated (AES-256, sensitive, never extractable, derive only). Says which
    /// token ("token 'xks' of /usr/lib/…").
    /// </summary>
    /// <exception cref="HsmException">No token of the target could be used.</exception>
    string EnsureRoot(HsmTarget target, string rootLabelPrefix, int rootVersion);

    /// <summary>
    /// A new key version generated inside the HSM and wrapped there under root version <paramref name="rootVersion"/>
    /// for <paramref name="keyId"/> and <paramref name="version"/>: the sealed blob (wrap format 3). The plaintext never
    /// leaves the HSM.
    /// </summary>
    /// <exception cref="HsmException">No token of the target could be used, or the root key is missing (RootKeyMissing).</exception>
    byte[] SealNewVersion(HsmTarget target, string rootLabelPrefix, int rootVersion, string keyId, int version);

    /// <summary>The root versions of a HsmSealed Vault the token holds, ascending.</summary>
    /// <exception cref="HsmException">No token of the target could be used.</exception>
    IReadOnlyList<int> RootVersions(HsmTarget target, string rootLabelPrefix);

    /// <summary>
    /// Reseals <paramref name="blob"/> (version <paramref name="version"/> of <paramref name="keyId"/>) under root version
    /// <paramref name="toRootVersion"/> inside the HSM: the new blob. The plaintext never leaves the HSM.
    /// </summary>
    /// <exception cref="HsmException">No token could be used, a root is missing (RootKeyMissing) or the blob is not one of these (RootKeyConflict).</exception>
    byte[] Reseal(HsmTarget target, string rootLabelPrefix, string keyId, int version, byte[] blob, int toRootVersion);

    /// <summary>Destroys root version <paramref name="rootVersion"/>; how many objects there were (0 when gone).</summary>
    /// <exception cref="HsmException">No token of the target could be used.</exception>
    int DestroyRoot(HsmTarget target, string rootLabelPrefix, int rootVersion);

    /// <summary>Logs in to the first usable token; says which one ("token 'xks' of /usr/lib/…").</summary>
    /// <exception cref="HsmException">No token of the target could be used.</exception>
    string Check(HsmTarget target);
}

/// <summary>A key-version object as the HSM describes it (never its value: it is sensitive and not extractable).</summary>
internal sealed record HsmKeyVersionInfo(string KeyId, int Version, string Label, bool IsAes256, bool Sensitive, bool Extractable, bool CanEncrypt, bool CanDecrypt);
