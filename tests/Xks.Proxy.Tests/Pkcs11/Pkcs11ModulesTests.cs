using Net.Pkcs11Interop.Common;
using Xks.Testing;

namespace Xks.Pkcs11.Tests;

public sealed class Pkcs11ModulesTests
{
    private const string Pin = "5678";
    private static readonly Lazy<string> Token = new(() =>
    {
        var label = "modules-" + Guid.NewGuid().ToString("N")[..8];
        SoftHsm.Shared.InitToken(label, Pin);
        return label;
    });

    private readonly SoftHsm _hsm = SoftHsm.Shared;

    [Fact]
    public void Acquire_MissingLibrary_ThrowsNamingThePath()
    {
        var ex = Assert.Throws<Pkcs11SetupException>(() => Pkcs11Modules.Acquire("/nonexistent/libpkcs11.so"));
        Assert.Equal("PKCS#11 library '/nonexistent/libpkcs11.so' does not exist", ex.Message);
    }

    [Fact]
    public void Acquire_NotALibrary_ThrowsCouldNotBeLoaded()
    {
        var path = Path.Combine(_hsm.Root, "not-a-library.so");
        File.WriteAllText(path, "garbage");
        var ex = Assert.Throws<Pkcs11SetupException>(() => Pkcs11Modules.Acquire(path));
        Assert.StartsWith($"PKCS#11 library '{path}' could not be loaded: ", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Acquire_SamePathTwice_SharesOneModuleThatOutlivesTheFirstLease()
    {
        var label = Token.Value;
        var library = _hsm.CopyLibrary("shared");
        var first = Pkcs11Modules.Acquire(library);
        using var second = Pkcs11Modules.Acquire(library);
        Assert.Same(first.Library, second.Library);
        Assert.Equal(2, Pkcs11Modules.References(library));

        first.Dispose();
        first.Dispose();

        Assert.Equal(1, Pkcs11Modules.References(library));
        using var session = second.OpenUserSession(TokenSelector.ByLabel(label), Pkcs11Pin.FromLiteral(Pin));
        Assert.Equal(16, session.GenerateRandom(16).Length);
    }

    [Fact]
    public void OpenUserSession_WrongPin_ThrowsNamingTheTokenNotThePin()
    {
        var label = Token.Value;
        using var lease = Pkcs11Modules.Acquire(_hsm.CopyLibrary("wrong-pin"));
        var ex = Assert.Throws<Pkcs11SetupException>(() => lease.OpenUserSession(TokenSelector.ByLabel(label), Pkcs11Pin.FromLiteral("99999999")));
        Assert.Contains($"wrong PIN for token '{label}' (CKR_PIN_INCORRECT)", ex.Message, StringComparison.Ordinal);
        Assert.Contains(lease.LibraryPath, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("99999999", ex.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void FindToken_UnknownLabel_ListsTheTokensPresent()
    {
        var label = Token.Value;
        using var lease = Pkcs11Modules.Acquire(_hsm.CopyLibrary("unknown-token"));
        var ex = Assert.Throws<Pkcs11SetupException>(() => lease.FindToken(TokenSelector.ByLabel("no-such-token")));
        Assert.Contains($"has no token 'no-such-token' (tokens: ", ex.Message, StringComparison.Ordinal);
        Assert.Contains(label, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FindToken_BySlotAndSerial_FindTheSameToken()
    {
        var label = Token.Value;
        using var lease = Pkcs11Modules.Acquire(_hsm.CopyLibrary("selectors"));
        var slot = lease.FindToken(TokenSelector.ByLabel(label));
        var serial = slot.GetTokenInfo().SerialNumber.Trim();
        Assert.Equal(slot.SlotId, lease.FindToken(TokenSelector.BySlot(slot.SlotId)).SlotId);
        Assert.Equal(slot.SlotId, lease.FindToken(TokenSelector.BySerial(serial)).SlotId);
    }

    [Fact]
    public void Reinitialize_TokenRemovedAndRestored_SeesItsObjectsAgain()
    {
        var label = "reinit-" + Guid.NewGuid().ToString("N")[..8];
        _hsm.InitToken(label, Pin);
        using var lease = Pkcs11Modules.Acquire(_hsm.CopyLibrary("reinit"));
        var selector = TokenSelector.ByLabel(label);
        using (var session = lease.OpenUserSession(selector, Pkcs11Pin.FromLiteral(Pin)))
        {
            new Pkcs11KeyAdmin(session).EnsureVersion("k", 1, canEncrypt: true, canDecrypt: true);
        }

        _hsm.RemoveToken(label);
        try
        {
            using var session = lease.OpenUserSession(selector, Pkcs11Pin.FromLiteral(Pin));
            Assert.Empty(new Pkcs11KeyAdmin(session).ListVersions("k"));
        }
        catch (Pkcs11SetupException)
        {
            // the token may also just vanish from the slot list: either way its key is gone
        }
        finally
        {
            _hsm.RestoreToken(label);
        }

        var generation = lease.Generation;
        lease.Reinitialize();

        Assert.Equal(generation + 1, lease.Generation);
        using var again = lease.OpenUserSession(selector, Pkcs11Pin.FromLiteral(Pin));
        Assert.Single(new Pkcs11KeyAdmin(again).ListVersions("k"));
    }

    [Fact]
    public void Session_OfAnotherModuleInstance_IsIndependent()
    {
        var label = Token.Value;
        using var a = Pkcs11Modules.Acquire(_hsm.CopyLibrary("a"));
        using var b = Pkcs11Modules.Acquire(_hsm.CopyLibrary("b"));
        using var session = a.OpenUserSession(TokenSelector.ByLabel(label), Pkcs11Pin.FromLiteral(Pin));
        b.Reinitialize();
        var info = session.GetSessionInfo();
        Assert.Equal(CKS.CKS_RW_USER_FUNCTIONS, info.State);
    }
}
