using Net.Pkcs11Interop.Common;
using ISession = Net.Pkcs11Interop.HighLevelAPI.ISession;
using Xks.Operator.Options;
using Xks.Operator.Resources;
using Xks.Pkcs11;

namespace Xks.Operator.Hsm;

/// <summary>
/// <see cref="IHsmKeys"/> through PKCS#11 (Xks.Pkcs11). One shared module per library path for the whole process
/// (<see cref="Pkcs11Modules"/>), one logged-in session per token, reused across reconciles and used by one caller at
/// a time. A session that fails is closed and the module re-initialised (what a removed and returned token needs);
/// the call is then tried once more on a fresh session before the next token is tried. Messages name libraries and
/// tokens, never the PIN.
/// </summary>
internal sealed partial class Pkcs11HsmKeys(ILogger<Pkcs11HsmKeys> logger, VaultAllowList? allowList = null) : IHsmKeys, IDisposable
{
    private readonly VaultAllowList _allowList = allowList ?? new VaultAllowList();

    private readonly object _gate = new();
    private readonly Dictionary<string, TokenSession> _sessions = new(StringComparer.Ordinal);
    private bool _disposed;

    public HsmKeyVersionInfo EnsureVersion(HsmTarget target, string keyId, int version, bool canEncrypt, bool canDecrypt)
    {
        ArgumentException.ThrowIfNullOrEmpty(keyId);
        ArgumentOutOfRangeException.ThrowIfLessThan(version, 1);
        return OnFirstToken(target, $"generate version {version} of {keyId}", (admin, token) =>
        {
            var existed = admin.FindSecretKeys(KeyLabels.ForVersion(keyId, version)).Count > 0;
            HsmKeyVersion made;
            try
            {
                made = admin.EnsureVersion(keyId, version, canEncrypt, canDecrypt);
            }
            catch (Pkcs11KeyConflictException ex)
            {
                // Somebody else's object under our label (a shared token): a Conflict for the CloudKey, never a key.
                throw new Controllers.ChildConflictException($"{token}: {ex.Message}");
            }

            if (!existed)
            {
                Log.VersionGenerated(logger, made.Label, token);
            }
            else
            {
                Log.VersionAdopted(logger, made.Label, token);
            }

            return Info(made);
        });
    }

    public IReadOnlyList<HsmKeyVersionInfo> ListVersions(HsmTarget target, string keyId)
    {
        ArgumentException.ThrowIfNullOrEmpty(keyId);
        return OnFirstToken(target, $"list the versions of {keyId}", (admin, _) => (IReadOnlyList<HsmKeyVersionInfo>)[.. admin.ListVersions(keyId).Select(Info)]);
    }

    public int DestroyKey(HsmTarget target, string keyId)
    {
        ArgumentException.ThrowIfNullOrEmpty(keyId);
        return OnFirstToken(target, $"destroy {keyId}", (admin, token) =>
        {
            var destroyed = admin.DestroyKey(keyId);
            Log.KeyDestroyed(logger, keyId, destroyed, token);
            return destroyed;
        });
    }

    public string EnsureRoot(HsmTarget target, string rootLabelPrefix, int rootVersion)
    {
        ArgumentException.ThrowIfNullOrEmpty(rootLabelPrefix);
        return OnFirstToken(target, $"make root key {Pkcs11Sealer.RootLabel(rootLabelPrefix, rootVersion)}", (_, session, token) =>
        {
            var sealer = new Pkcs11Sealer(session);
            var existed = sealer.HasRoot(rootLabelPrefix, rootVersion);
            try
            {
                sealer.EnsureRoot(rootLabelPrefix, rootVersion);
            }
            catch (Pkcs11KeyConflictException ex)
            {
                throw new HsmException(HsmException.RootKeyConflict, $"{token}: {ex.Message}");
            }

            if (!existed)
            {
                Log.RootGenerated(logger, Pkcs11Sealer.RootLabel(rootLabelPrefix, rootVersion), token);
            }

            return token;
        });
    }

    public byte[] SealNewVersion(HsmTarget target, string rootLabelPrefix, int rootVersion, string keyId, int version)
    {
        ArgumentException.ThrowIfNullOrEmpty(rootLabelPrefix);
        ArgumentException.ThrowIfNullOrEmpty(keyId);
        return OnFirstToken(target, $"seal version {version} of {keyId}", (_, session, token) =>
        {
            try
            {
                return new Pkcs11Sealer(session).SealNewKey(rootLabelPrefix, rootVersion, keyId, version);
            }
            catch (Pkcs11SealingException ex)
            {
                throw new HsmException(ex.Reason == Pkcs11SealingFailure.RootMissing ? HsmException.RootKeyMissing : HsmException.RootKeyConflict, $"{token}: {ex.Message}");
            }
        });
    }

    public IReadOnlyList<int> RootVersions(HsmTarget target, string rootLabelPrefix)
    {
        ArgumentException.ThrowIfNullOrEmpty(rootLabelPrefix);
        return OnFirstToken(target, $"list the root versions {rootLabelPrefix}/r*", (_, session, _) => new Pkcs11Sealer(session).RootVersions(rootLabelPrefix));
    }

    public byte[] Reseal(HsmTarget target, string rootLabelPrefix, string keyId, int version, byte[] blob, int toRootVersion)
    {
        ArgumentException.ThrowIfNullOrEmpty(rootLabelPrefix);
        ArgumentNullException.ThrowIfNull(blob);
        return OnFirstToken(target, $"reseal version {version} of {keyId} under root version {toRootVersion}", (_, session, token) =>
        {
            try
            {
                return new Pkcs11Sealer(session).Reseal(rootLabelPrefix, keyId, version, blob, toRootVersion);
            }
            catch (Pkcs11SealingException ex)
            {
                throw new HsmException(ex.Reason == Pkcs11SealingFailure.RootMissing ? HsmException.RootKeyMissing : HsmException.RootKeyConflict, $"{token}: {ex.Message}");
            }
        });
    }

    public int DestroyRoot(HsmTarget target, string rootLabelPrefix, int rootVersion)
    {
        ArgumentException.ThrowIfNullOrEmpty(rootLabelPrefix);
        return OnFirstToken(target, $"destroy root version {rootVersion}", (_, session, token) =>
        {
            var destroyed = new Pkcs11Sealer(session).DestroyRoot(rootLabelPrefix, rootVersion);
            Log.RootDestroyed(logger, Pkcs11Sealer.RootLabel(rootLabelPrefix, rootVersion), destroyed, token);
            return destroyed;
        });
    }

    public string Check(HsmTarget target) => OnFirstToken(target, "log in", (_, session, token) =>
    {
        // A cached session must still be alive (a dead one fails here and is replaced by a fresh login).
        session.GetSessionInfo();
        return token;
    });

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            foreach (var session in _sessions.Values)
            {
                session.Dispose();
            }

            _sessions.Clear();
        }
    }

    private static HsmKeyVersionInfo Info(HsmKeyVersion v) =>
        new(v.KeyId, v.Version, v.Label, v.IsUsableAes256, v.Sensitive, v.Extractable, v.CanEncrypt, v.CanDecrypt);

    /// <summary>Runs <paramref name="action"/> on the first token that works; every token's failure is in the exception.</summary>
    private T OnFirstToken<T>(HsmTarget target, string what, Func<Pkcs11KeyAdmin, string, T> action) =>
        OnFirstToken(target, what, (admin, _, token) => action(admin, token));

    private T OnFirstToken<T>(HsmTarget target, string what, Func<Pkcs11KeyAdmin, ISession, string, T> action)
    {
        ArgumentNullException.ThrowIfNull(target);
        var problems = new List<string>();
        foreach (var token in target.Tokens)
        {
            var library = target.LibraryOf(token);
            if (!_allowList.LibraryAllowed(library))
            {
                // Checked before anything loads it: the library would run inside the operator's own process.
                throw new HsmException(HsmException.LibraryNotAllowed, $"PKCS#11 library {library} is not one this operator loads (operator flag --allowed-pkcs11-library: {string.Join(", ", _allowList.Pkcs11Libraries)})");
            }

            var name = $"{token} of {library}";
            var entry = Entry(library, token);
            lock (entry)
            {
                for (var attempt = 1; attempt <= 2; attempt++)
                {
                    try
                    {
                        var session = entry.Session(target);
                        return action(new Pkcs11KeyAdmin(session), session, name);
                    }
                    catch (Pkcs11SetupException ex)
                    {
                        // Library, token or login: a fresh session would fail the same way.
                        entry.Reset(reinitialize: false);
                        problems.Add(ex.Message);
                        break;
                    }
                    catch (Pkcs11Exception ex)
                    {
                        // A dead session or device: re-initialise the module, and try once more on a fresh session.
                        var fresh = entry.WasFresh;
                        entry.Reset(reinitialize: true);
                        Log.TokenFailed(logger, name, what, ex.Method, ex.RV.ToString());
                        if (fresh || attempt == 2)
                        {
                            problems.Add($"{name}: {ex.Method} returned {ex.RV}");
                            break;
                        }
                    }
                }
            }
        }

        throw new HsmException(HsmException.HsmUnavailable, $"cannot {what} in the HSM: {string.Join("; ", problems)}");
    }

    private TokenSession Entry(string library, ProxyPkcs11TokenModel token)
    {
        var key = $"{library}\n{(token.Label is null ? "slot:" + token.Slot : "label:" + token.Label)}";
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_sessions.TryGetValue(key, out var entry))
            {
                entry = new TokenSession(library, token.Label is { } label ? TokenSelector.ByLabel(label) : TokenSelector.BySlot((ulong)token.Slot!.Value));
                _sessions[key] = entry;
            }

            return entry;
        }
    }

    /// <summary>One token's module lease and logged-in session (guarded by locking the instance).</summary>
    private sealed class TokenSession(string library, TokenSelector selector) : IDisposable
    {
        private Pkcs11ModuleLease? _lease;
        private ISession? _session;
        private string? _pinFingerprint;
        private int _generation;

        /// <summary>True when the session in use was opened by the current call (a failure then is not a stale session).</summary>
        public bool WasFresh { get; private set; }

        public ISession Session(HsmTarget target)
        {
            WasFresh = false;
            _lease ??= Pkcs11Modules.Acquire(library);
            if (_session is not null && (_pinFingerprint != target.PinFingerprint || _generation != _lease.Generation || !LoggedIn(_session)))
            {
                // Another PIN, a re-initialised module, or the token logged out (another Vault's login proving its
                // PIN logs the token out for the whole process): a not-logged-in session would see no private object.
                CloseSession();
            }

            if (_session is null)
            {
                // Vaults share nothing but the module: each login proves its own PIN, even when another Vault's session
                // has the token logged in already.
                _session = _lease.OpenUserSession(selector, target.Pin(), provePin: true);
                _pinFingerprint = target.PinFingerprint;
                _generation = _lease.Generation;
                WasFresh = true;
            }

            return _session;
        }

        private static bool LoggedIn(ISession session)
        {
            try
            {
                return session.GetSessionInfo().State == CKS.CKS_RW_USER_FUNCTIONS;
            }
            catch (Pkcs11Exception)
            {
                return false;
            }
        }

        public void Reset(bool reinitialize)
        {
            CloseSession();
            if (reinitialize && _lease is not null)
            {
                try
                {
                    _lease.Reinitialize();
                }
                catch (Pkcs11SetupException)
                {
                    // The library cannot come back now: let go of it; the next call loads it again.
                    _lease.Dispose();
                    _lease = null;
                }
            }
        }

        public void Dispose()
        {
            CloseSession();
            _lease?.Dispose();
            _lease = null;
        }

        private void CloseSession()
        {
            try
            {
                _session?.Dispose();
            }
            catch (Pkcs11Exception)
            {
                // Closing a session of a failed token: it is gone either way.
            }

            _session = null;
            _pinFingerprint = null;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(3500, LogLevel.Information, "Generated key version {Label} in the HSM ({Token}): AES-256, sensitive, not extractable")]
        public static partial void VersionGenerated(ILogger logger, string label, string token);

        [LoggerMessage(3501, LogLevel.Information, "Adopted key version {Label} that the HSM already holds ({Token})")]
        public static partial void VersionAdopted(ILogger logger, string label, string token);

        [LoggerMessage(3502, LogLevel.Information, "Destroyed {Count} version object(s) of key {KeyId} in the HSM ({Token})")]
        public static partial void KeyDestroyed(ILogger logger, string keyId, int count, string token);

        [LoggerMessage(3504, LogLevel.Information, "Generated root key {Label} in the HSM ({Token}): AES-256, sensitive, never extractable, derive only")]
        public static partial void RootGenerated(ILogger logger, string label, string token);

        [LoggerMessage(3505, LogLevel.Warning, "Destroyed root key {Label} in the HSM ({Count} object(s), {Token}): blobs sealed under it can no longer be opened")]
        public static partial void RootDestroyed(ILogger logger, string label, int count, string token);

        [LoggerMessage(3503, LogLevel.Warning, "HSM {Token} failed to {What}: {Method} returned {ReturnValue}; the session is closed and the module re-initialised")]
        public static partial void TokenFailed(ILogger logger, string token, string what, string method, string returnValue);
    }
}
