using System.Collections.Concurrent;
using System.Security.Cryptography;
using Net.Pkcs11Interop.Common;
using Xks.Contracts.ProxyConfig;
using Xks.Pkcs11;
using Xks.Proxy.Contracts;
using Xks.Proxy.Errors;
using Xks.Proxy.Options;

namespace Xks.Proxy.Crypto.Pkcs11;

/// <summary>
/// Keys inside PKCS#11 tokens (HSMs): one AES-256 secret-key object per key version, labelled
/// <c>&lt;keyId&gt;/v&lt;n&gt;</c> (<see cref="KeyLabels"/>); AES-GCM runs in the token. Several tokens holding the
/// same keys (an HSM cluster) are used in order of preference: a request fails over to the next token when one
/// fails, a failed token is re-initialised and re-checked every <c>recoveryIntervalSeconds</c>, and health reports
/// each token ACTIVE, DEGRADED or UNAVAILABLE.
/// <para>
/// Which versions a key has comes from the configuration (<c>keys[].versions</c>, numbers only) or, when that list is
/// empty, from the objects found in the token; both are rescanned on every configuration reload and every recovery
/// interval (so <c>keys disable</c>, which clears CKA_ENCRYPT/CKA_DECRYPT, is seen within one interval).
/// </para>
/// <para>The PIN is read once at start and never logged or put in an exception.</para>
/// </summary>
public sealed partial class Pkcs11KeyBackend : IKeyBackend
{
    private readonly Pkcs11BackendOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly List<Pkcs11ModuleContext> _modules = [];
    private readonly List<Pkcs11Token> _tokens = [];
    private readonly object _applyLock = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _recovery;
    private Dictionary<string, KeyEntry> _keys = new(StringComparer.Ordinal);
    private Dictionary<string, KeySpec> _specs = new(StringComparer.Ordinal);

    // Per version object, the sub-key Encrypt uses; kept across scans (a scan rebuilds the key table every interval).
    private readonly ConcurrentDictionary<string, SubKeyRotation<Pkcs11SubKey>> _rotations = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _directUseWarned = new(StringComparer.Ordinal);
    private readonly SubKeyTally _subKeys = new();

    /// <exception cref="InvalidOperationException">
    /// The library is missing or cannot be loaded, the PIN is wrong or unreadable, or no token can serve (the message
    /// names the library and token, never the PIN).
    /// </exception>
    public Pkcs11KeyBackend(Pkcs11BackendOptions options, ILogger<Pkcs11KeyBackend> logger, TimeProvider time)
    {
        _options = options;
        _logger = logger;
        _time = time;
        var ivGeneration = Enum.Parse<Pkcs11IvGeneration>(options.IvGeneration);
        try
        {
            var pin = ReadPin(options);
            for (var i = 0; i < options.Tokens.Count; i++)
            {
                var t = options.Tokens[i];
                var library = string.IsNullOrWhiteSpace(t.Library) ? options.Library : t.Library;
                var module = _modules.FirstOrDefault(m => m.LibraryPath == library);
                if (module is null)
                {
                    module = new Pkcs11ModuleContext(library);
                    _modules.Add(module);
                }

                var selector = new TokenSelector(NonEmpty(t.Label), t.Slot, NonEmpty(t.Serial));
                _tokens.Add(new Pkcs11Token(i, selector, module, pin, options, ivGeneration));
            }

            ConnectAtStart();
        }
        catch (Pkcs11SetupException ex)
        {
            DisposeModules();
            throw new InvalidOperationException(ex.Message, ex);
        }
        catch
        {
            DisposeModules();
            throw;
        }

        _recovery = Task.Run(() => RecoveryLoopAsync(_stopping.Token));
    }

    /// <summary>The first token's manufacturer (ekmVendor).</summary>
    public string Vendor => _tokens.Select(t => t.Manufacturer).FirstOrDefault(m => m.Length > 0) ?? "PKCS#11";

    /// <summary>Encryptions per sub-key before a new one is derived (<see cref="SubKeyDerivation.DefaultBudget"/>; small in tests).</summary>
    internal long SubKeyBudget { get; set; } = SubKeyDerivation.DefaultBudget;

    /// <summary>Version objects without CKA_DERIVE, used directly (format 1, no bound on random-IV use).</summary>
    internal int DirectUseVersions => _directUseWarned.Count;

    public SubKeyTally SubKeys => _subKeys;

    /// <summary>The tokens, in order of preference (for tests).</summary>
    internal IReadOnlyList<Pkcs11Token> Tokens => _tokens;

    /// <summary>How often the <paramref name="index"/>th module was re-initialised (for tests).</summary>
    internal int ModuleGeneration(int index) => _modules[index].Lease.Generation;

    public void Apply(ProxyConfiguration configuration)
    {
        lock (_applyLock)
        {
            _specs = configuration.Options.KeyStores
                .Where(s => s is not null)
                .SelectMany(s => s.Keys)
                .Where(k => k is not null)
                .ToDictionary(
                    k => k.Id,
                    k => new KeySpec(k.Id, [.. (k.Versions ?? []).Select(v => v.Version).Order()], k.Usage.Contains("ENCRYPT"), k.Usage.Contains("DECRYPT")),
                    StringComparer.Ordinal);
            if (_options.CreateMissingKeys)
            {
                CreateMissingKeys();
            }

            Scan();
        }
    }

    public KeyLookupResult Find(string keyId)
    {
        if (!Volatile.Read(ref _keys).TryGetValue(keyId, out var entry))
        {
            return KeyLookupResult.Missing($"key '{keyId}' was not found in any PKCS#11 token (not scanned yet)");
        }

        return entry switch
        {
            { Key: { } key } => KeyLookupResult.Found(key),
            { IsMissing: true } => KeyLookupResult.Missing(entry.Problem!),
            _ => KeyLookupResult.Unusable(entry.Problem!),
        };
    }

    public IReadOnlyList<EkmFleetMember> CheckHealth()
    {
        var members = new List<EkmFleetMember>(_tokens.Count);
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var token in _tokens)
        {
            var state = token.State;
            if (state != TokenState.Unavailable)
            {
                var problem = token.CheckHealth();
                if (problem is null)
                {
                    state = token.CompleteCheck();
                }
                else if (problem == "busy")
                {
                    token.RecordFault();
                    state = TokenState.Degraded;
                }
                else
                {
                    if (token.MarkFailed())
                    {
                        Log.TokenUnavailable(_logger, token.Id, token.LibraryPath, problem);
                    }

                    state = TokenState.Unavailable;
                }
            }

            var id = ids.Add(token.Id) ? token.Id : $"{token.Id}-{token.Index}";
            ids.Add(id);
            members.Add(new EkmFleetMember { Id = id, Model = token.Model, HealthStatus = state.ToString().ToUpperInvariant() });
        }

        return members;
    }

    public int Rotate(string keyId)
    {
        lock (_applyLock)
        {
            var (token, keys) = OnFirstServingToken(t => t.ListKeys());
            if (!keys.TryGetValue(keyId, out var versions) || versions.Count == 0)
            {
                throw new InvalidOperationException($"key '{keyId}' has no version object in PKCS#11 token '{token.Id}'");
            }

            var current = versions[^1];
            var created = token.EnsureVersion(keyId, current.Version + 1, current.CanEncrypt, current.CanDecrypt);
            Log.KeyCreated(_logger, keyId, created.Version, token.Id);
            Scan();
            return created.Version;
        }
    }

    public void Dispose()
    {
        _stopping.Cancel();
        try
        {
            _recovery.Wait(TimeSpan.FromSeconds(10));
        }
        catch (AggregateException)
        {
            // the loop ends by cancellation
        }

        DisposeModules();
        _stopping.Dispose();
    }

    internal void Encrypt(string label, byte[] salt, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> aad, Span<byte> iv, Span<byte> ciphertext, Span<byte> tag)
    {
        var input = plaintext.ToArray();
        var aadBytes = aad.ToArray();
        var ivOut = new byte[Pkcs11Gcm.IvSize];
        var ciphertextOut = new byte[plaintext.Length];
        var tagOut = new byte[Pkcs11Gcm.TagSize];
        try
        {
            OnTokens(label, t =>
            {
                t.Encrypt(label, salt, input, aadBytes, ivOut, ciphertextOut, tagOut);
                return 0;
            });
            ivOut.CopyTo(iv);
            ciphertextOut.CopyTo(ciphertext);
            tagOut.CopyTo(tag);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(input);
        }
    }

    internal bool TryDecrypt(string label, byte[] salt, ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> iv, ReadOnlySpan<byte> tag, ReadOnlySpan<byte> aad, Span<byte> plaintext)
    {
        var ivBytes = iv.ToArray();
        var aadBytes = aad.ToArray();
        var data = new byte[ciphertext.Length + tag.Length];
        ciphertext.CopyTo(data);
        tag.CopyTo(data.AsSpan(ciphertext.Length));
        var output = new byte[plaintext.Length];
        try
        {
            if (!OnTokens(label, t => t.TryDecrypt(label, salt, ivBytes, aadBytes, data, output)))
            {
                return false;
            }

            output.CopyTo(plaintext);
            return true;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(output);
        }
    }

    /// <summary>
    /// Runs a crypto call on the serving tokens in order of preference, failing over on token faults (the token is
    /// marked failed) and busy pools; tokens marked failed are tried last, so a single token is never locked out by
    /// its status alone. Errors about the request itself (key usage, bad ciphertext, mapped internal errors) are
    /// answered at once.
    /// </summary>
    private T OnTokens<T>(string label, Func<Pkcs11Token, T> action)
    {
        var busy = false;
        var missing = false;
        string? lastProblem = null;
        // Two passes over the tokens in index order, without sorting (this runs on every request): first the ones
        // serving when reached, then those not tried yet (marked failed before this request began).
        var tried = 0UL;
        for (var i = 0; i < _tokens.Count * 2; i++)
        {
            var token = _tokens[i % _tokens.Count];
            var bit = 1UL << token.Index;
            if ((tried & bit) != 0 || (i < _tokens.Count && token.State == TokenState.Unavailable))
            {
                continue;
            }

            tried |= bit;
            try
            {
                return action(token);
            }
            catch (TokenFaultException ex)
            {
                lastProblem = ex.Message;
                token.RecordFault();
                if (token.MarkFailed())
                {
                    Log.TokenUnavailable(_logger, token.Id, token.LibraryPath, ex.Message);
                }
            }
            catch (Pkcs11PoolTimeoutException ex)
            {
                busy = true;
                lastProblem = $"token '{token.Id}': {ex.Message}";
            }
            catch (KeyObjectMissingException ex)
            {
                missing = true;
                lastProblem = ex.Message;
            }
        }

        if (busy)
        {
            throw new XksException(XksErrorName.DependencyTimeoutException, "The key manager is busy; retry.", lastProblem);
        }

        if (missing)
        {
            throw new XksException(XksErrorName.KeyNotFoundException, "The key has no key material in the key manager.", $"'{label}': {lastProblem}");
        }

        throw new XksException(XksErrorName.InternalException, "No key manager is available.",
            $"no PKCS#11 token could serve '{label}': {lastProblem ?? "no tokens"}");
    }

    internal static Pkcs11Pin ReadPin(Pkcs11BackendOptions options) =>
        !string.IsNullOrEmpty(options.PinFile) ? Pkcs11Pin.FromFile(options.PinFile)
        : !string.IsNullOrEmpty(options.PinEnvironmentVariable) ? Pkcs11Pin.FromEnvironment(options.PinEnvironmentVariable)
        : Pkcs11Pin.FromLiteral(options.Pin ?? "");

    /// <summary>
    /// Connects every token. A wrong or locked PIN fails the start (it would fail on every token of that HSM and only
    /// an operator can fix it); a token that cannot be reached is marked UNAVAILABLE for the recovery loop, unless no
    /// token at all can serve.
    /// </summary>
    private void ConnectAtStart()
    {
        var problems = new List<string>();
        foreach (var token in _tokens)
        {
            try
            {
                token.Connect();
                token.MarkServing(recovered: false);
                Log.TokenConnected(_logger, token.Id, token.LibraryPath, token.Model);
            }
            catch (Pkcs11SetupException ex) when (ex.InnerException is Pkcs11Exception { RV: CKR.CKR_PIN_INCORRECT or CKR.CKR_PIN_INVALID or CKR.CKR_PIN_LEN_RANGE or CKR.CKR_PIN_LOCKED or CKR.CKR_PIN_EXPIRED })
            {
                throw;
            }
            catch (Exception ex) when (ex is Pkcs11SetupException or Pkcs11Exception or TokenFaultException or Pkcs11PoolTimeoutException)
            {
                problems.Add(ex.Message);
                token.MarkFailed();
                Log.TokenUnavailable(_logger, token.Id, token.LibraryPath, ex.Message);
            }
        }

        if (problems.Count == _tokens.Count)
        {
            throw new Pkcs11SetupException($"no PKCS#11 token can serve: {string.Join("; ", problems)}");
        }
    }

    private (Pkcs11Token Token, T Result) OnFirstServingToken<T>(Func<Pkcs11Token, T> action)
    {
        string? lastProblem = null;
        foreach (var token in _tokens.Where(t => t.State != TokenState.Unavailable))
        {
            try
            {
                return (token, action(token));
            }
            catch (Exception ex) when (ex is TokenFaultException or Pkcs11PoolTimeoutException)
            {
                lastProblem = ex.Message;
                if (ex is TokenFaultException && token.MarkFailed())
                {
                    Log.TokenUnavailable(_logger, token.Id, token.LibraryPath, ex.Message);
                }
            }
        }

        throw new InvalidOperationException($"no PKCS#11 token is serving{(lastProblem is null ? "" : ": " + lastProblem)}");
    }

    /// <summary>createMissingKeys: version 1 of each configured key without listed versions that no token object has.</summary>
    private void CreateMissingKeys()
    {
        try
        {
            var (token, existing) = OnFirstServingToken(t => t.ListKeys());
            foreach (var spec in _specs.Values.Where(s => s.Versions.Length == 0 && !existing.ContainsKey(s.Id)))
            {
                // A key configured with no usage still gets a usable object (an object allowing neither would read as
                // disabled); the configuration's usage is what the proxy enforces.
                var any = spec.CanEncrypt || spec.CanDecrypt;
                token.EnsureVersion(spec.Id, 1, spec.CanEncrypt || !any, spec.CanDecrypt || !any);
                Log.KeyCreated(_logger, spec.Id, 1, token.Id);
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or Pkcs11KeyConflictException)
        {
            Log.ScanFailed(_logger, ex.Message);
        }
    }

    /// <summary>
    /// Rebuilds the key table from the first serving token's objects. With no token serving the previous table
    /// stays (requests then fail over or fail on their own).
    /// </summary>
    private void Scan()
    {
        IReadOnlyDictionary<string, IReadOnlyList<HsmKeyVersion>> objects;
        string tokenId;
        try
        {
            (var token, objects) = OnFirstServingToken(t => t.ListKeys());
            tokenId = token.Id;
        }
        catch (InvalidOperationException ex)
        {
            Log.ScanFailed(_logger, ex.Message);
            return;
        }

        var previous = Volatile.Read(ref _keys);
        var next = new Dictionary<string, KeyEntry>(StringComparer.Ordinal);
        foreach (var spec in _specs.Values)
        {
            var found = objects.TryGetValue(spec.Id, out var list) ? list : [];
            var entry = BuildEntry(spec, found, tokenId);
            next[spec.Id] = entry;
            if (entry.Problem is { } problem && previous.GetValueOrDefault(spec.Id)?.Problem != problem)
            {
                if (entry.IsMissing)
                {
                    Log.KeyMissing(_logger, spec.Id, problem);
                }
                else
                {
                    Log.KeyUnusable(_logger, spec.Id, problem);
                }
            }
        }

        Volatile.Write(ref _keys, next);
    }

    private KeyEntry BuildEntry(KeySpec spec, IReadOnlyList<HsmKeyVersion> found, string tokenId)
    {
        var byVersion = found.ToDictionary(v => v.Version);
        var wanted = spec.Versions.Length > 0 ? spec.Versions : [.. byVersion.Keys.Order()];
        if (wanted.Length == 0)
        {
            return new KeyEntry(null, $"PKCS#11 token '{tokenId}' has no object labelled '{KeyLabels.ForVersion(spec.Id, 1)}' (or any '{spec.Id}/v<n>')", IsMissing: true);
        }

        var versions = new List<HsmKeyVersion>(wanted.Length);
        foreach (var number in wanted)
        {
            if (!byVersion.TryGetValue(number, out var version))
            {
                return new KeyEntry(null, $"PKCS#11 token '{tokenId}' has no object labelled '{KeyLabels.ForVersion(spec.Id, number)}'", IsMissing: true);
            }

            if (version.Problem is { } problem)
            {
                return new KeyEntry(null, $"PKCS#11 token '{tokenId}': {problem}", IsMissing: false);
            }

            versions.Add(version);
        }

        foreach (var version in versions.Where(v => !v.CanDerive))
        {
            if (_directUseWarned.TryAdd(version.Label, true))
            {
                _subKeys.AddDirectUse();
                Log.DirectUse(_logger, spec.Id, version.Label, tokenId);
            }
        }

        return new KeyEntry(new Pkcs11BackendKey(this, spec.Id, versions), null, IsMissing: false);
    }

    private async Task RecoveryLoopAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(_options.RecoveryIntervalSeconds), _time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                try
                {
                    Recover();
                    lock (_applyLock)
                    {
                        Scan();
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    Log.RecoveryFailed(_logger, ex.Message);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // stopping
        }
    }

    /// <summary>
    /// Brings failed tokens back: first a plain deep check (the fault may have been passing), then a re-initialisation
    /// of the module (the only way to see a token that was removed and returned), re-connecting every token of it.
    /// </summary>
    internal void Recover()
    {
        foreach (var module in _modules)
        {
            try
            {
                RecoverModule(module);
            }
            catch (Exception ex) when (ex is Pkcs11Exception or Pkcs11SetupException or ObjectDisposedException or InvalidOperationException)
            {
                Log.RecoveryFailed(_logger, $"module '{module.LibraryPath}': {ex.Message}");
            }
        }
    }

    private void RecoverModule(Pkcs11ModuleContext module)
    {
        var failed = module.Tokens.Where(t => t.State == TokenState.Unavailable).ToList();
        if (failed.Count == 0)
        {
            return;
        }

        var stillFailed = new List<Pkcs11Token>();
        foreach (var token in failed)
        {
            if (token.CheckHealth() is null)
            {
                token.MarkServing(recovered: true);
                Log.TokenRecovered(_logger, token.Id, token.LibraryPath);
            }
            else
            {
                stillFailed.Add(token);
            }
        }

        if (stillFailed.Count == 0)
        {
            module.DeferredReinitializations = 0;
            return;
        }

        // Re-initialising closes every session of the module, so tokens of it that still serve (several HSMs behind
        // one client library, as in a Luna or CloudHSM cluster) pause for the moment it takes. While any does, do it
        // only about once a minute instead of on every pass.
        if (module.Tokens.Any(t => t.State != TokenState.Unavailable)
            && ++module.DeferredReinitializations < SharedModuleReinitializeEvery(_options.RecoveryIntervalSeconds))
        {
            Log.ReinitializationDeferred(_logger, module.LibraryPath, stillFailed.Count);
            return;
        }

        module.DeferredReinitializations = 0;
        var reconnectFailures = module.Reinitialize();
        foreach (var token in module.Tokens)
        {
            var wasFailed = stillFailed.Contains(token);
            var problem = reconnectFailures.GetValueOrDefault(token) ?? token.CheckHealth();
            if (problem is null or "busy")
            {
                if (wasFailed)
                {
                    token.MarkServing(recovered: true);
                    Log.TokenRecovered(_logger, token.Id, token.LibraryPath);
                }
            }
            else if (token.MarkFailed())
            {
                Log.TokenUnavailable(_logger, token.Id, token.LibraryPath, problem);
            }
            else
            {
                Log.StillUnavailable(_logger, token.Id, problem);
            }
        }
    }

    /// <summary>Recovery passes between re-initialisations of a module whose other tokens still serve (about a minute).</summary>
    internal static int SharedModuleReinitializeEvery(int recoveryIntervalSeconds) =>
        Math.Max(1, (int)Math.Ceiling(60.0 / Math.Max(1, recoveryIntervalSeconds)));

    /// <summary>The rotation of the sub-keys Encrypt uses under the version object <paramref name="label"/>.</summary>
    private SubKeyRotation<Pkcs11SubKey> RotationFor(string label) =>
        _rotations.GetOrAdd(label, static (l, self) => new SubKeyRotation<Pkcs11SubKey>(
            () => new Pkcs11SubKey(self, l, RandomNumberGenerator.GetBytes(SubKeyDerivation.SaltSize)), self.SubKeyBudget, self._subKeys), this);

    private void DisposeModules()
    {
        foreach (var module in _modules)
        {
            module.Dispose();
        }

        _modules.Clear();
    }

    private static string? NonEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private sealed record KeySpec(string Id, int[] Versions, bool CanEncrypt, bool CanDecrypt);

    private sealed record KeyEntry(Pkcs11BackendKey? Key, string? Problem, bool IsMissing);

    /// <summary>One key as last scanned: its version objects (all AES-256) and what their attributes allow.</summary>
    private sealed class Pkcs11BackendKey : IBackendKey
    {
        private readonly Pkcs11KeyBackend _backend;
        private readonly Dictionary<int, VersionEntry> _byVersion;

        public Pkcs11BackendKey(Pkcs11KeyBackend backend, string id, List<HsmKeyVersion> versions)
        {
            Id = id;
            _backend = backend;
            _byVersion = versions.ToDictionary(
                v => v.Version,
                v => new VersionEntry(v.Label, new Pkcs11SubKey(backend, v.Label, []), v.CanDerive ? backend.RotationFor(v.Label) : null));
            var current = versions.MaxBy(v => v.Version)!;
            CurrentVersion = current.Version;
            Enabled = versions.Any(v => !v.IsDisabled);
            Usage = [.. current.CanEncrypt ? ["ENCRYPT"] : Array.Empty<string>(), .. current.CanDecrypt ? ["DECRYPT"] : Array.Empty<string>()];
        }

        public string Id { get; }

        public int CurrentVersion { get; }

        public bool Enabled { get; }

        public IReadOnlyList<string>? Usage { get; }

        public bool HasVersion(int version) => _byVersion.ContainsKey(version);

        /// <summary>A sub-key when the version object may derive (CKA_DERIVE), else the object itself (format 1).</summary>
        public ISubKey ReserveEncryption(int version)
        {
            var entry = _byVersion[version];
            return entry.Rotation is { } rotation ? rotation.Take() : entry.Direct;
        }

        public bool TryDecrypt(int version, ReadOnlySpan<byte> salt, ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> iv, ReadOnlySpan<byte> tag, ReadOnlySpan<byte> aad, Span<byte> plaintext)
        {
            if (!_byVersion.TryGetValue(version, out var entry))
            {
                return false;
            }

            return salt.IsEmpty
                ? entry.Direct.TryDecrypt(ciphertext, iv, tag, aad, plaintext)
                : _backend.TryDecrypt(entry.Label, salt.ToArray(), ciphertext, iv, tag, aad, plaintext);
        }

        private sealed record VersionEntry(string Label, Pkcs11SubKey Direct, SubKeyRotation<Pkcs11SubKey>? Rotation);
    }

    /// <summary>
    /// AES-GCM in the tokens under the sub-key of version object <paramref name="label"/> for <paramref name="salt"/>
    /// (derived in each token on first use, so failover to another token of the cluster finds the same key), or
    /// under the version object itself when the salt is empty (ciphertextMetadata format 1).
    /// </summary>
    private sealed class Pkcs11SubKey(Pkcs11KeyBackend backend, string label, byte[] salt) : ISubKey
    {
        public ReadOnlySpan<byte> Salt => salt;

        public void Encrypt(ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> aad, Span<byte> iv, Span<byte> ciphertext, Span<byte> tag) =>
            backend.Encrypt(label, salt, plaintext, aad, iv, ciphertext, tag);

        public bool TryDecrypt(ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> iv, ReadOnlySpan<byte> tag, ReadOnlySpan<byte> aad, Span<byte> plaintext) =>
            backend.TryDecrypt(label, salt, ciphertext, iv, tag, aad, plaintext);
    }

    private static partial class Log
    {
        [LoggerMessage(850, LogLevel.Information, "PKCS#11 token {TokenId} ({Library}) connected: {Model}", EventName = "Pkcs11TokenConnected")]
        public static partial void TokenConnected(ILogger logger, string tokenId, string library, string model);

        [LoggerMessage(851, LogLevel.Error, "PKCS#11 token {TokenId} ({Library}) is unavailable, requests go to the other tokens: {Problem}", EventName = "Pkcs11TokenUnavailable")]
        public static partial void TokenUnavailable(ILogger logger, string tokenId, string library, string problem);

        [LoggerMessage(852, LogLevel.Information, "PKCS#11 token {TokenId} ({Library}) recovered and serves again", EventName = "Pkcs11TokenRecovered")]
        public static partial void TokenRecovered(ILogger logger, string tokenId, string library);

        [LoggerMessage(853, LogLevel.Error, "Key {KeyId} is unusable and will be refused: {Problem}", EventName = "Pkcs11KeyUnusable")]
        public static partial void KeyUnusable(ILogger logger, string keyId, string problem);

        [LoggerMessage(854, LogLevel.Information, "Generated version {Version} of key {KeyId} in PKCS#11 token {TokenId}", EventName = "Pkcs11KeyCreated")]
        public static partial void KeyCreated(ILogger logger, string keyId, int version, string tokenId);

        [LoggerMessage(855, LogLevel.Warning, "Key {KeyId} has no key material: {Problem}", EventName = "Pkcs11KeyMissing")]
        public static partial void KeyMissing(ILogger logger, string keyId, string problem);

        [LoggerMessage(856, LogLevel.Debug, "PKCS#11 token {TokenId} is still unavailable: {Problem}", EventName = "Pkcs11TokenStillUnavailable")]
        public static partial void StillUnavailable(ILogger logger, string tokenId, string problem);

        [LoggerMessage(857, LogLevel.Warning, "PKCS#11 key scan skipped: {Problem}", EventName = "Pkcs11ScanFailed")]
        public static partial void ScanFailed(ILogger logger, string problem);

        [LoggerMessage(858, LogLevel.Error, "PKCS#11 recovery pass failed: {Problem}", EventName = "Pkcs11RecoveryFailed")]
        public static partial void RecoveryFailed(ILogger logger, string problem);

        [LoggerMessage(860, LogLevel.Warning, "Key {KeyId}: version object {Label} in PKCS#11 token {TokenId} lacks CKA_DERIVE, so it is used directly (ciphertextMetadata format 1) with no bound on random-IV use; generate a new version (keys rotate) to get per-process sub-keys", EventName = "Pkcs11KeyUsedDirectly")]
        public static partial void DirectUse(ILogger logger, string keyId, string label, string tokenId);

        [LoggerMessage(859, LogLevel.Debug, "PKCS#11 module {LibraryPath}: re-initialisation for {Count} failed token(s) deferred while its other tokens serve", EventName = "Pkcs11ReinitializationDeferred")]
        public static partial void ReinitializationDeferred(ILogger logger, string libraryPath, int count);
    }
}
