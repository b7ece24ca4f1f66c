using Net.Pkcs11Interop.Common;
using Xks.Contracts.KeyWrap;
using Xks.Contracts.ProxyConfig;
using Xks.Pkcs11;
using ISession = Net.Pkcs11Interop.HighLevelAPI.ISession;

namespace Xks.Proxy.Crypto.Software;

/// <summary>
/// Unseals format-3 key versions with the root keys <c>{rootLabelPrefix}/r{n}</c> of the configured PKCS#11 tokens
/// (<c>backend.software.sealing</c>), through <see cref="Pkcs11Sealer"/>. One logged-in session per token, opened on
/// first use and kept; the tokens are tried in order and the first that answers decides. A device or session fault
/// closes the token's session and re-initialises its module on the next try (the way a token that was removed and
/// came back is seen again); a token that answers "no root" on a session that was already open is looked at once more
/// on a fresh module, since a token taken away under a live module can still answer, with no objects.
/// <para>
/// Nothing is opened at construction, so a proxy starts (sealed) while its HSM is away. The PIN is read at each login
/// (a replaced PIN file is picked up) and never logged; a PIN the token refused is not tried again until its file
/// changes, because HSMs lock a PIN after a few wrong tries. Calls are serialised (they happen when a configuration is
/// applied, never on the request path).
/// </para>
/// </summary>
public sealed partial class Pkcs11KeyUnsealer : IKeyUnsealer, IDisposable
{
    private readonly SoftwareSealingOptions _options;
    private readonly ILogger _logger;
    private readonly object _gate = new();
    private readonly List<TokenEntry> _tokens = [];
    private readonly Dictionary<string, Pkcs11ModuleLease> _modules = new(StringComparer.Ordinal);
    private string? _refusedPin;
    private bool _disposed;

    public Pkcs11KeyUnsealer(SoftwareSealingOptions options, ILogger<Pkcs11KeyUnsealer> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _logger = logger;
        foreach (var token in options.Tokens)
        {
            var library = string.IsNullOrWhiteSpace(token.Library) ? options.Library : token.Library;
            _tokens.Add(new TokenEntry(new TokenSelector(NonEmpty(token.Label), token.Slot, NonEmpty(token.Serial)), library));
        }
    }

    /// <inheritdoc/>
    public byte[] Unseal(string keyId, int version, ReadOnlySpan<byte> blob)
    {
        ArgumentException.ThrowIfNullOrEmpty(keyId);
        if (!SealedKey.TryParse(blob, out var rootVersion, out _))
        {
            throw new KeyUnsealException(KeyUnsealFailure.Malformed, $"key '{keyId}' version {version} {SealedKey.Problem(blob)}");
        }

        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var problems = new List<string>(_tokens.Count);
            foreach (var token in _tokens)
            {
                try
                {
                    return UnsealOn(token, keyId, version, blob);
                }
                catch (KeyUnsealException ex) when (ex.HsmUnreachable)
                {
                    Log.TokenUnreachable(_logger, token.Selector.Id, token.Library, ex.Message);
                    problems.Add(ex.Message);
                }
            }

            throw new KeyUnsealException(KeyUnsealFailure.HsmUnreachable,
                $"no HSM token could be asked to unseal key '{keyId}' version {version} with root '{Pkcs11Sealer.RootLabel(_options.RootLabelPrefix, rootVersion)}': {(problems.Count == 0 ? "no tokens configured" : string.Join("; ", problems))}");
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            foreach (var token in _tokens)
            {
                CloseSession(token);
            }

            foreach (var lease in _modules.Values)
            {
                lease.Dispose();
            }

            _modules.Clear();
        }
    }

    private byte[] UnsealOn(TokenEntry token, string keyId, int version, ReadOnlySpan<byte> blob)
    {
        for (var attempt = 1; ; attempt++)
        {
            var reused = token.Session is not null;
            var retry = reused && attempt == 1;
            try
            {
                var session = token.Session ??= Open(token);
                var material = new Pkcs11Sealer(session).Unseal(_options.RootLabelPrefix, keyId, version, blob);
                token.NeedsReinitialize = false;
                return material;
            }
            catch (Pkcs11SealingException ex) when (ex.Reason == Pkcs11SealingFailure.RootMissing && retry)
            {
                CloseSession(token);
                token.NeedsReinitialize = true;
            }
            catch (Pkcs11SealingException ex)
            {
                throw new KeyUnsealException(Map(ex.Reason), $"token '{token.Selector.Id}': {ex.Message}", ex);
            }
            catch (Pkcs11Exception ex)
            {
                CloseSession(token);
                token.NeedsReinitialize = true;
                if (!retry)
                {
                    throw new KeyUnsealException(KeyUnsealFailure.HsmUnreachable, $"token '{token.Selector.Id}' ({token.Library}): {ex.Method} returned {ex.RV}", ex);
                }
            }
            catch (Pkcs11SetupException ex)
            {
                CloseSession(token);
                token.NeedsReinitialize = !IsPinRefusal(ex);
                throw new KeyUnsealException(KeyUnsealFailure.HsmUnreachable, ex.Message, ex);
            }
            catch (ObjectDisposedException ex)
            {
                CloseSession(token);
                token.NeedsReinitialize = true;
                throw new KeyUnsealException(KeyUnsealFailure.HsmUnreachable, $"token '{token.Selector.Id}' ({token.Library}): the module is gone ({ex.ObjectName})", ex);
            }
        }
    }

    /// <summary>A logged-in session on the token, re-initialising its module first after a fault.</summary>
    /// <exception cref="Pkcs11SetupException">The library, token or login failed, or the PIN was refused before and has not changed.</exception>
    private ISession Open(TokenEntry token)
    {
        if (!_modules.TryGetValue(token.Library, out var lease))
        {
            lease = Pkcs11Modules.Acquire(token.Library);
            _modules[token.Library] = lease;
        }
        else if (token.NeedsReinitialize)
        {
            // Every session of the module goes with it: the other tokens on this library reopen theirs on next use.
            foreach (var other in _tokens.Where(t => t.Library == token.Library))
            {
                CloseSession(other);
            }

            lease.Reinitialize();
            foreach (var other in _tokens.Where(t => t.Library == token.Library))
            {
                other.NeedsReinitialize = false;
            }

            Log.ModuleReinitialized(_logger, token.Library);
        }

        var pinSource = PinFingerprint();
        if (_refusedPin == pinSource)
        {
            throw new Pkcs11SetupException($"PKCS#11 library '{token.Library}': the PIN ({PinSourceName()}) was refused by {token.Selector} before; it is not tried again until it changes (HSMs lock a PIN after a few wrong tries)");
        }

        var pin = ReadPin();
        try
        {
            var session = lease.OpenUserSession(token.Selector, pin);
            _refusedPin = null;
            Log.TokenOpened(_logger, token.Selector.Id, token.Library);
            return session;
        }
        catch (Pkcs11SetupException ex) when (IsPinRefusal(ex))
        {
            _refusedPin = pinSource;
            throw;
        }
    }

    private Pkcs11Pin ReadPin() =>
        !string.IsNullOrEmpty(_options.PinFile) ? Pkcs11Pin.FromFile(_options.PinFile)
        : !string.IsNullOrEmpty(_options.PinEnvironmentVariable) ? Pkcs11Pin.FromEnvironment(_options.PinEnvironmentVariable)
        : Pkcs11Pin.FromLiteral(_options.Pin ?? "");

    private string PinSourceName() =>
        !string.IsNullOrEmpty(_options.PinFile) ? $"file '{_options.PinFile}'"
        : !string.IsNullOrEmpty(_options.PinEnvironmentVariable) ? $"environment variable '{_options.PinEnvironmentVariable}'"
        : "inline pin";

    /// <summary>What identifies the PIN's current value without holding it: the file's size and time (a replaced file differs).</summary>
    private string PinFingerprint()
    {
        if (string.IsNullOrEmpty(_options.PinFile))
        {
            return PinSourceName();
        }

        var info = new FileInfo(_options.PinFile);
        return info.Exists ? $"{PinSourceName()} {info.Length} {info.LastWriteTimeUtc.Ticks}" : $"{PinSourceName()} missing";
    }

    private static bool IsPinRefusal(Pkcs11SetupException ex) => ex.InnerException is Pkcs11Exception
    {
        RV: CKR.CKR_PIN_INCORRECT or CKR.CKR_PIN_INVALID or CKR.CKR_PIN_LEN_RANGE or CKR.CKR_PIN_LOCKED or CKR.CKR_PIN_EXPIRED,
    };

    private static KeyUnsealFailure Map(Pkcs11SealingFailure reason) => reason switch
    {
        Pkcs11SealingFailure.RootMissing => KeyUnsealFailure.RootMissing,
        Pkcs11SealingFailure.RootRefused => KeyUnsealFailure.RootRefused,
        Pkcs11SealingFailure.Malformed => KeyUnsealFailure.Malformed,
        _ => KeyUnsealFailure.IntegrityFailure,
    };

    private static void CloseSession(TokenEntry token)
    {
        var session = token.Session;
        token.Session = null;
        try
        {
            session?.Dispose();
        }
        catch (Exception ex) when (ex is Pkcs11Exception or ObjectDisposedException)
        {
            // a session of a failed device or a finalized module: nothing left to close
        }
    }

    private static string? NonEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private sealed class TokenEntry(TokenSelector selector, string library)
    {
        public TokenSelector Selector { get; } = selector;

        public string Library { get; } = library;

        public ISession? Session { get; set; }

        /// <summary>The last use failed on the device or could not find the token: re-initialise the module before the next login.</summary>
        public bool NeedsReinitialize { get; set; }
    }

    private static partial class Log
    {
        [LoggerMessage(320, LogLevel.Debug, "Sealing token {TokenId} ({Library}) could not unseal: {Problem}", EventName = "SealingTokenUnreachable")]
        public static partial void TokenUnreachable(ILogger logger, string tokenId, string library, string problem);

        [LoggerMessage(321, LogLevel.Debug, "Sealing token {TokenId} ({Library}): logged-in session opened", EventName = "SealingTokenOpened")]
        public static partial void TokenOpened(ILogger logger, string tokenId, string library);

        [LoggerMessage(322, LogLevel.Debug, "Sealing PKCS#11 module {Library} re-initialised after a fault", EventName = "SealingModuleReinitialized")]
        public static partial void ModuleReinitialized(ILogger logger, string library);
    }
}
