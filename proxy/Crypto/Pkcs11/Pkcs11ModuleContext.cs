using Net.Pkcs11Interop.Common;
using Xks.Pkcs11;

namespace Xks.Proxy.Crypto.Pkcs11;

/// <summary>
/// One PKCS#11 module (library) as the backend uses it: the shared lease, the tokens served through it, and the
/// reader-writer boundary that lets the module be re-initialised (C_Finalize + C_Initialize) after a device error or
/// a token removal while no operation is inside it.
/// </summary>
internal sealed class Pkcs11ModuleContext : IDisposable
{
    // LOCK ORDER — read this before touching any lock here.
    //   1. _boundary (this module's reader-writer lock): READ around every PKCS#11 call on any token of this module
    //      (from before a session is rented until after the lease is returned); WRITE only in Reinitialize.
    //   2. a token's session pool (its semaphore, then its private list lock), only while holding (1) for read or
    //      write.
    //   3. the backend's token-state lock: held only for field updates, never while taking (1) or (2).
    // Never take (1) while holding a lease or a pool lock, never nest (1) (NoRecursion: a request that hits a device
    // error returns its lease and LEAVES the read lock before anyone re-initialises), and never call Reinitialize
    // from inside a read lock: that is a self-deadlock the lock turns into an exception.
    private readonly ReaderWriterLockSlim _boundary = new(LockRecursionPolicy.NoRecursion);
    private readonly Pkcs11ModuleLease _lease;
    private readonly object _lowLevelGate = new();
    private Net.Pkcs11Interop.LowLevelAPI80.Pkcs11Library? _lowLevel;

    public Pkcs11ModuleContext(string libraryPath)
    {
        _lease = Pkcs11Modules.Acquire(libraryPath);
        LibraryPath = libraryPath;
    }

    public string LibraryPath { get; }

    public Pkcs11ModuleLease Lease => _lease;

    public List<Pkcs11Token> Tokens { get; } = [];

    /// <summary>Recovery passes that left a failed token alone because other tokens of this module were serving.</summary>
    public int DeferredReinitializations { get; set; }

    /// <summary>How long an operation waits for a re-initialisation in progress before giving up.</summary>
    public static TimeSpan ReadWait { get; } = TimeSpan.FromSeconds(10);

    /// <summary>Runs <paramref name="action"/> inside the read side of the boundary.</summary>
    /// <exception cref="Pkcs11PoolTimeoutException">The module stayed locked by a re-initialisation for <see cref="ReadWait"/>.</exception>
    public T Read<T>(Func<T> action)
    {
        if (!_boundary.TryEnterReadLock(ReadWait))
        {
            throw new Pkcs11PoolTimeoutException($"PKCS#11 module '{LibraryPath}' is being re-initialised");
        }

        try
        {
            return action();
        }
        finally
        {
            _boundary.ExitReadLock();
        }
    }

    /// <summary>
    /// The write side: every pool of every token of this module is cleared (their sessions closed), the module is
    /// finalized and initialised again, and each token looks up its slot anew. Returns the tokens that failed to
    /// reconnect, with why.
    /// </summary>
    public IReadOnlyDictionary<Pkcs11Token, string> Reinitialize()
    {
        var failed = new Dictionary<Pkcs11Token, string>();
        _boundary.EnterWriteLock();
        try
        {
            foreach (var token in Tokens)
            {
                token.DropSessions();
            }

            DisposeLowLevel();
            try
            {
                _lease.Reinitialize();
            }
            catch (Pkcs11SetupException ex)
            {
                foreach (var token in Tokens)
                {
                    failed[token] = ex.Message;
                }

                return failed;
            }

            foreach (var token in Tokens)
            {
                if (token.TryConnectUnderWriteLock() is { } problem)
                {
                    failed[token] = problem;
                }
            }

            return failed;
        }
        finally
        {
            _boundary.ExitWriteLock();
        }
    }

    /// <summary>
    /// The low-level view of the same module for what the high-level API cannot express (reading back the IV an HSM
    /// wrote into CK_GCM_PARAMS). It only dlopens the library again (the same instance, already initialised) and never
    /// finalizes it. 64-bit Unix layout only.
    /// </summary>
    public Net.Pkcs11Interop.LowLevelAPI80.Pkcs11Library LowLevel
    {
        get
        {
            if (Platform.NativeULongSize != 8 || Platform.StructPackingSize != 0)
            {
                throw new PlatformNotSupportedException("ivGeneration HsmWritesIv needs a 64-bit Linux or macOS runtime");
            }

            lock (_lowLevelGate)
            {
                return _lowLevel ??= new Net.Pkcs11Interop.LowLevelAPI80.Pkcs11Library(LibraryPath);
            }
        }
    }

    public void Dispose()
    {
        foreach (var token in Tokens)
        {
            token.Dispose();
        }

        DisposeLowLevel();
        _lease.Dispose();
        _boundary.Dispose();
    }

    private void DisposeLowLevel()
    {
        lock (_lowLevelGate)
        {
            _lowLevel?.Dispose();
            _lowLevel = null;
        }
    }
}
