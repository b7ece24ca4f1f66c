namespace Xks.Pkcs11;

/// <summary>
/// One key-version object in a token, as its attributes say. <see cref="KeyType"/> is the CKK name
/// (<c>CKK_AES</c>), <see cref="ValueLength"/> the key length in bytes; <see cref="IsUsableAes256"/> tells whether the
/// proxy can serve it. <see cref="CanDerive"/> (CKA_DERIVE) lets the proxy derive its per-process sub-keys from it
/// (ciphertextMetadata format 2); keys generated before that was set are used directly (format 1).
/// </summary>
public sealed record HsmKeyVersion(
    string KeyId,
    int Version,
    string Label,
    string KeyType,
    int ValueLength,
    bool CanEncrypt,
    bool CanDecrypt,
    bool Sensitive,
    bool Extractable,
    bool NeverExtractable,
    bool Local,
    bool CanDerive = false)
{
    public bool IsUsableAes256 => KeyType == "CKK_AES" && ValueLength == AesKeyTemplate.KeyBytes;

    /// <summary>Neither encrypt nor decrypt allowed: the proxy reports the key DISABLED.</summary>
    public bool IsDisabled => !CanEncrypt && !CanDecrypt;

    /// <summary>
    /// Why the object may not be taken as a key version made by this software, or null: only an AES-256 key generated
    /// inside the token (CKA_LOCAL) that never left it (SENSITIVE, not EXTRACTABLE, NEVER_EXTRACTABLE). An imported,
    /// extractable or otherwise known-value object under a version's label may have been planted by whoever shares the
    /// token; encrypting under it would hand them the data.
    /// </summary>
    public string? AdoptionProblem =>
        Problem ?? (Sensitive && !Extractable && NeverExtractable && Local
            ? null
            : $"object '{Label}' is not a key generated in the token that never left it (sensitive {Sensitive}, extractable {Extractable}, never extractable {NeverExtractable}, local {Local})");

    /// <summary>Why the proxy cannot serve it, or null.</summary>
    public string? Problem => IsUsableAes256 ? null : $"object '{Label}' is {KeyType} with {ValueLength * 8} bits, not AES-256";
}
