namespace Xks.Contracts.KeyWrap;

/// <summary>What <see cref="MasterKeyRing.TryUnwrap(string, int, string?, Span{byte})"/> found.</summary>
public enum UnwrapOutcome
{
    /// <summary>The material was unwrapped.</summary>
    Ok,

    /// <summary>Not a wrapped key: empty, not Base64, another size, a format-2 size without its marker, or root version 0.</summary>
    Malformed,

    /// <summary>Wrapped under a master-key (root) version the ring does not hold (format 1 means root version 1).</summary>
    UnknownRootVersion,

    /// <summary>
    /// Wrapped under a different master key that claims the same root version: the blob's key-check value is not
    /// the ring's for that version, nor any other version's. (The key-check value is checked before the key is used, so
    /// a blob whose key-check value bytes were corrupted is reported this way too.)
    /// </summary>
    KeyCheckMismatch,

    /// <summary>
    /// Fails authentication: tampered (including a changed root version), or moved to another key id or version; for
    /// format 1, which carries no key-check value, also wrapped by another master key.
    /// </summary>
    IntegrityFailure,
}
