using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Xks.Contracts.KeyWrap;
using Xks.Contracts.ProxyConfig;
using Xks.Proxy.Contracts;
using Xks.Proxy.Options;

namespace Xks.Proxy.Crypto.Software;

/// <summary>
/// Keys kept as files under a data directory: a 32-byte master key (<c>master.key</c>, or the read-only
/// <c>masterKeyFile</c>) and, per key, a JSON file of versions wrapped by it with AES-256-GCM
/// (<c>keys/&lt;id&gt;.json</c>). The master key is master key version 1 of a one-key <see cref="MasterKeyRing"/>:
/// versions in wrap format 1 or 2 unwrap (at load, never on the request path), new versions are written in format 2
/// (<see cref="WrappedKey"/>). Files are 0600, the folders 0700. A file that fails its integrity check makes that
/// key unusable and leaves every other key serving. Nothing is ever deleted: keys dropped from the configuration keep
/// their files.
/// <para>
/// With <c>createMissingKeys: false</c> the backend creates no key file, not even its health key (which then lives
/// in memory only); with <c>masterKeyFile</c> it never writes the master key. Both together (cluster mode, where the
/// operator provides the material) write nothing at all.
/// </para>
/// <para>
/// A key with <c>versions</c> in the configuration (the operator renders them from the CloudKey's key-material Secret)
/// has no key file: its versions are unwrapped from the configuration with the same master key and AAD, once per
/// content (a reload that leaves them unchanged reuses the unwrapped key). A version that fails to unwrap makes that
/// key unusable, as a bad key file does.
/// </para>
/// <para>
/// With <c>sealing</c> (the <c>HsmSealed</c> key protection) versions in wrap format 3 (<see cref="SealedKey"/>) are
/// unsealed through an <see cref="IKeyUnsealer"/> (the HSM's root key) when a configuration is applied, with the same
/// once-per-content caching; without <c>masterKeyFile</c> there is then no master key at all, and versions in format 1
/// or 2 are unusable. When the HSM cannot be reached the backend is <em>sealed</em>: the keys it could not unseal answer
/// as unusable, health reports the member UNAVAILABLE (so /readyz and GetHealthStatus say not ready), and each health
/// check retries the unseal of the last applied configuration in the background, at most every
/// <see cref="UnsealRetryInterval"/>. A blob the HSM refuses (integrity, root missing) makes only its key unusable.
/// Every plaintext copy of unsealed material is zeroed once the key is built.
/// </para>
/// <para>
/// With <c>shamir</c> (the <c>Shamir</c> key protection; <c>SoftwareKeyBackend.Shamir.cs</c>) there is no master key
/// either: the configuration carries the Vault's keyring, its root keys sealed under an unseal key that only k
/// custodians' shares reconstruct. The backend starts sealed (every configured key unusable, health UNAVAILABLE; there
/// is nothing to retry) until <see cref="Unseal(ReadOnlySpan{byte}, out string?)"/> is handed the combined unseal key, which it checks against the
/// keyring, keeps in memory and uses to open the roots; then versions in wrap format 4 (<see cref="DerivedKey"/>) are
/// derived, and versions in format 1 or 2 unwrapped, through that ring — at apply time, never on the request path.
/// </para>
/// </summary>
public sealed partial class SoftwareKeyBackend : IKeyBackend
{
    public const string HealthKeyId = "xks-proxy-health";
    private const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode PrivateFileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private readonly string _dataDir;
    private readonly string _masterKeyPath;
    private readonly bool _masterKeyProvided;
    private readonly string _keysDir;
    private readonly string _healthDir;
    /// <summary>The master key (version 1), or in Shamir mode the opened roots (null while sealed). Used under <see cref="_applyLock"/>.</summary>
    private MasterKeyRing? _ring;
    private readonly bool _ringFromMasterKeyFile;
    private readonly IKeyUnsealer? _unsealer;
    private readonly bool _createMissing;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly object _applyLock = new();
    private readonly SubKeyTally _subKeys = new();
    private readonly object _retryGate = new();
    private Dictionary<string, LoadedKey> _keys = new(StringComparer.Ordinal);
    private LoadedKey? _health;
    private ProxyConfiguration? _lastConfiguration;
    private volatile string? _sealedProblem;
    private DateTimeOffset _lastUnsealAttempt = DateTimeOffset.MinValue;
    private Task? _retry;
    private volatile bool _disposed;

    /// <param name="options">backend.software.</param>
    /// <param name="logger">Where loads, unseals and health problems are logged (never key bytes).</param>
    /// <param name="time">The clock of the unseal retries and of new versions' creation times.</param>
    /// <param name="unsealer">The HSM that unseals format-3 versions (registered when <c>sealing</c> is configured); null: such versions are unusable.</param>
    public SoftwareKeyBackend(SoftwareBackendOptions options, ILogger<SoftwareKeyBackend> logger, TimeProvider time, IKeyUnsealer? unsealer = null)
    {
        _dataDir = options.DataDir;
        _masterKeyProvided = !string.IsNullOrWhiteSpace(options.MasterKeyFile);
        _masterKeyPath = _masterKeyProvided ? options.MasterKeyFile! : Path.Combine(_dataDir, "master.key");
        _keysDir = Path.Combine(_dataDir, "keys");
        _healthDir = Path.Combine(_dataDir, "health");
        _createMissing = options.CreateMissingKeys;
        var sealing = options.Sealing is not null;
        _unsealer = unsealer;
        _logger = logger;
        _time = time;
        if (sealing && _createMissing)
        {
            throw new InvalidOperationException("backend.software.sealing requires createMissingKeys: false: the operator provides every key version, sealed by the HSM");
        }

        _shamir = options.Shamir is not null;
        if (_shamir)
        {
            // Shamir: no master key to read or create, nothing is ever written, and sealed until the custodians unseal.
            InitializeShamir(options, sealing);
            return;
        }

        if (sealing && !_masterKeyProvided)
        {
            // HsmSealed without a master key: nothing to read or create, and nothing is ever written.
            return;
        }

        if (!_masterKeyProvided)
        {
            CreatePrivateDirectory(_dataDir);
        }

        if (_createMissing)
        {
            CreatePrivateDirectory(_dataDir);
            CreatePrivateDirectory(_keysDir);
            CreatePrivateDirectory(_healthDir);
        }

        var masterKey = _masterKeyProvided ? LoadProvidedMasterKey() : LoadOrCreateMasterKey();
        try
        {
            _ring = MasterKeyRing.Single(masterKey, rootVersion: 1);
            _ringFromMasterKeyFile = true;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(masterKey);
        }
    }

    public string Vendor => "XKS Operator";

    public SubKeyTally SubKeys => _subKeys;

    public static string Model => $"XKS Operator software key store {typeof(SoftwareKeyBackend).Assembly.GetName().Version?.ToString(3)} (AES-256-GCM, wrapped keys on disk)";

    public string KeysDirectory => _keysDir;

    /// <summary>
    /// Whether keys sealed by the HSM could not be unsealed because the HSM cannot be reached, or (Shamir mode) the
    /// custodians have not unsealed the proxy yet.
    /// </summary>
    public bool IsSealed => _sealedProblem is not null;

    /// <summary>Why the backend is sealed (names the keys, versions and tokens, never bytes), or null.</summary>
    public string? SealedProblem => _sealedProblem;

    /// <summary>The shortest time between two unseal attempts while sealed (health checks come more often).</summary>
    public TimeSpan UnsealRetryInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The unseal retry in progress or last run (for tests).</summary>
    internal Task? PendingUnseal
    {
        get
        {
            lock (_retryGate)
            {
                return _retry;
            }
        }
    }

    public void Apply(ProxyConfiguration configuration)
    {
        lock (_applyLock)
        {
            ApplyCore(configuration);
        }
    }

    /// <summary>Loads every configured key (under <see cref="_applyLock"/>), reusing what did not change, and updates the sealed state.</summary>
    private void ApplyCore(ProxyConfiguration configuration)
    {
        if (_shamir)
        {
            // Throws (the reload is refused, the previous configuration keeps serving) for a keyring it cannot open.
            SyncKeyring(configuration);
        }

        _lastConfiguration = configuration;
        var pass = new UnsealPass();
        var inline = InlineKeys(configuration);
        var next = new Dictionary<string, LoadedKey>(StringComparer.Ordinal);
        foreach (var keyId in configuration.KeyIds)
        {
            var previous = _keys.GetValueOrDefault(keyId);
            next[keyId] = inline.TryGetValue(keyId, out var versions)
                ? LoadInlineKey(keyId, versions, previous, pass)
                : LoadKey(keyId, _keysDir, previous, _createMissing, pass);
        }

        _health = _createMissing ? LoadKey(HealthKeyId, _healthDir, _health, create: true, pass) : _health ?? InMemoryHealthKey();
        Volatile.Write(ref _keys, next);
        UpdateSealedState(next, pass);
    }

    /// <summary>Sealed when a key could not be unsealed for want of the HSM; logs the transitions.</summary>
    private void UpdateSealedState(Dictionary<string, LoadedKey> keys, UnsealPass pass)
    {
        if (_shamir)
        {
            UpdateShamirSealedState(keys);
            return;
        }

        if (pass.Unreachable is not null)
        {
            lock (_retryGate)
            {
                _lastUnsealAttempt = _time.GetUtcNow();
            }
        }

        var sealedKeys = keys.Where(k => k.Value.Sealed).Select(k => k.Key).Order(StringComparer.Ordinal).ToList();
        var was = _sealedProblem;
        if (sealedKeys.Count > 0)
        {
            var problem = $"the proxy is sealed: the HSM cannot be reached to unseal {sealedKeys.Count} key(s) ({string.Join(", ", sealedKeys.Take(5))}{(sealedKeys.Count > 5 ? ", …" : "")}): {pass.Unreachable ?? keys[sealedKeys[0]].Problem}";
            _sealedProblem = problem;
            if (was is null)
            {
                Log.Sealed(_logger, sealedKeys.Count, problem);
            }
        }
        else if (was is not null)
        {
            _sealedProblem = null;
            Log.Unsealed(_logger, keys.Count);
        }
    }

    /// <summary>
    /// While sealed, starts one background unseal of the last applied configuration, unless one runs or the last
    /// attempt was less than <see cref="UnsealRetryInterval"/> ago. Never blocks the caller (a health check).
    /// </summary>
    private void MaybeRetryUnseal()
    {
        lock (_retryGate)
        {
            if (_disposed || _retry is { IsCompleted: false } || _time.GetUtcNow() - _lastUnsealAttempt < UnsealRetryInterval)
            {
                return;
            }

            _lastUnsealAttempt = _time.GetUtcNow();
            _retry = Task.Run(RetryUnseal);
        }
    }

    private void RetryUnseal()
    {
        try
        {
            lock (_applyLock)
            {
                if (_disposed || _sealedProblem is null || _lastConfiguration is not { } configuration)
                {
                    return;
                }

                Log.RetryingUnseal(_logger);
                ApplyCore(configuration);
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException or UnauthorizedAccessException or CryptographicException or ObjectDisposedException)
        {
            Log.UnsealRetryFailed(_logger, ex.Message);
        }
    }

    public KeyLookupResult Find(string keyId)
    {
        if (!Volatile.Read(ref _keys).TryGetValue(keyId, out var loaded))
        {
            return KeyLookupResult.Missing($"no key material loaded for '{keyId}'");
        }

        return loaded switch
        {
            { Key: { } key } => KeyLookupResult.Found(key),
            { IsMissing: true } => KeyLookupResult.Missing(loaded.Problem!),
            _ => KeyLookupResult.Unusable(loaded.Problem!),
        };
    }

    public IReadOnlyList<EkmFleetMember> CheckHealth()
    {
        var status = "ACTIVE";
        if (_sealedProblem is { } sealedProblem)
        {
            Log.StillSealed(_logger, sealedProblem);
            if (!_shamir)
            {
                // An HSM may come back by itself; custodians' shares do not.
                MaybeRetryUnseal();
            }

            return [new EkmFleetMember { Id = "software-" + Environment.MachineName, Model = Model, HealthStatus = "UNAVAILABLE" }];
        }

        try
        {
            var key = _health?.Key ?? throw new InvalidOperationException(_health?.Problem ?? "health key not loaded");
            if (_ringFromMasterKeyFile && !File.Exists(_masterKeyPath))
            {
                throw new InvalidOperationException($"master key file '{_masterKeyPath}' is gone");
            }

            Span<byte> probe = stackalloc byte[32];
            Span<byte> iv = stackalloc byte[AesGcmKey.IvSize];
            Span<byte> tag = stackalloc byte[AesGcmKey.TagSize];
            Span<byte> ciphertext = stackalloc byte[32];
            Span<byte> roundTrip = stackalloc byte[32];
            RandomNumberGenerator.Fill(probe);
            var subKey = key.ReserveEncryption(key.CurrentVersion);
            subKey.Encrypt(probe, "xks-health"u8, iv, ciphertext, tag);
            if (!key.TryDecrypt(key.CurrentVersion, subKey.Salt, ciphertext, iv, tag, "xks-health"u8, roundTrip) || !probe.SequenceEqual(roundTrip))
            {
                throw new CryptographicException("health key round trip failed");
            }
        }
        catch (Exception ex) when (ex is CryptographicException or InvalidOperationException or IOException)
        {
            Log.HealthCheckFailed(_logger, ex.Message);
            status = "UNAVAILABLE";
        }

        return [new EkmFleetMember { Id = "software-" + Environment.MachineName, Model = Model, HealthStatus = status }];
    }

    public int Rotate(string keyId)
    {
        lock (_applyLock)
        {
            var path = ExistingKeyPath(keyId);
            var file = ReadKeyFile(path, keyId, out _);
            var next = file.Versions.Max(v => v.Version) + 1;
            file.Versions.Add(NewVersion(keyId, next));
            WriteKeyFile(path, file);
            Log.KeyRotated(_logger, keyId, next);
            return next;
        }
    }

    /// <summary>
    /// Creates <c>keys/&lt;id&gt;.json</c> with version 1 (the admin command's <c>keys create</c>); refuses a key that
    /// already has a file, so existing material is never replaced.
    /// </summary>
    public void Create(string keyId)
    {
        lock (_applyLock)
        {
            var path = KeyPath(_keysDir, keyId);
            if (File.Exists(path))
            {
                throw new InvalidOperationException($"key '{keyId}' already exists ('{path}'); use 'keys rotate' to add a version");
            }

            CreatePrivateDirectory(_dataDir);
            CreatePrivateDirectory(_keysDir);
            WriteKeyFile(path, new SoftwareKeyFile { Id = keyId, Versions = [NewVersion(keyId, 1)] });
            Log.KeyCreated(_logger, keyId);
        }
    }

    /// <summary>
    /// Sets <c>"enabled"</c> in a key file (the admin command's <c>keys disable|enable</c>); a running proxy picks
    /// the change up with the key file. Returns false when the key was already in that state (the file is unchanged).
    /// </summary>
    public bool SetEnabled(string keyId, bool enabled)
    {
        lock (_applyLock)
        {
            var path = ExistingKeyPath(keyId);
            var file = ReadKeyFile(path, keyId, out _);
            if (file.Enabled == enabled)
            {
                return false;
            }

            file.Enabled = enabled;
            WriteKeyFile(path, file);
            Log.KeyEnabledChanged(_logger, keyId, enabled ? "enabled" : "disabled");
            return true;
        }
    }

    /// <summary>Versions, switch and problems of every key file in the data directory (for the admin command).</summary>
    public IEnumerable<SoftwareKeyState> ListKeyFiles()
    {
        if (!Directory.Exists(_keysDir))
        {
            yield break;
        }

        foreach (var path in Directory.EnumerateFiles(_keysDir, "*.json").Order(StringComparer.Ordinal))
        {
            var id = Path.GetFileNameWithoutExtension(path);
            var loaded = LoadKey(id, _keysDir, null, create: false, new UnsealPass());
            yield return new SoftwareKeyState(id, loaded.Key?.Versions ?? [], loaded.Key?.Enabled ?? true, loaded.Problem);
        }
    }

    /// <summary>
    /// Versions, unwrapped state and problems of every key of <paramref name="configuration"/> that carries its
    /// versions inline (for the admin command). Reads and writes no file.
    /// </summary>
    public IEnumerable<SoftwareKeyState> ListInlineKeys(ProxyConfiguration configuration)
    {
        foreach (var (id, versions) in InlineKeys(configuration).OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            var loaded = LoadInlineKey(id, versions, previous: null, new UnsealPass(), log: false);
            yield return new SoftwareKeyState(id, loaded.Key?.Versions ?? [], Enabled: true, loaded.Problem);
        }
    }

    /// <summary>Whether <paramref name="keyId"/> carries its versions in <paramref name="configuration"/> (no key file).</summary>
    public static bool IsInline(ProxyConfiguration configuration, string keyId) => InlineKeys(configuration).ContainsKey(keyId);

    public void Dispose()
    {
        Task? retry;
        lock (_retryGate)
        {
            _disposed = true;
            retry = _retry;
        }

        try
        {
            retry?.Wait(TimeSpan.FromSeconds(10));
        }
        catch (AggregateException)
        {
            // the retry logs its own failures
        }

        lock (_applyLock)
        {
            Reseal();
        }
    }

    private static Dictionary<string, List<KeyVersionOptions>> InlineKeys(ProxyConfiguration configuration) =>
        configuration.Options.KeyStores
            .SelectMany(s => s.Keys)
            .Where(k => k.Versions is { Count: > 0 })
            .ToDictionary(k => k.Id, k => k.Versions, StringComparer.Ordinal);

    /// <summary>
    /// A key whose wrapped versions come with the configuration (cluster mode: the operator renders them). Unwrapped
    /// with the master key; the same content as last time reuses the previous result, so a reload unwraps only the
    /// keys that changed. A version that fails to unwrap makes the whole key unusable.
    /// </summary>
    private LoadedKey LoadInlineKey(string keyId, List<KeyVersionOptions> versions, LoadedKey? previous, UnsealPass pass, bool log = true)
    {
        var content = InlineContentHash(keyId, versions, _ringIdentity);
        if (previous is not null && previous.InlineContent == content && !previous.Sealed)
        {
            return previous;
        }

        var file = new SoftwareKeyFile
        {
            Id = keyId,
            Versions = [.. versions.Select(v => new SoftwareKeyVersion { Version = v.Version, WrappedMaterial = v.WrappedMaterial ?? "", CreatedAt = v.CreatedAt ?? default })],
        };
        try
        {
            return new LoadedKey(new SoftwareKey(keyId, Unwrap(file, keyId, $"key '{keyId}' (versions in the configuration)", pass)), null, default, InlineContent: content);
        }
        catch (SealedVersionException ex)
        {
            if (log)
            {
                Log.KeySealed(_logger, keyId, ex.Message);
            }

            return new LoadedKey(null, ex.Message, default, InlineContent: content, Sealed: true);
        }
        catch (KeyFileException ex)
        {
            if (log)
            {
                Log.KeyUnusable(_logger, keyId, ex.Message);
            }

            return new LoadedKey(null, ex.Message, default, InlineContent: content);
        }
    }

    private static string InlineContentHash(string keyId, List<KeyVersionOptions> versions, string ringIdentity)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes(ringIdentity));
        hash.AppendData("\n"u8);
        hash.AppendData(Encoding.UTF8.GetBytes(keyId));
        foreach (var version in versions)
        {
            hash.AppendData(Encoding.UTF8.GetBytes($"\n{version.Version}:{version.WrappedMaterial}"));
        }

        return Convert.ToHexString(hash.GetHashAndReset());
    }

    private LoadedKey LoadKey(string keyId, string directory, LoadedKey? previous, bool create, UnsealPass pass)
    {
        var path = KeyPath(directory, keyId);
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            if (!create)
            {
                return new LoadedKey(null, $"no key material for '{keyId}' (expected '{path}')", default, IsMissing: true);
            }

            var file = new SoftwareKeyFile { Id = keyId, Versions = [NewVersion(keyId, 1)] };
            CreatePrivateDirectory(directory);
            WriteKeyFile(path, file);
            Log.KeyCreated(_logger, keyId);
            info.Refresh();
        }

        var fingerprint = new FileFingerprint(info.Length, info.LastWriteTimeUtc);
        if (previous is { InlineContent: null, Key: not null } && previous.Fingerprint == fingerprint)
        {
            return previous;
        }

        try
        {
            var file = ReadKeyFile(path, keyId, out var keys, pass);
            return new LoadedKey(new SoftwareKey(keyId, keys, file.Enabled), null, fingerprint);
        }
        catch (SealedVersionException ex)
        {
            Log.KeySealed(_logger, keyId, ex.Message);
            return new LoadedKey(null, ex.Message, fingerprint, Sealed: true);
        }
        catch (KeyFileException ex)
        {
            Log.KeyUnusable(_logger, keyId, ex.Message);
            return new LoadedKey(null, ex.Message, fingerprint);
        }
    }

    /// <summary>
    /// The health key when the backend may not write (<c>createMissingKeys: false</c>): generated at start, wrapped
    /// and unwrapped with the master key like any key, and kept in memory only.
    /// </summary>
    private LoadedKey InMemoryHealthKey()
    {
        if (_ring is null)
        {
            // No master key (HsmSealed): random material straight into memory.
            Span<byte> material = stackalloc byte[AesGcmKey.KeySize];
            try
            {
                RandomNumberGenerator.Fill(material);
                return new LoadedKey(new SoftwareKey(HealthKeyId, [new AesKeyVersion(1, material, tally: _subKeys)]), null, default);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(material);
            }
        }

        var file = new SoftwareKeyFile { Id = HealthKeyId, Versions = [NewVersion(HealthKeyId, 1)] };
        return new LoadedKey(new SoftwareKey(HealthKeyId, Unwrap(file, HealthKeyId, "the in-memory health key", new UnsealPass())), null, default);
    }

    private SoftwareKeyFile ReadKeyFile(string path, string keyId, out AesKeyVersion[] keys, UnsealPass? pass = null)
    {
        SoftwareKeyFile? file;
        try
        {
            file = JsonSerializer.Deserialize(File.ReadAllBytes(path), SoftwareKeyFileJsonContext.Default.SoftwareKeyFile);
        }
        catch (JsonException)
        {
            throw new KeyFileException($"key file '{path}' is not valid JSON (corrupted?)");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new KeyFileException($"key file '{path}' cannot be read: {ex.Message}");
        }

        if (file is null || file.Id != keyId)
        {
            throw new KeyFileException($"key file '{path}' does not describe key '{keyId}'");
        }

        if (file.Versions is not { Count: > 0 } || file.Versions.Select(v => v.Version).Distinct().Count() != file.Versions.Count
            || file.Versions.Any(v => v.Version < 1))
        {
            throw new KeyFileException($"key file '{path}' has no versions, or duplicate or invalid version numbers");
        }

        keys = Unwrap(file, keyId, $"key file '{path}'", pass ?? new UnsealPass());
        return file;
    }

    /// <summary>
    /// Every version of <paramref name="file"/> in memory: format 1/2 through the master-key ring, format 3 through
    /// the unsealer. Throws <see cref="KeyFileException"/> for a version that cannot be used and
    /// <see cref="SealedVersionException"/> when the HSM cannot be asked (after the first such answer in a pass the
    /// HSM is not asked again in that pass).
    /// </summary>
    private AesKeyVersion[] Unwrap(SoftwareKeyFile file, string keyId, string source, UnsealPass pass)
    {
        var keys = new AesKeyVersion[file.Versions.Count];
        Span<byte> material = stackalloc byte[AesGcmKey.KeySize];
        Span<byte> blob = stackalloc byte[Math.Max(SealedKey.Size, DerivedKey.Size) + 3];
        try
        {
            for (var i = 0; i < file.Versions.Count; i++)
            {
                var version = file.Versions[i];
                if (TryDecodeSealed(version.WrappedMaterial, blob, out var length))
                {
                    keys[i] = Unseal(keyId, version.Version, blob[..length], source, pass);
                    continue;
                }

                if (_shamir && _ring is null)
                {
                    throw new SealedVersionException($"{source}: version {version.Version} waits for the unseal: the Vault's root keys open only when its custodians give their shares");
                }

                if (DerivedKey.TryDecode(version.WrappedMaterial, blob, out length))
                {
                    keys[i] = Derive(keyId, version.Version, blob[..length], source, material);
                    continue;
                }

                if (_ring is null)
                {
                    throw new KeyFileException($"{source}: version {version.Version} is unusable: no master key (the Vault's keys are sealed by the HSM, and this version is wrapped by a master key, format 1 or 2)");
                }

                if (_ring.TryUnwrap(keyId, version.Version, version.WrappedMaterial, material, out var problem) != UnwrapOutcome.Ok)
                {
                    throw new KeyFileException($"{source}: version {version.Version} {problem}");
                }

                keys[i] = new AesKeyVersion(version.Version, material, tally: _subKeys);
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(material);
        }

        return keys;
    }

    /// <summary>A format-3 version, unsealed by the HSM; the plaintext copy is zeroed once the key is built.</summary>
    private AesKeyVersion Unseal(string keyId, int version, ReadOnlySpan<byte> blob, string source, UnsealPass pass)
    {
        if (_unsealer is null)
        {
            throw new KeyFileException($"{source}: version {version} is sealed by the HSM (format 3) and this backend has no HSM to unseal it (backend.software.sealing is not configured)");
        }

        if (pass.Unreachable is { } unreachable)
        {
            throw new SealedVersionException($"{source}: version {version} is sealed and the HSM cannot be reached: {unreachable}");
        }

        byte[] material;
        try
        {
            material = _unsealer.Unseal(keyId, version, blob);
        }
        catch (KeyUnsealException ex) when (ex.HsmUnreachable)
        {
            pass.Unreachable = ex.Message;
            throw new SealedVersionException($"{source}: version {version} is sealed and the HSM cannot be reached: {ex.Message}");
        }
        catch (KeyUnsealException ex)
        {
            throw new KeyFileException($"{source}: version {version} cannot be unsealed ({ex.Failure}): {ex.Message}");
        }

        try
        {
            if (material.Length != AesGcmKey.KeySize)
            {
                throw new KeyFileException($"{source}: version {version}: the HSM unsealed {material.Length} bytes, not {AesGcmKey.KeySize}");
            }

            var key = new AesKeyVersion(version, material, tally: _subKeys);
            Log.VersionUnsealed(_logger, keyId, version, blob[1]);
            return key;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(material);
        }
    }

    /// <summary>Whether <paramref name="wrappedBase64"/> is the Base64 of a format-3 blob (decoded into <paramref name="blob"/>).</summary>
    private static bool TryDecodeSealed(string? wrappedBase64, Span<byte> blob, out int length)
    {
        length = 0;
        return wrappedBase64 is { Length: SealedKey.Base64Length }
            && Convert.TryFromBase64String(wrappedBase64, blob, out length)
            && length == SealedKey.Size
            && SealedKey.IsSealed(blob[..length]);
    }

    private SoftwareKeyVersion NewVersion(string keyId, int version)
    {
        if (_ring is null)
        {
            throw new InvalidOperationException($"key '{keyId}': this backend has no master key (its keys are sealed by the HSM, or by the custodians' unseal key and not unsealed): new versions come from the operator");
        }

        Span<byte> material = stackalloc byte[WrappedKey.KeySize];
        try
        {
            RandomNumberGenerator.Fill(material);
            return new SoftwareKeyVersion { Version = version, CreatedAt = _time.GetUtcNow(), WrappedMaterial = _ring.Wrap(keyId, version, material) };
        }
        finally
        {
            CryptographicOperations.ZeroMemory(material);
        }
    }

    private static string KeyPath(string directory, string keyId) => Path.Combine(directory, keyId + ".json");

    private string ExistingKeyPath(string keyId)
    {
        var path = KeyPath(_keysDir, keyId);
        return File.Exists(path) ? path : throw new InvalidOperationException($"key '{keyId}' has no key file at '{path}'");
    }

    private static void WriteKeyFile(string path, SoftwareKeyFile file) =>
        WritePrivateFileAtomically(path, JsonSerializer.SerializeToUtf8Bytes(file, SoftwareKeyFileJsonContext.Default.SoftwareKeyFile));

    /// <summary>The master key from <c>masterKeyFile</c> (e.g. a mounted Secret): read, checked, never written.</summary>
    private byte[] LoadProvidedMasterKey()
    {
        if (!File.Exists(_masterKeyPath))
        {
            throw new InvalidOperationException($"master key file '{_masterKeyPath}' (backend.software.masterKeyFile) does not exist; the proxy never creates it");
        }

        return ReadMasterKey(_masterKeyPath);
    }

    private static byte[] ReadMasterKey(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"master key '{path}' cannot be read: {ex.Message}");
        }

        if (bytes.Length != AesGcmKey.KeySize)
        {
            CryptographicOperations.ZeroMemory(bytes);
            throw new InvalidOperationException($"master key '{path}' must be exactly {AesGcmKey.KeySize} bytes (it is {bytes.Length}); refusing to start rather than lose access to the wrapped keys");
        }

        return bytes;
    }

    private byte[] LoadOrCreateMasterKey()
    {
        var path = _masterKeyPath;
        if (File.Exists(path))
        {
            return ReadMasterKey(path);
        }

        var existing = Directory.Exists(_keysDir) ? Directory.EnumerateFiles(_keysDir, "*.json").Count() : 0;
        if (existing > 0)
        {
            throw new InvalidOperationException($"master key '{path}' is missing but {existing} wrapped key file(s) exist in '{_keysDir}'; refusing to create a new master key, which could never unwrap them");
        }

        var key = new byte[AesGcmKey.KeySize];
        RandomNumberGenerator.Fill(key);
        WritePrivateFileAtomically(path, key);
        Log.MasterKeyCreated(_logger, _dataDir);
        return key;
    }

    private static void CreatePrivateDirectory(string path)
    {
        if (!Directory.Exists(path))
        {
            if (OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(path);
            }
            else
            {
                Directory.CreateDirectory(path, DirectoryMode);
            }
        }
    }

    internal static void WritePrivateFileAtomically(string path, ReadOnlySpan<byte> content)
    {
        var temp = path + ".tmp-" + Environment.ProcessId;
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = PrivateFileMode;
        }

        using (var stream = new FileStream(temp, options))
        {
            stream.Write(content);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
    }

    /// <summary>A key as the admin command lists it: versions, the key file's switch, or why it is unusable.</summary>
    public sealed record SoftwareKeyState(string Id, int[] Versions, bool Enabled, string? Problem);

    /// <summary>A key as loaded: from a file (<see cref="Fingerprint"/>) or inline (<see cref="InlineContent"/>, the hash of its versions).</summary>
    /// <para><see cref="Sealed"/>: unusable only because the HSM could not be reached to unseal it (retried; never reused).</para>
    private sealed record LoadedKey(SoftwareKey? Key, string? Problem, FileFingerprint Fingerprint, bool IsMissing = false, string? InlineContent = null, bool Sealed = false);

    /// <summary>One pass over the configuration: once the HSM could not be reached, the rest of the pass does not ask it again.</summary>
    private sealed class UnsealPass
    {
        public string? Unreachable { get; set; }
    }

    /// <summary>
    /// A version that cannot be opened yet: sealed by an HSM that could not be reached (retried later), or waiting for
    /// the custodians' unseal (Shamir). The backend is sealed.
    /// </summary>
    private sealed class SealedVersionException(string message) : Exception(message);

    private readonly record struct FileFingerprint(long Length, DateTime LastWriteUtc);

    private sealed class SoftwareKey : IBackendKey
    {
        private readonly AesKeyVersion[] _byVersion;

        public SoftwareKey(string id, AesKeyVersion[] versions, bool enabled = true)
        {
            Id = id;
            Enabled = enabled;
            CurrentVersion = versions.Max(v => v.Version);
            _byVersion = new AesKeyVersion[CurrentVersion + 1];
            foreach (var v in versions)
            {
                _byVersion[v.Version] = v;
            }

            Versions = versions.Select(v => v.Version).Order().ToArray();
        }

        public string Id { get; }

        public int CurrentVersion { get; }

        public bool Enabled { get; }

        public int[] Versions { get; }

        public bool HasVersion(int version) => version > 0 && version < _byVersion.Length && _byVersion[version] is not null;

        public ISubKey ReserveEncryption(int version) => _byVersion[version].ReserveEncryption();

        public bool TryDecrypt(int version, ReadOnlySpan<byte> salt, ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> iv, ReadOnlySpan<byte> tag, ReadOnlySpan<byte> aad, Span<byte> plaintext) =>
            HasVersion(version) && _byVersion[version].ForSalt(salt).TryDecrypt(ciphertext, iv, tag, aad, plaintext);
    }

    private static partial class Log
    {
        [LoggerMessage(300, LogLevel.Information, "Created a master key in data directory {DataDir}", EventName = "MasterKeyCreated")]
        public static partial void MasterKeyCreated(ILogger logger, string dataDir);

        [LoggerMessage(301, LogLevel.Information, "Created key {KeyId} (version 1)", EventName = "KeyCreated")]
        public static partial void KeyCreated(ILogger logger, string keyId);

        [LoggerMessage(302, LogLevel.Error, "Key {KeyId} is unusable and will be refused: {Problem}", EventName = "KeyUnusable")]
        public static partial void KeyUnusable(ILogger logger, string keyId, string problem);

        [LoggerMessage(303, LogLevel.Information, "Key {KeyId} rotated to version {Version}", EventName = "KeyRotated")]
        public static partial void KeyRotated(ILogger logger, string keyId, int version);

        [LoggerMessage(304, LogLevel.Warning, "Software key store health check failed: {Problem}", EventName = "HealthCheckFailed")]
        public static partial void HealthCheckFailed(ILogger logger, string problem);

        [LoggerMessage(305, LogLevel.Information, "Key {KeyId} {State} in its key file", EventName = "KeyEnabledChanged")]
        public static partial void KeyEnabledChanged(ILogger logger, string keyId, string state);

        [LoggerMessage(306, LogLevel.Debug, "Key {KeyId} version {Version} unsealed by the HSM (root version {RootVersion})", EventName = "KeyVersionUnsealed")]
        public static partial void VersionUnsealed(ILogger logger, string keyId, int version, int rootVersion);

        [LoggerMessage(307, LogLevel.Warning, "Software key store sealed: {Count} key(s) are unusable until the HSM answers again; health reports UNAVAILABLE. {Problem}", EventName = "BackendSealed")]
        public static partial void Sealed(ILogger logger, int count, string problem);

        [LoggerMessage(308, LogLevel.Information, "Software key store unsealed: the HSM answered, {Count} key(s) loaded", EventName = "BackendUnsealed")]
        public static partial void Unsealed(ILogger logger, int count);

        [LoggerMessage(309, LogLevel.Debug, "Key {KeyId} stays sealed: {Problem}", EventName = "KeySealed")]
        public static partial void KeySealed(ILogger logger, string keyId, string problem);

        [LoggerMessage(310, LogLevel.Debug, "Software key store still sealed: {Problem}", EventName = "BackendStillSealed")]
        public static partial void StillSealed(ILogger logger, string problem);

        [LoggerMessage(311, LogLevel.Debug, "Retrying the unseal of the last applied configuration", EventName = "UnsealRetry")]
        public static partial void RetryingUnseal(ILogger logger);

        [LoggerMessage(312, LogLevel.Error, "Unseal retry failed: {Problem}", EventName = "UnsealRetryFailed")]
        public static partial void UnsealRetryFailed(ILogger logger, string problem);
    }
}
