using System.Collections.Concurrent;
using System.Security.Cryptography;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;
using Xks.Contracts.ProxyConfig;
using Xks.Pkcs11;
using Xks.Proxy.Errors;
using ISession = Net.Pkcs11Interop.HighLevelAPI.ISession;

namespace Xks.Proxy.Crypto.Pkcs11;

/// <summary>Health of one token, as reported in ekmFleetDetails.</summary>
public enum TokenState
{
    Active,
    Degraded,
    Unavailable,
}

/// <summary>The token (not the request) failed: the request moves to the next token and the token is marked failed.</summary>
internal sealed class TokenFaultException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The token is fine but has no object with the label (yet): another token may have it.</summary>
internal sealed class KeyObjectMissingException(string message) : Exception(message);

/// <summary>
/// One token of the backend: its slot on a module, its session pool, the key handles found in it (by label), the
/// sub-keys derived in it (by label and salt), and AES-GCM through them. Every call runs inside the module's read
/// boundary (<see cref="Pkcs11ModuleContext"/>).
/// <para>
/// Sub-keys are session objects, visible to every session of this process on the token but destroyed when the session
/// that derived them closes. Pooled sessions are closed on errors, so sub-keys are derived in one dedicated session
/// instead, kept until the token reconnects (which forgets every sub-key handle with it); at most
/// <see cref="MaxSubKeys"/> live at once, the oldest destroyed first.
/// </para>
/// </summary>
internal sealed class Pkcs11Token : IDisposable
{
    private const int HealthProbeBytes = 32;
    private static readonly byte[] HealthAad = "xks-health"u8.ToArray();

    private readonly Pkcs11ModuleContext _module;
    private readonly Pkcs11Pin _pin;
    private readonly Pkcs11IvGeneration _ivGeneration;
    private readonly int _maxSessions;
    private readonly TimeSpan _wait;
    private readonly ConcurrentDictionary<string, IObjectHandle> _handles = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<SubKeyName, IObjectHandle> _subKeys = new();
    private readonly Queue<SubKeyName> _subKeyOrder = new();
    private readonly object _stateGate = new();
    private readonly object _deriveGate = new();
    private Pkcs11SessionPool? _pool;
    private Func<ISession>? _openSession;
    private ISession? _deriveSession;
    private int _faults;
    private bool _recovered;

    public Pkcs11Token(int index, TokenSelector selector, Pkcs11ModuleContext module, Pkcs11Pin pin, Pkcs11BackendOptions options, Pkcs11IvGeneration ivGeneration)
    {
        Index = index;
        Selector = selector;
        _module = module;
        _pin = pin;
        _ivGeneration = ivGeneration;
        _maxSessions = options.SessionPool.MaxSessions;
        _wait = TimeSpan.FromMilliseconds(options.SessionPool.WaitTimeoutMilliseconds);
        HealthKeyLabel = options.HealthKeyLabel;
        module.Tokens.Add(this);
    }

    /// <summary>Sub-key objects one token holds at most (derived for Encrypt, or for Decrypt of an older sub-key's ciphertexts).</summary>
    public const int MaxSubKeys = 1024;

    public int Index { get; }

    public TokenSelector Selector { get; }

    /// <summary>Sub-key objects derived in this token since the backend started (for tests).</summary>
    internal int SubKeysDerived { get; private set; }

    public string Id => Selector.Id;

    public string LibraryPath => _module.LibraryPath;

    public string HealthKeyLabel { get; }

    public string Manufacturer { get; private set; } = "";

    public string Model { get; private set; } = "unknown (token not reached yet)";

    public TokenState State { get; private set; } = TokenState.Unavailable;

    /// <summary>Finds the slot, logs in one session and makes sure the health key exists. Throws what went wrong.</summary>
    /// <exception cref="Pkcs11SetupException">No such token, a wrong PIN, or the module failing.</exception>
    public void Connect() => _module.Read(() =>
    {
        ConnectCore();
        return 0;
    });

    /// <summary>Connect, for <see cref="Pkcs11ModuleContext.Reinitialize"/> (which holds the write side). Null when it worked.</summary>
    internal string? TryConnectUnderWriteLock()
    {
        try
        {
            ConnectCore();
            return null;
        }
        catch (Exception ex) when (ex is Pkcs11SetupException or Pkcs11Exception or TokenFaultException or Pkcs11PoolTimeoutException or ObjectDisposedException)
        {
            return ex.Message;
        }
    }

    /// <summary>Closes the pooled sessions and forgets handles (before the module is finalized).</summary>
    internal void DropSessions()
    {
        // Sessions and the slot belong to the module instance about to be finalized: a token that then fails to
        // reconnect must read "not connected", never reach into the old instance.
        _pool?.Dispose();
        _pool = null;
        _handles.Clear();
        CloseDeriveSession();
    }

    public void MarkServing(bool recovered)
    {
        lock (_stateGate)
        {
            if (recovered)
            {
                _recovered = true;
            }

            State = _recovered || _faults > 0 ? TokenState.Degraded : TokenState.Active;
        }
    }

    /// <summary>Marks the token failed; returns true when it was serving until now (so the caller logs the problem once).</summary>
    public bool MarkFailed()
    {
        lock (_stateGate)
        {
            var was = State;
            State = TokenState.Unavailable;
            return was != TokenState.Unavailable;
        }
    }

    public void RecordFault()
    {
        lock (_stateGate)
        {
            _faults++;
            if (State == TokenState.Active)
            {
                State = TokenState.Degraded;
            }
        }
    }

    /// <summary>After a passed deep check: DEGRADED if faults happened since the last one (or it just recovered), else ACTIVE.</summary>
    public TokenState CompleteCheck()
    {
        lock (_stateGate)
        {
            State = _faults > 0 || _recovered ? TokenState.Degraded : TokenState.Active;
            _faults = 0;
            _recovered = false;
            return State;
        }
    }

    /// <summary>AES-GCM under the version object <paramref name="label"/>, or under its sub-key for <paramref name="salt"/> when not empty.</summary>
    public void Encrypt(string label, byte[] salt, byte[] plaintext, byte[] aad, byte[] iv, byte[] ciphertext, byte[] tag) =>
        Run(Pkcs11Operation.Encrypt, session => WithKey(session, label, salt, encrypt: true, key =>
        {
            Pkcs11Gcm.Encrypt(session, key, _ivGeneration, () => _module.LowLevel, plaintext, aad, iv, ciphertext, tag);
            return 0;
        }));

    /// <summary>False when the ciphertext, IV, tag or AAD does not authenticate.</summary>
    public bool TryDecrypt(string label, byte[] salt, byte[] iv, byte[] aad, byte[] ciphertextAndTag, Span<byte> plaintext)
    {
        byte[]? output = null;
        try
        {
            output = Run(Pkcs11Operation.Decrypt, session => WithKey(session, label, salt, encrypt: false, key => Pkcs11Gcm.Decrypt(session, key, iv, aad, ciphertextAndTag)));
            if (output.Length != plaintext.Length)
            {
                throw new XksException(XksErrorName.InternalException, "The key manager returned an unexpected result.",
                    $"token '{Id}': CKM_AES_GCM decrypt returned {output.Length} bytes for {plaintext.Length} bytes of ciphertext");
            }

            output.CopyTo(plaintext);
            return true;
        }
        catch (InvalidCiphertextSignal)
        {
            return false;
        }
        finally
        {
            if (output is not null)
            {
                CryptographicOperations.ZeroMemory(output);
            }
        }
    }

    /// <summary>The attributes of the object labelled <paramref name="label"/>, or null when the token has none.</summary>
    public HsmKeyVersion? Describe(string label) => Run(null, session =>
    {
        var handle = FindHandle(session, label);
        return handle is null ? null : Pkcs11KeyAdmin.Describe(session, handle);
    });

    /// <summary>Every key-version object in the token, by key id.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<HsmKeyVersion>> ListKeys() => Run(null, session => new Pkcs11KeyAdmin(session).ListKeys());

    /// <summary>Generates (or adopts) a key version in the token.</summary>
    public HsmKeyVersion EnsureVersion(string keyId, int version, bool canEncrypt, bool canDecrypt) =>
        Run(null, session => new Pkcs11KeyAdmin(session).EnsureVersion(keyId, version, canEncrypt, canDecrypt));

    /// <summary>
    /// The deep check: encrypt and decrypt 32 random bytes with the health key, through the pool like any request.
    /// Returns null when it passed, "busy" when no session was free (the token serves), else what failed.
    /// </summary>
    public string? CheckHealth()
    {
        var probe = RandomNumberGenerator.GetBytes(HealthProbeBytes);
        var iv = new byte[Pkcs11Gcm.IvSize];
        var ciphertext = new byte[HealthProbeBytes];
        var tag = new byte[Pkcs11Gcm.TagSize];
        var roundTrip = new byte[HealthProbeBytes];
        try
        {
            Encrypt(HealthKeyLabel, [], probe, HealthAad, iv, ciphertext, tag);
            if (!TryDecrypt(HealthKeyLabel, [], iv, HealthAad, [.. ciphertext, .. tag], roundTrip) || !probe.AsSpan().SequenceEqual(roundTrip))
            {
                return "the health key's encrypt/decrypt round trip did not verify";
            }

            return null;
        }
        catch (Pkcs11PoolTimeoutException)
        {
            return "busy";
        }
        catch (Exception ex) when (ex is TokenFaultException or KeyObjectMissingException or XksException or Pkcs11Exception or Pkcs11SetupException or ObjectDisposedException)
        {
            return ex.Message;
        }
    }

    public void Dispose()
    {
        _pool?.Dispose();
        CloseDeriveSession();
    }

    private void ConnectCore()
    {
        _pool?.Dispose();
        _pool = null;
        _handles.Clear();
        CloseDeriveSession();
        var slot = _module.Lease.FindToken(Selector);
        var info = slot.GetTokenInfo();
        Manufacturer = info.ManufacturerId.Trim();
        Model = $"{Manufacturer} {info.Model.Trim()} (firmware {info.FirmwareVersion}, hardware {info.HardwareVersion}, serial {info.SerialNumber.Trim()})";
        _openSession = () => Pkcs11ModuleLease.OpenUserSession(slot, Selector, _pin, _module.LibraryPath);
        _pool = new Pkcs11SessionPool(_openSession, _maxSessions, _wait);
        using var lease = _pool.Rent();
        EnsureHealthKey(lease.Session);
    }

    private void EnsureHealthKey(ISession session)
    {
        var admin = new Pkcs11KeyAdmin(session);
        if (admin.FindSecretKeys(HealthKeyLabel).Count == 0)
        {
            session.GenerateKey(session.Factories.MechanismFactory.Create(CKM.CKM_AES_KEY_GEN),
                AesKeyTemplate.ForLabel(session.Factories.ObjectAttributeFactory, HealthKeyLabel, canEncrypt: true, canDecrypt: true));
        }
    }

    /// <summary>
    /// Runs <paramref name="action"/> on a leased session inside the module's read boundary, and turns PKCS#11
    /// failures into the token's answer: the session evicted when the code calls for it, token faults as
    /// <see cref="TokenFaultException"/>, the rest mapped for <paramref name="operation"/> (null: not a crypto call,
    /// every failure is the token's).
    /// </summary>
    private T Run<T>(Pkcs11Operation? operation, Func<ISession, T> action) => _module.Read(() =>
    {
        var pool = _pool ?? throw new TokenFaultException($"token '{Id}' is not connected");
        Pkcs11SessionPool.Lease lease;
        try
        {
            lease = pool.Rent();
        }
        catch (Pkcs11SetupException ex)
        {
            throw new TokenFaultException(ex.Message, ex);
        }
        catch (Pkcs11Exception ex)
        {
            throw new TokenFaultException($"token '{Id}': opening a session failed: {ex.RV}", ex);
        }

        using (lease)
        {
            try
            {
                return action(lease.Session);
            }
            catch (Pkcs11Exception ex)
            {
                if (operation is not { } op || Pkcs11ErrorMap.ShouldEvictSession(op, ex.RV))
                {
                    lease.Evict();
                }

                if (operation is null || Pkcs11ErrorMap.IsTokenFault(ex.RV))
                {
                    throw new TokenFaultException($"token '{Id}': {ex.Method} returned {ex.RV}", ex);
                }

                var name = Pkcs11ErrorMap.Map(operation.Value, ex.RV);
                if (name == XksErrorName.InvalidCiphertextException)
                {
                    throw new InvalidCiphertextSignal();
                }

                if (name == XksErrorName.InternalException)
                {
                    RecordFault();
                }

                throw new XksException(name, name == XksErrorName.InvalidKeyUsageException ? "The key does not allow this operation." : "The key manager failed the operation.",
                    $"token '{Id}': {ex.Method} returned {ex.RV}", ex);
            }
            catch (TokenFaultException)
            {
                lease.Evict();
                throw;
            }
        }
    });

    /// <summary>
    /// The cached handle of <paramref name="label"/> (found by label on first use). A handle the token no longer
    /// knows (CKR_OBJECT_HANDLE_INVALID) is looked up again once; if the object is gone too, the token is failing.
    /// </summary>
    private T WithKey<T>(ISession session, string label, Func<IObjectHandle, T> action)
    {
        var handle = FindHandle(session, label) ?? throw MissingObject(session, label);
        try
        {
            return action(handle);
        }
        catch (Pkcs11Exception ex) when (ex.RV == CKR.CKR_OBJECT_HANDLE_INVALID || ex.RV == CKR.CKR_KEY_HANDLE_INVALID)
        {
            _handles.TryRemove(new KeyValuePair<string, IObjectHandle>(label, handle));
            ForgetSubKeys(label);
            IObjectHandle? again;
            try
            {
                again = FindHandle(session, label);
            }
            catch (Pkcs11Exception findFailed)
            {
                // The handle went stale and the token cannot even look the object up again (a token being removed
                // answers C_FindObjects with CKR_GENERAL_ERROR): the token is failing, not the request.
                throw new TokenFaultException($"token '{Id}': key object '{label}' went stale ({ex.RV}) and finding it again failed ({findFailed.RV})", findFailed);
            }

            return action(again ?? throw new TokenFaultException($"token '{Id}': key object '{label}' vanished ({ex.RV}, not found again by its label)", ex));
        }
    }

    /// <summary>
    /// <see cref="WithKey{T}(ISession, string, Func{IObjectHandle, T})"/>, or with the sub-key of the version for a
    /// non-empty salt. The version object stays the authority: its usage is read on every call (one
    /// C_GetAttributeValue), so a version switched off, destroyed or replaced stops its sub-keys at once, as it would
    /// stop itself.
    /// </summary>
    private T WithKey<T>(ISession session, string label, byte[] salt, bool encrypt, Func<IObjectHandle, T> action)
    {
        if (salt.Length == 0)
        {
            return WithKey(session, label, action);
        }

        return WithKey(session, label, versionKey =>
        {
            List<IObjectAttribute> usage;
            try
            {
                usage = session.GetAttributeValue(versionKey, [CKA.CKA_ENCRYPT, CKA.CKA_DECRYPT]);
            }
            catch (Pkcs11Exception ex) when (ex.RV is not (CKR.CKR_OBJECT_HANDLE_INVALID or CKR.CKR_KEY_HANDLE_INVALID) && !Pkcs11ErrorMap.IsTokenFault(ex.RV))
            {
                // Reading two booleans of a key that exists cannot fail on a healthy token: fail over, never a 500.
                throw new TokenFaultException($"token '{Id}': reading the usage of '{label}' returned {ex.RV}", ex);
            }

            var (canEncrypt, canDecrypt) = (usage[0].GetValueAsBool(), usage[1].GetValueAsBool());
            if (!(encrypt ? canEncrypt : canDecrypt))
            {
                throw new Pkcs11Exception(encrypt ? "C_EncryptInit" : "C_DecryptInit", CKR.CKR_KEY_FUNCTION_NOT_PERMITTED);
            }

            var name = new SubKeyName(label, versionKey.ObjectId, SubKeyName.ToKey(salt));
            var handle = SubKeyHandle(name, versionKey, salt, canEncrypt, canDecrypt);
            try
            {
                return action(handle);
            }
            catch (Pkcs11Exception ex) when (ex.RV == CKR.CKR_OBJECT_HANDLE_INVALID || ex.RV == CKR.CKR_KEY_HANDLE_INVALID)
            {
                // Destroyed to make room (or gone with the derive session): derive it again, once.
                _subKeys.TryRemove(new KeyValuePair<SubKeyName, IObjectHandle>(name, handle));
                return action(SubKeyHandle(name, versionKey, salt, canEncrypt, canDecrypt));
            }
        });
    }

    /// <summary>The sub-key object for the salt, derived in the dedicated session on first use with the version's usage.</summary>
    private IObjectHandle SubKeyHandle(SubKeyName name, IObjectHandle versionKey, byte[] salt, bool canEncrypt, bool canDecrypt)
    {
        if (_subKeys.TryGetValue(name, out var cached))
        {
            return cached;
        }

        lock (_deriveGate)
        {
            if (_subKeys.TryGetValue(name, out cached))
            {
                return cached;
            }

            var deriveSession = _deriveSession ??= (_openSession ?? throw new TokenFaultException($"token '{Id}' is not connected"))();
            IObjectHandle derived;
            try
            {
                derived = Pkcs11SubKeys.Derive(deriveSession, versionKey, salt, canEncrypt, canDecrypt);
            }
            catch (Pkcs11Exception ex) when (Pkcs11ErrorMap.ShouldEvictSession(Pkcs11Operation.Encrypt, ex.RV)
                && ex.RV is not (CKR.CKR_OBJECT_HANDLE_INVALID or CKR.CKR_KEY_HANDLE_INVALID))
            {
                CloseDeriveSessionLocked();
                throw;
            }

            while (_subKeyOrder.Count >= MaxSubKeys && _subKeyOrder.TryDequeue(out var oldest))
            {
                if (_subKeys.TryRemove(oldest, out var evicted))
                {
                    DestroyQuietly(deriveSession, evicted);
                }
            }

            _subKeys[name] = derived;
            _subKeyOrder.Enqueue(name);
            SubKeysDerived++;
            return derived;
        }
    }

    /// <summary>Destroys the sub-keys of a version object whose handle went stale (the object may have been replaced).</summary>
    private void ForgetSubKeys(string label)
    {
        lock (_deriveGate)
        {
            foreach (var entry in _subKeys)
            {
                if (entry.Key.Label == label && _subKeys.TryRemove(entry.Key, out var handle) && _deriveSession is { } session)
                {
                    DestroyQuietly(session, handle);
                }
            }
        }
    }

    private void CloseDeriveSession()
    {
        lock (_deriveGate)
        {
            CloseDeriveSessionLocked();
        }
    }

    /// <summary>Closing the session destroys every sub-key object derived in it, so their handles go too.</summary>
    private void CloseDeriveSessionLocked()
    {
        _subKeys.Clear();
        _subKeyOrder.Clear();
        var session = _deriveSession;
        _deriveSession = null;
        try
        {
            session?.Dispose();
        }
        catch (Exception ex) when (ex is Pkcs11Exception or ObjectDisposedException)
        {
            // a session of a failed device or a finalized module: nothing left to close
        }
    }

    private static void DestroyQuietly(ISession session, IObjectHandle handle)
    {
        try
        {
            session.DestroyObject(handle);
        }
        catch (Pkcs11Exception)
        {
            // already gone; the object dies with the session anyway
        }
    }

    private IObjectHandle? FindHandle(ISession session, string label)
    {
        if (_handles.TryGetValue(label, out var cached))
        {
            return cached;
        }

        var found = new Pkcs11KeyAdmin(session).FindSecretKeys(label);
        if (found.Count == 0)
        {
            return null;
        }

        return _handles.GetOrAdd(label, found[0]);
    }

    /// <summary>No object with the label: the key is missing if the health key is there, otherwise the token lost its objects (removed).</summary>
    private Exception MissingObject(ISession session, string label)
    {
        if (label != HealthKeyLabel && new Pkcs11KeyAdmin(session).FindSecretKeys(HealthKeyLabel).Count > 0)
        {
            return new KeyObjectMissingException($"token '{Id}' has no key object '{label}'");
        }

        return new TokenFaultException($"token '{Id}' has no object '{label}' and no health key '{HealthKeyLabel}' (token removed or replaced?)");
    }

    /// <summary>A decrypt whose data did not authenticate (not an error of the token).</summary>
    private sealed class InvalidCiphertextSignal : Exception;

    /// <summary>A sub-key object's name: the version object (label and handle, so a replaced object derives anew) and the salt (15 bytes, as a number).</summary>
    private readonly record struct SubKeyName(string Label, ulong VersionHandle, UInt128 Salt)
    {
        public static UInt128 ToKey(ReadOnlySpan<byte> salt)
        {
            Span<byte> block = stackalloc byte[16];
            block[0] = 0;
            salt.CopyTo(block[1..]);
            return System.Buffers.Binary.BinaryPrimitives.ReadUInt128BigEndian(block);
        }
    }
}
