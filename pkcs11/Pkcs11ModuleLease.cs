using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;

namespace Xks.Pkcs11;

/// <summary>
/// A hold on a shared PKCS#11 module (see <see cref="Pkcs11Modules"/>). Dispose it exactly once; the module is
/// finalized when the last lease on its library goes.
/// </summary>
public sealed class Pkcs11ModuleLease : IDisposable
{
    private readonly Pkcs11Module _module;
    private readonly string _key;
    private int _disposed;

    internal Pkcs11ModuleLease(Pkcs11Module module, string libraryPath, string key)
    {
        _module = module;
        _key = key;
        LibraryPath = libraryPath;
    }

    public string LibraryPath { get; }

    /// <summary>The module's current instance (a new one after <see cref="Reinitialize"/>).</summary>
    /// <exception cref="Pkcs11SetupException">The last re-initialisation failed (the next one may work).</exception>
    public IPkcs11Library Library
    {
        get
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            return _module.Library
                ?? throw new Pkcs11SetupException($"PKCS#11 library '{LibraryPath}' is not initialised: {_module.LastError ?? "re-initialisation failed"}");
        }
    }

    /// <summary>Counts the re-initialisations of the module (a session or handle from an older one is dead).</summary>
    public int Generation => _module.Generation;

    public Pkcs11InteropFactories Factories => Pkcs11Modules.Factories;

    /// <summary>The slot holding the selected token.</summary>
    /// <exception cref="Pkcs11SetupException">No such token (the message lists the tokens present), or the module fails.</exception>
    public ISlot FindToken(TokenSelector selector)
    {
        try
        {
            return selector.Resolve(Library, LibraryPath);
        }
        catch (Pkcs11Exception ex)
        {
            throw new Pkcs11SetupException($"PKCS#11 library '{LibraryPath}': listing tokens failed: {ex.Method} returned {ex.RV}", ex);
        }
    }

    /// <summary>A read-write session on the selected token, logged in as CKU_USER.</summary>
    /// <exception cref="Pkcs11SetupException">No such token, a wrong or locked PIN, or the token refuses a session.</exception>
    public ISession OpenUserSession(TokenSelector selector, Pkcs11Pin pin, bool provePin = false) => OpenUserSession(FindToken(selector), selector, pin, LibraryPath, provePin);

    /// <summary>
    /// A read-write session on <paramref name="slot"/>, logged in as CKU_USER. A token's login belongs to the whole
    /// process, so when another session is logged in already a login "succeeds" whatever the PIN. That is fine for one
    /// owner's session pool; with <paramref name="provePin"/> (callers acting for several owners, such as the operator
    /// for several Vaults) the token is logged out and in again with this PIN, so a wrong PIN fails even then (the other
    /// sessions log in again on their next failure).
    /// </summary>
    /// <exception cref="Pkcs11SetupException">A wrong or locked PIN, or the token refuses a session.</exception>
    public static ISession OpenUserSession(ISlot slot, TokenSelector selector, Pkcs11Pin pin, string libraryPath, bool provePin = false)
    {
        ISession session;
        try
        {
            session = slot.OpenSession(SessionType.ReadWrite);
        }
        catch (Pkcs11Exception ex)
        {
            throw new Pkcs11SetupException($"PKCS#11 library '{libraryPath}': opening a session on {selector} failed: {ex.RV}", ex);
        }

        var bytes = pin.CopyBytes();
        try
        {
            session.Login(CKU.CKU_USER, bytes);
            return session;
        }
        catch (Pkcs11Exception ex) when (ex.RV == CKR.CKR_USER_ALREADY_LOGGED_IN && !provePin)
        {
            return session;
        }
        catch (Pkcs11Exception ex) when (ex.RV == CKR.CKR_USER_ALREADY_LOGGED_IN)
        {
            try
            {
                session.Logout();
                session.Login(CKU.CKU_USER, bytes);
                return session;
            }
            catch (Pkcs11Exception again)
            {
                session.Dispose();
                throw LoginFailed(again, selector, pin, libraryPath);
            }
        }
        catch (Pkcs11Exception ex)
        {
            session.Dispose();
            throw LoginFailed(ex, selector, pin, libraryPath);
        }
        finally
        {
            Array.Clear(bytes);
        }
    }

    private static Pkcs11SetupException LoginFailed(Pkcs11Exception ex, TokenSelector selector, Pkcs11Pin pin, string libraryPath)
    {
        var problem = ex.RV switch
        {
            CKR.CKR_PIN_INCORRECT or CKR.CKR_PIN_INVALID or CKR.CKR_PIN_LEN_RANGE => $"wrong PIN for {selector} ({ex.RV}) from {pin.Source}",
            CKR.CKR_PIN_LOCKED => $"the user PIN of {selector} is locked ({ex.RV}); the token's security officer must reset it",
            CKR.CKR_PIN_EXPIRED => $"the user PIN of {selector} has expired ({ex.RV})",
            CKR.CKR_USER_PIN_NOT_INITIALIZED => $"{selector} has no user PIN yet ({ex.RV}); initialise it",
            _ => $"login to {selector} failed: {ex.RV}",
        };
        return new Pkcs11SetupException($"PKCS#11 library '{libraryPath}': {problem}", ex);
    }

    /// <summary>
    /// Finalizes the module and initialises it again (the way to see a token that was removed and came back). Every
    /// session and object handle of every lease on this module becomes invalid: callers close theirs first.
    /// </summary>
    public void Reinitialize()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        _module.Reinitialize();
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            Pkcs11Modules.Release(_module, _key);
        }
    }
}
