namespace Xks.Proxy.Crypto.Software;

/// <summary>
/// Opens key versions sealed by an HSM's root key (wrap format 3, <c>Xks.Contracts.KeyWrap.SealedKey</c>) for the
/// software backend, which calls it when a configuration is applied — never on the request path.
/// </summary>
public interface IKeyUnsealer
{
    /// <summary>
    /// The 32-byte key version sealed in <paramref name="blob"/> for <paramref name="keyId"/> version
    /// <paramref name="version"/>; the caller zeroes it.
    /// </summary>
    /// <exception cref="KeyUnsealException">
    /// <see cref="KeyUnsealException.HsmUnreachable"/>: no HSM could be asked (retry later; the proxy is sealed).
    /// Otherwise the blob itself cannot be opened (malformed, its root missing or refused, integrity failure): the key
    /// is unusable until the configuration changes.
    /// </exception>
    byte[] Unseal(string keyId, int version, ReadOnlySpan<byte> blob);
}

/// <summary>Why a sealed key version could not be opened.</summary>
public enum KeyUnsealFailure
{
    /// <summary>No token could be reached, opened or logged in to: nothing is known about the blob; retry later.</summary>
    HsmUnreachable,

    /// <summary>Not a format-3 blob of the right length.</summary>
    Malformed,

    /// <summary>The token answered but holds no root key of the blob's root version.</summary>
    RootMissing,

    /// <summary>The object under the root label cannot be a root (several objects, or not an AES-256 key that may derive).</summary>
    RootRefused,

    /// <summary>The blob fails its integrity check: sealed for another key id, version or root, or tampered with.</summary>
    IntegrityFailure,
}

/// <summary>A sealed key version that could not be opened. The message names tokens, labels, key ids and versions, never bytes or PINs.</summary>
public sealed class KeyUnsealException(KeyUnsealFailure failure, string message, Exception? inner = null) : Exception(message, inner)
{
    public KeyUnsealFailure Failure { get; } = failure;

    /// <summary>The HSM could not be asked: the proxy is sealed and retries; any other failure is the blob's.</summary>
    public bool HsmUnreachable => Failure == KeyUnsealFailure.HsmUnreachable;
}
