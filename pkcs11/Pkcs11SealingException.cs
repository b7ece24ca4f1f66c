namespace Xks.Pkcs11;

/// <summary>Why <see cref="Pkcs11Sealer"/> refused a sealed blob or a root key.</summary>
public enum Pkcs11SealingFailure
{
    /// <summary>The token has no object with the root label the blob (or the caller) names.</summary>
    RootMissing,

    /// <summary>The object under the root label cannot be a root: several objects, or not an AES-256 key that may derive.</summary>
    RootRefused,

    /// <summary>Not a format-3 blob of the right length (<c>Xks.Contracts.KeyWrap.SealedKey</c>).</summary>
    Malformed,

    /// <summary>
    /// The token says the wrapped key is invalid: sealed for another key id, version or root version, under another
    /// root, or tampered with.
    /// </summary>
    IntegrityFailure,
}

/// <summary>
/// A sealed blob or root key that cannot be used, while the token itself answered. Device and session faults
/// (CKR_DEVICE_REMOVED, CKR_SESSION_HANDLE_INVALID, …) are never turned into this: they propagate as
/// <c>Pkcs11Exception</c>, so a caller can tell "the HSM is not reachable" from "this blob is bad". The message names
/// labels, key ids and versions, never key bytes or blobs.
/// </summary>
public sealed class Pkcs11SealingException(Pkcs11SealingFailure reason, string message, Exception? inner = null) : Exception(message, inner)
{
    public Pkcs11SealingFailure Reason { get; } = reason;
}
