namespace Xks.Operator.Hsm;

/// <summary>
/// The operator cannot use a Vault's HSM: its PIN Secret is missing or unusable, the PKCS#11 library does not load, no
/// configured token is there, the PIN is wrong, or the token fails. <see cref="Reason"/> is the condition reason
/// (CamelCase); the message names the library, token and Secret — never the PIN or key bytes.
/// </summary>
internal sealed class HsmException(string reason, string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>The Secret named by spec.keyBackend.pkcs11.pinSecretRef does not exist.</summary>
    public const string PinSecretNotFound = "PinSecretNotFound";

    /// <summary>The PIN Secret exists but has no (non-empty) value under the referenced key.</summary>
    public const string PinSecretInvalid = "PinSecretInvalid";

    /// <summary>The library, a token or the login failed (the message says which and why).</summary>
    public const string HsmUnavailable = "HsmUnavailable";

    /// <summary>The PKCS#11 library is not on the operator's allow-list (--allowed-pkcs11-library): it is never loaded.</summary>
    public const string LibraryNotAllowed = "NotAllowed";

    /// <summary>A HsmSealed Vault's root-key object is missing from the token (it was never made there, or was removed).</summary>
    public const string RootKeyMissing = "RootKeyMissing";

    /// <summary>An object under the root key's label is not one this operator made (or two are): it is never used.</summary>
    public const string RootKeyConflict = "RootKeyConflict";

    public string Reason { get; } = reason;
}
