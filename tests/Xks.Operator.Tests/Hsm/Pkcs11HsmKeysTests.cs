using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Xks.Operator.Resources;
using Xks.Testing;

namespace Xks.Operator.Hsm.Tests;

/// <summary>The operator's HSM access on a SoftHSM2 token of each test's own, through a private copy of the module.</summary>
public sealed class Pkcs11HsmKeysTests : IDisposable
{
    private readonly SoftHsm _hsm = SoftHsm.Shared;
    private readonly string _token = "op-" + Guid.NewGuid().ToString("N")[..8];
    private readonly string _pin = "pin-" + Guid.NewGuid().ToString("N");
    private readonly string _library;
    // The tests load private copies of the library (a module instance each), from a temporary directory.
    private static readonly Options.VaultAllowList AnyLibrary = new() { Pkcs11Libraries = ["*"] };
    private readonly Pkcs11HsmKeys _keys = new(NullLogger<Pkcs11HsmKeys>.Instance, AnyLibrary);

    public Pkcs11HsmKeysTests()
    {
        _hsm.InitToken(_token, _pin);
        _library = _hsm.CopyLibrary("operator");
    }

    public void Dispose() => _keys.Dispose();

    private HsmTarget Target(string? pin = null, string? library = null, params ProxyPkcs11TokenModel[] tokens) =>
        new(library ?? _library, tokens.Length > 0 ? tokens : [new ProxyPkcs11TokenModel(_token, null, null)], Encoding.UTF8.GetBytes(pin ?? _pin), "test PIN");

    [Fact]
    public void EnsureVersion_NewKey_GeneratedInTheTokenSensitiveAndNotExtractable()
    {
        var version = _keys.EnsureVersion(Target(), "payments-db-2f1c", 1, canEncrypt: true, canDecrypt: true);

        Assert.Equal(new HsmKeyVersionInfo("payments-db-2f1c", 1, "payments-db-2f1c/v1", IsAes256: true, Sensitive: true, Extractable: false, CanEncrypt: true, CanDecrypt: true), version);
        Assert.Equal([1], _keys.ListVersions(Target(), "payments-db-2f1c").Select(v => v.Version));
    }

    [Fact]
    public void ListVersions_AnotherVaultLoggedInToTheToken_AWrongPinIsStillRefusedAndTheOtherVaultKeepsWorking()
    {
        // Vault a logs in by label; Vault b names the same token by slot with a PIN it does not know. A token's login
        // belongs to the process, so b's login would "succeed" if the operator did not make it prove its PIN.
        _keys.EnsureVersion(Target(), "a-key", 1, canEncrypt: true, canDecrypt: true);
        var slot = _hsm.WithSession(_token, _pin, session => (long)session.GetSessionInfo().SlotId);

        var refused = Assert.Throws<HsmException>(() => _keys.ListVersions(Target("not-the-pin", null, new ProxyPkcs11TokenModel(null, slot, null)), "a-key"));

        Assert.Contains("wrong PIN", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("not-the-pin", refused.Message, StringComparison.Ordinal);
        Assert.Equal([1], _keys.ListVersions(Target(), "a-key").Select(v => v.Version));
    }

    [Fact]
    public void EnsureVersion_LibraryOffTheAllowList_RefusedBeforeItIsLoaded()
    {
        using var keys = new Pkcs11HsmKeys(NullLogger<Pkcs11HsmKeys>.Instance, new Options.VaultAllowList { Pkcs11Libraries = ["/usr/lib/softhsm/*"] });

        // A path that does not exist: loading it would fail differently (HsmUnavailable, "does not exist").
        var refused = Assert.Throws<HsmException>(() => keys.EnsureVersion(Target(library: "/var/run/xks/uploads/evil.so"), "k", 1, canEncrypt: true, canDecrypt: true));

        Assert.Equal(HsmException.LibraryNotAllowed, refused.Reason);
        Assert.Contains("PKCS#11 library /var/run/xks/uploads/evil.so is not one this operator loads", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EnsureVersion_ObjectAlreadyThere_IsAdoptedNotGeneratedAgain()
    {
        // A crash after the HSM made the object and before the Secret recorded it: the restarted operator (a new
        // instance, a new session) finds the label and adopts it.
        _keys.EnsureVersion(Target(), "k", 1, canEncrypt: true, canDecrypt: true);
        using var restarted = new Pkcs11HsmKeys(NullLogger<Pkcs11HsmKeys>.Instance, AnyLibrary);

        restarted.EnsureVersion(Target(), "k", 1, canEncrypt: true, canDecrypt: true);
        restarted.EnsureVersion(Target(), "k", 2, canEncrypt: true, canDecrypt: true);
        _keys.EnsureVersion(Target(), "k", 2, canEncrypt: true, canDecrypt: true);

        var objects = _hsm.WithSession(_token, _pin, session => new Xks.Pkcs11.Pkcs11KeyAdmin(session).FindSecretKeys(null).Count);
        Assert.Equal(2, objects);
        Assert.Equal([1, 2], _keys.ListVersions(Target(), "k").Select(v => v.Version));
    }

    [Fact]
    public void DestroyKey_DestroysEveryVersionOfThatKeyOnly()
    {
        _keys.EnsureVersion(Target(), "gone", 1, true, true);
        _keys.EnsureVersion(Target(), "gone", 2, true, true);
        _keys.EnsureVersion(Target(), "kept", 1, true, true);

        Assert.Equal(2, _keys.DestroyKey(Target(), "gone"));
        Assert.Equal(0, _keys.DestroyKey(Target(), "gone"));
        Assert.Empty(_keys.ListVersions(Target(), "gone"));
        Assert.Equal([1], _keys.ListVersions(Target(), "kept").Select(v => v.Version));
    }

    [Fact]
    public void Check_WrongPin_HsmUnavailableNamingThePinProblemNeverThePin()
    {
        var wrong = "wrong-" + Guid.NewGuid().ToString("N");

        var ex = Assert.Throws<HsmException>(() => _keys.Check(Target(pin: wrong)));

        Assert.Equal(HsmException.HsmUnavailable, ex.Reason);
        Assert.Contains("wrong PIN", ex.Message, StringComparison.Ordinal);
        Assert.Contains("CKR_PIN_INCORRECT", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(wrong, ex.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(_pin, ex.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Check_RightPinAfterAWrongOne_LogsIn()
    {
        Assert.Throws<HsmException>(() => _keys.Check(Target(pin: "0000")));

        Assert.Contains($"token '{_token}'", _keys.Check(Target()), StringComparison.Ordinal);
    }

    [Fact]
    public void Check_MissingLibrary_SaysItDoesNotExist()
    {
        var ex = Assert.Throws<HsmException>(() => _keys.Check(Target(library: "/nonexistent/libpkcs11.so")));

        Assert.Contains("PKCS#11 library '/nonexistent/libpkcs11.so' does not exist", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_UnknownToken_ListsTheTokensThere()
    {
        var ex = Assert.Throws<HsmException>(() => _keys.Check(Target(tokens: new ProxyPkcs11TokenModel("no-such-token", null, null))));

        Assert.Contains("no token 'no-such-token'", ex.Message, StringComparison.Ordinal);
        Assert.Contains(_token, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EnsureVersion_FirstTokenUnusable_UsesTheNextOne()
    {
        var target = Target(tokens: [new ProxyPkcs11TokenModel("no-such-token", null, null), new ProxyPkcs11TokenModel(_token, null, null)]);

        var version = _keys.EnsureVersion(target, "fallback", 1, true, true);

        Assert.Equal("fallback/v1", version.Label);
        Assert.Contains($"token '{_token}'", _keys.Check(target), StringComparison.Ordinal);
    }

    [Fact]
    public void Target_ToString_NeverShowsThePin() =>
        Assert.DoesNotContain(_pin, Target().ToString(), StringComparison.Ordinal);

    [Fact]
    public void SealedRoot_MadeSealedResealedAndRetired_TheOperatorNeverSeesAKeyAndTheBlobsFollowTheRoot()
    {
        const string Prefix = "xks-root/payments/xks";
        Assert.Empty(_keys.RootVersions(Target(), Prefix));

        Assert.Contains($"token '{_token}'", _keys.EnsureRoot(Target(), Prefix, 1), StringComparison.Ordinal);
        var blob = _keys.SealNewVersion(Target(), Prefix, 1, "payments-db-2f1c", 1);
        _keys.EnsureRoot(Target(), Prefix, 2);
        var resealed = _keys.Reseal(Target(), Prefix, "payments-db-2f1c", 1, blob, 2);

        Assert.Equal([1, 2], _keys.RootVersions(Target(), Prefix));
        Assert.True(Xks.Contracts.KeyWrap.SealedKey.TryParse(resealed, out var root, out _));
        Assert.Equal(2, root);
        Assert.Equal(1, _keys.DestroyRoot(Target(), Prefix, 1));
        Assert.Equal([2], _keys.RootVersions(Target(), Prefix));

        // The old blob names the destroyed root; a blob of another key id fails the integrity check.
        Assert.Equal(HsmException.RootKeyMissing, Assert.Throws<HsmException>(() => _keys.Reseal(Target(), Prefix, "payments-db-2f1c", 1, blob, 2)).Reason);
        Assert.Equal(HsmException.RootKeyConflict, Assert.Throws<HsmException>(() => _keys.Reseal(Target(), Prefix, "another-key", 1, resealed, 2)).Reason);
    }

    [Fact]
    public void SealNewVersion_NoRoot_IsRootKeyMissing()
    {
        var missing = Assert.Throws<HsmException>(() => _keys.SealNewVersion(Target(), "xks-root/payments/none", 1, "k", 1));

        Assert.Equal(HsmException.RootKeyMissing, missing.Reason);
        Assert.Contains("xks-root/payments/none/r1", missing.Message, StringComparison.Ordinal);
    }
}
