using System.Globalization;
using System.Security.Cryptography;
using Xks.Contracts.KeyCustody;
using Xks.Contracts.KeyWrap;
using Xks.Contracts.ProxyConfig;
using Xks.Proxy.Options;

namespace Xks.Proxy.Crypto.Software;

/// <summary>
/// The Shamir key protection (<c>backend.software.shamir</c>): sealed at start, unsealed by the combined unseal key,
/// which is kept (pinned, zeroed on reseal and dispose) so that a keyring bringing a new root is opened without a new
/// unseal, and dropped when a keyring of another unseal key arrives (the Vault was re-initialised: sealed again).
/// Everything here runs under <see cref="_applyLock"/>.
/// </summary>
public sealed partial class SoftwareKeyBackend
{
    private const string NoKeyringYet = "the proxy is sealed: no keyring was applied yet";

    private readonly bool _shamir;

    /// <summary>The keyring of the last applied configuration (Shamir mode).</summary>
    private ShamirKeyring? _keyring;

    /// <summary>The keyring <see cref="_ring"/> was opened from; null while sealed.</summary>
    private ShamirKeyring? _openedKeyring;

    /// <summary>The unseal key while unsealed (pinned); null while sealed.</summary>
    private byte[]? _unsealKey;

    /// <summary>Root versions and key-check values of <see cref="_ring"/> (part of the inline keys' cache key); "" without Shamir.</summary>
    private string _ringIdentity = "";

    /// <summary>The unseal API's port, as the listener was opened at start (a change takes effect after a restart).</summary>
    private int _adminPort;

    /// <summary>Test hook: the buffer holding the unseal key while unsealed (zeroed on reseal and dispose).</summary>
    internal byte[]? HeldUnsealKeyForTests => _unsealKey;

    /// <summary>Whether the backend runs in Shamir mode (<c>backend.software.shamir</c>).</summary>
    public bool IsShamir => _shamir;

    /// <summary>The keyring of the last applied configuration (Shamir mode), or null.</summary>
    public ShamirKeyring? Keyring => Volatile.Read(ref _keyring);

    /// <summary>
    /// Unseals the backend with <paramref name="unsealKey"/> (the custodians' combined shares; the caller zeroes its
    /// copy): checks its key-check value against the keyring's first (constant time; a wrong key decrypts nothing),
    /// opens every root, keeps a copy of the key, and loads the last applied configuration again so every key serves
    /// at once. <paramref name="problem"/> says why it did not unseal (never quoting a key).
    /// </summary>
    /// <exception cref="InvalidOperationException">The backend is not in Shamir mode, or has no configuration yet.</exception>
    public ShamirUnsealOutcome Unseal(ReadOnlySpan<byte> unsealKey, out string? problem)
    {
        lock (_applyLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_shamir)
            {
                throw new InvalidOperationException("this backend is not in Shamir mode (backend.software.shamir): there is nothing to unseal");
            }

            problem = null;
            if (_ring is not null)
            {
                return ShamirUnsealOutcome.AlreadyUnsealed;
            }

            var keyring = _keyring ?? throw new InvalidOperationException("no configuration was applied yet, so there is no keyring to unseal");
            if (!keyring.IsUnsealKey(unsealKey))
            {
                problem = ShamirKeyring.WrongUnsealKeyProblem;
                return ShamirUnsealOutcome.WrongShares;
            }

            if (!keyring.TryUnseal(unsealKey, out var ring, out problem))
            {
                return ShamirUnsealOutcome.KeyringUnusable;
            }

            var copy = GC.AllocateArray<byte>(WrappedKey.KeySize, pinned: true);
            unsealKey.CopyTo(copy);
            _unsealKey = copy;
            SetRing(ring, keyring);
            if (_lastConfiguration is { } configuration)
            {
                ApplyCore(configuration);
            }

            return ShamirUnsealOutcome.Unsealed;
        }
    }

    private void InitializeShamir(SoftwareBackendOptions options, bool sealing)
    {
        if (_createMissing)
        {
            throw new InvalidOperationException("backend.software.shamir requires createMissingKeys: false: the operator provides every key version, derived from the Vault's root keys");
        }

        if (sealing || _masterKeyProvided)
        {
            throw new InvalidOperationException("backend.software.shamir cannot be combined with masterKeyFile or sealing: exactly one of them says where the root keys come from");
        }

        _adminPort = options.Shamir!.AdminPort;
        _sealedProblem = NoKeyringYet;
    }

    /// <summary>
    /// Takes the keyring of <paramref name="configuration"/>: the same one changes nothing; while unsealed, one with new
    /// roots under the same unseal key is opened with the key held in memory (a rotation ceremony needs no second
    /// unseal), and one of another unseal key seals the backend. Throws <see cref="InvalidOperationException"/> (the
    /// configuration is refused and the previous one keeps serving) when the keyring is missing or cannot be opened.
    /// </summary>
    private void SyncKeyring(ProxyConfiguration configuration)
    {
        var shamir = configuration.Options.Backend.Software?.Shamir;
        if (shamir?.Keyring is not { } document)
        {
            throw new InvalidOperationException("backend.software.shamir and its keyring cannot be removed from a proxy started in Shamir mode: restart it with the new configuration");
        }

        if (!ShamirKeyring.TryFromDocument(document, out var keyring, out var problems))
        {
            throw new InvalidOperationException($"backend.software.shamir.keyring is not valid: {string.Join("; ", problems)}");
        }

        if (_openedKeyring is { } opened && _unsealKey is { } unsealKey && !keyring.SameAs(opened))
        {
            if (!keyring.HasSameUnsealKey(opened) || !keyring.IsUnsealKey(unsealKey))
            {
                Reseal();
                Log.KeyringReinitialized(_logger, keyring.VaultId);
            }
            else if (keyring.TryUnseal(unsealKey, out var ring, out var problem))
            {
                SetRing(ring, keyring);
                Log.KeyringRootsOpened(_logger, keyring.VaultId, Versions(keyring.RootVersions), keyring.CurrentRoot);
            }
            else
            {
                throw new InvalidOperationException($"the keyring of Vault '{keyring.VaultId}' cannot be opened with the unseal key this proxy holds: {problem}; the previous keyring keeps serving");
            }
        }

        Volatile.Write(ref _keyring, keyring);
    }

    /// <summary>Serves from <paramref name="ring"/> (opened from <paramref name="keyring"/>) and disposes the previous ring.</summary>
    private void SetRing(MasterKeyRing ring, ShamirKeyring keyring)
    {
        var previous = _ring;
        _ring = ring;
        _openedKeyring = keyring;
        _ringIdentity = string.Join(',', ring.Versions.Select(v => string.Create(CultureInfo.InvariantCulture, $"{v}:{ring.KeyCheckValue(v)}")));
        previous?.Dispose();
    }

    /// <summary>Forgets the unseal key and the roots (zeroed); the next apply finds every key sealed.</summary>
    private void Reseal()
    {
        _ring?.Dispose();
        _ring = null;
        _openedKeyring = null;
        _ringIdentity = "";
        if (_unsealKey is { } unsealKey)
        {
            CryptographicOperations.ZeroMemory(unsealKey);
            _unsealKey = null;
        }
    }

    /// <summary>Sealed exactly while no ring is open; logs the transitions.</summary>
    private void UpdateShamirSealedState(Dictionary<string, LoadedKey> keys)
    {
        var was = _sealedProblem;
        var keyring = _keyring!;
        if (_ring is null)
        {
            var waiting = keys.Count(k => k.Value.Sealed);
            _sealedProblem = string.Create(CultureInfo.InvariantCulture,
                $"the proxy is sealed: {keyring.Threshold} of the {keyring.Shares} custodians of Vault '{keyring.VaultId}' must give their unseal shares (xks-proxy admin unseal, through the admin port {_adminPort}); {waiting} key(s) wait for them");
            if (was is null or NoKeyringYet)
            {
                Log.ShamirSealed(_logger, keyring.VaultId, keyring.Threshold, keyring.Shares, waiting);
            }
        }
        else if (was is not null)
        {
            _sealedProblem = null;
            Log.ShamirUnsealed(_logger, keyring.VaultId, Versions(_ring.Versions), keys.Count);
        }
    }

    /// <summary>A format-4 version derived through the open ring; the plaintext copy is zeroed once the key is built.</summary>
    private AesKeyVersion Derive(string keyId, int version, ReadOnlySpan<byte> blob, string source, Span<byte> material)
    {
        if (!_shamir || _ring is null)
        {
            throw new KeyFileException($"{source}: version {version} is derived from a Shamir root key (format 4) and this backend has no Shamir keyring (backend.software.shamir is not configured, or was added after the proxy started: restart it)");
        }

        try
        {
            if (!_ring.TryDerive(keyId, version, blob, material, out _, out var problem))
            {
                throw new KeyFileException($"{source}: version {version} {problem}");
            }

            var key = new AesKeyVersion(version, material, tally: _subKeys);
            Log.VersionDerived(_logger, keyId, version, blob[1]);
            return key;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(material);
        }
    }

    private static string Versions(IEnumerable<int> versions) => string.Join(", ", versions);

    private static partial class Log
    {
        [LoggerMessage(330, LogLevel.Warning, "Software key store sealed: Vault {VaultId} needs {Threshold} of its {Shares} custodians' unseal shares (xks-proxy admin unseal, through the admin port); {Count} key(s) wait for them; health reports UNAVAILABLE", EventName = "ShamirSealed")]
        public static partial void ShamirSealed(ILogger logger, string vaultId, int threshold, int shares, int count);

        [LoggerMessage(331, LogLevel.Information, "Software key store unsealed: Vault {VaultId} root version(s) {RootVersions} opened, {Count} key(s) loaded", EventName = "ShamirUnsealed")]
        public static partial void ShamirUnsealed(ILogger logger, string vaultId, string rootVersions, int count);

        [LoggerMessage(332, LogLevel.Information, "Keyring of Vault {VaultId} changed: root version(s) {RootVersions} open (current {CurrentRoot}) with the unseal key held in memory", EventName = "KeyringRootsOpened")]
        public static partial void KeyringRootsOpened(ILogger logger, string vaultId, string rootVersions, int currentRoot);

        [LoggerMessage(333, LogLevel.Warning, "The keyring of Vault {VaultId} is sealed under another unseal key (the Vault was re-initialised): the proxy forgot its unseal key and is sealed until the custodians unseal it", EventName = "KeyringReinitialized")]
        public static partial void KeyringReinitialized(ILogger logger, string vaultId);

        [LoggerMessage(334, LogLevel.Debug, "Key {KeyId} version {Version} derived from root version {RootVersion}", EventName = "KeyVersionDerived")]
        public static partial void VersionDerived(ILogger logger, string keyId, int version, int rootVersion);
    }
}
