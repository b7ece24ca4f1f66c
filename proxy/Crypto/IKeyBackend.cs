using Xks.Proxy.Contracts;
using Xks.Proxy.Options;

namespace Xks.Proxy.Crypto;

/// <summary>Where AES-256 key material lives and where the GCM operations run (software store, later PKCS#11).</summary>
public interface IKeyBackend : IDisposable
{
    /// <summary>Reported as ekmVendor.</summary>
    string Vendor { get; }

    /// <summary>Brings the backend in line with a configuration: loads keys, creates missing ones where allowed.</summary>
    void Apply(ProxyConfiguration configuration);

    /// <summary>Finds the key material of an externalKeyId, or says why it is unusable.</summary>
    KeyLookupResult Find(string keyId);

    /// <summary>Deep check on the backend's dedicated health key (never a customer key).</summary>
    IReadOnlyList<EkmFleetMember> CheckHealth();

    /// <summary>Adds a new version to a key and returns its number (old versions stay for decrypt).</summary>
    int Rotate(string keyId);

    /// <summary>The backend's sub-keys so far (xks_key_subkeys_derived_total, xks_key_versions_used_directly).</summary>
    SubKeyTally SubKeys { get; }
}

public enum KeyLookupStatus
{
    Found,
    Missing,
    Unusable,
}

public readonly record struct KeyLookupResult(KeyLookupStatus Status, IBackendKey? Key, string? Problem)
{
    public static KeyLookupResult Found(IBackendKey key) => new(KeyLookupStatus.Found, key, null);

    public static KeyLookupResult Missing(string problem) => new(KeyLookupStatus.Missing, null, problem);

    public static KeyLookupResult Unusable(string problem) => new(KeyLookupStatus.Unusable, null, problem);
}

/// <summary>The versions of one key inside the backend.</summary>
public interface IBackendKey
{
    string Id { get; }

    /// <summary>The version Encrypt uses (the newest).</summary>
    int CurrentVersion { get; }

    /// <summary>
    /// False when the backend itself has the key switched off (a software key file with <c>"enabled": false</c>):
    /// the proxy then reports it DISABLED and refuses Encrypt and Decrypt, whatever the configuration says.
    /// </summary>
    bool Enabled => true;

    /// <summary>
    /// What the key material itself allows (ENCRYPT, DECRYPT), when the backend knows (a PKCS#11 object's
    /// CKA_ENCRYPT/CKA_DECRYPT); null when only the configuration decides.
    /// </summary>
    IReadOnlyList<string>? Usage => null;

    bool HasVersion(int version);

    /// <summary>
    /// Takes one encryption under <paramref name="version"/>: the sub-key this process currently encrypts with (a new
    /// one when its budget is spent), or the version key itself (empty salt) when the backend cannot derive.
    /// </summary>
    ISubKey ReserveEncryption(int version);

    /// <summary>
    /// Decrypts under the sub-key of <paramref name="version"/> for <paramref name="salt"/> (the version key itself
    /// when empty). Returns false when the tag does not verify (tampered ciphertext, IV, tag, AAD or metadata).
    /// </summary>
    bool TryDecrypt(int version, ReadOnlySpan<byte> salt, ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> iv, ReadOnlySpan<byte> tag, ReadOnlySpan<byte> aad, Span<byte> plaintext);
}
