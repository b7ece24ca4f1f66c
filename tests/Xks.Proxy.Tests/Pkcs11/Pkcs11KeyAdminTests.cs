using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;
using Xks.Testing;

namespace Xks.Pkcs11.Tests;

/// <summary>Key-version objects on a SoftHSM2 token of this class's own, through a private module copy.</summary>
public sealed class Pkcs11KeyAdminTests : IDisposable
{
    private const string Pin = "2468";
    private readonly SoftHsm _hsm = SoftHsm.Shared;
    private readonly string _token = "admin-" + Guid.NewGuid().ToString("N")[..8];
    private readonly Pkcs11ModuleLease _lease;
    private readonly ISession _session;
    private readonly Pkcs11KeyAdmin _admin;

    public Pkcs11KeyAdminTests()
    {
        _hsm.InitToken(_token, Pin);
        _lease = Pkcs11Modules.Acquire(_hsm.CopyLibrary("admin"));
        _session = _lease.OpenUserSession(TokenSelector.ByLabel(_token), Pkcs11Pin.FromLiteral(Pin));
        _admin = new Pkcs11KeyAdmin(_session);
    }

    public void Dispose()
    {
        _session.Dispose();
        _lease.Dispose();
    }

    [Fact]
    public void EnsureVersion_NewKey_GeneratesASensitiveNeverExtractableAes256Key()
    {
        var version = _admin.EnsureVersion("payments", 1, canEncrypt: true, canDecrypt: true);

        Assert.Equal(new HsmKeyVersion("payments", 1, "payments/v1", "CKK_AES", 32, true, true, Sensitive: true, Extractable: false, NeverExtractable: true, Local: true, CanDerive: true), version);
        Assert.True(version.IsUsableAes256);
        var handle = Assert.Single(_admin.FindSecretKeys("payments/v1"));
        var flags = _session.GetAttributeValue(handle, [CKA.CKA_SIGN, CKA.CKA_VERIFY, CKA.CKA_WRAP, CKA.CKA_UNWRAP, CKA.CKA_DERIVE, CKA.CKA_NEVER_EXTRACTABLE, CKA.CKA_PRIVATE, CKA.CKA_ID]);
        // CKA_DERIVE is on: the proxy derives its per-process sub-keys from the version key (C_DeriveKey, AES-ECB of two blocks).
        Assert.Equal([false, false, false, false, true, true, true], flags.Take(7).Select(a => a.GetValueAsBool()));
        Assert.Equal("payments/v1"u8.ToArray(), flags[7].GetValueAsByteArray());
    }

    [Fact]
    public void EnsureVersion_Twice_AdoptsTheExistingObject()
    {
        _admin.EnsureVersion("orders", 1, canEncrypt: true, canDecrypt: false);
        var again = _admin.EnsureVersion("orders", 1, canEncrypt: true, canDecrypt: true);

        Assert.Single(_admin.FindSecretKeys("orders/v1"));
        Assert.False(again.CanDecrypt);
    }

    [Fact]
    public void EnsureVersion_ImportedKnownValueKeyUnderTheLabel_IsRefusedAndNothingIsGenerated()
    {
        // Somebody sharing the token plants a key whose bytes they know, under the label the next version would take.
        var attributes = _session.Factories.ObjectAttributeFactory;
        _session.CreateObject(
        [
            attributes.Create(CKA.CKA_CLASS, CKO.CKO_SECRET_KEY), attributes.Create(CKA.CKA_KEY_TYPE, CKK.CKK_AES),
            attributes.Create(CKA.CKA_TOKEN, true), attributes.Create(CKA.CKA_LABEL, "payments/v2"),
            attributes.Create(CKA.CKA_VALUE, new byte[32]), attributes.Create(CKA.CKA_ENCRYPT, true), attributes.Create(CKA.CKA_DECRYPT, true),
            attributes.Create(CKA.CKA_SENSITIVE, true), attributes.Create(CKA.CKA_EXTRACTABLE, false),
        ]);

        var refused = Assert.Throws<Pkcs11KeyConflictException>(() => _admin.EnsureVersion("payments", 2, canEncrypt: true, canDecrypt: true));

        Assert.Contains("object 'payments/v2' is not a key generated in the token that never left it", refused.Message, StringComparison.Ordinal);
        Assert.Contains("local False", refused.Message, StringComparison.Ordinal);
        Assert.Single(_admin.FindSecretKeys("payments/v2"));
    }

    [Fact]
    public void EnsureVersion_TwoObjectsUnderTheLabel_IsRefusedWhicheverIsGenuine()
    {
        _admin.EnsureVersion("ledger", 1, canEncrypt: true, canDecrypt: true);
        _session.GenerateKey(_session.Factories.MechanismFactory.Create(CKM.CKM_AES_KEY_GEN),
            AesKeyTemplate.ForVersion(_session.Factories.ObjectAttributeFactory, "ledger", 1, canEncrypt: true, canDecrypt: true));

        var refused = Assert.Throws<Pkcs11KeyConflictException>(() => _admin.EnsureVersion("ledger", 1, canEncrypt: true, canDecrypt: true));

        Assert.StartsWith("2 secret-key objects are labelled 'ledger/v1'", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ListKeys_SeveralKeysAndVersions_GroupsThemAndIgnoresOtherLabels()
    {
        _admin.EnsureVersion("a", 2, true, true);
        _admin.EnsureVersion("a", 1, true, true);
        _admin.EnsureVersion("b", 1, true, false);
        _session.GenerateKey(_session.Factories.MechanismFactory.Create(CKM.CKM_AES_KEY_GEN),
            AesKeyTemplate.ForLabel(_session.Factories.ObjectAttributeFactory, KeyLabels.HealthKey, true, true));

        var keys = _admin.ListKeys();

        Assert.Equal(["a", "b"], keys.Keys.Order(StringComparer.Ordinal));
        Assert.Equal([1, 2], keys["a"].Select(v => v.Version));
        Assert.Equal([1, 2], _admin.ListVersions("a").Select(v => v.Version));
        Assert.Empty(_admin.ListVersions("c"));
    }

    [Fact]
    public void SetEnabled_FalseThenTrue_ClearsAndRestoresEncryptAndDecrypt()
    {
        _admin.EnsureVersion("toggle", 1, true, true);
        _admin.EnsureVersion("toggle", 2, true, true);
        _admin.EnsureVersion("other", 1, true, true);

        Assert.Equal(2, _admin.SetEnabled("toggle", false));
        Assert.All(_admin.ListVersions("toggle"), v => Assert.True(v.IsDisabled));
        Assert.False(_admin.ListVersions("other").Single().IsDisabled);

        _admin.SetEnabled("toggle", true, canEncrypt: true, canDecrypt: false);
        Assert.All(_admin.ListVersions("toggle"), v => Assert.True(v.CanEncrypt && !v.CanDecrypt));
    }

    [Fact]
    public void DestroyKey_SeveralVersions_DestroysThemAllAndNothingElse()
    {
        _admin.EnsureVersion("gone", 1, true, true);
        _admin.EnsureVersion("gone", 2, true, true);
        _admin.EnsureVersion("gone-not", 1, true, true);

        Assert.Equal(2, _admin.DestroyKey("gone"));

        Assert.Empty(_admin.ListVersions("gone"));
        Assert.Single(_admin.ListVersions("gone-not"));
        Assert.Equal(0, _admin.DestroyKey("gone"));
    }

    [Fact]
    public void Describe_WrongKeyType_IsNotUsable()
    {
        var factory = _session.Factories.ObjectAttributeFactory;
        var handle = _session.GenerateKey(_session.Factories.MechanismFactory.Create(CKM.CKM_GENERIC_SECRET_KEY_GEN),
        [
            factory.Create(CKA.CKA_CLASS, CKO.CKO_SECRET_KEY), factory.Create(CKA.CKA_KEY_TYPE, CKK.CKK_GENERIC_SECRET),
            factory.Create(CKA.CKA_VALUE_LEN, 32UL), factory.Create(CKA.CKA_TOKEN, true), factory.Create(CKA.CKA_LABEL, "generic/v1"),
        ]);

        var version = Pkcs11KeyAdmin.Describe(_session, handle);

        Assert.False(version.IsUsableAes256);
        Assert.Equal("object 'generic/v1' is CKK_GENERIC_SECRET with 256 bits, not AES-256", version.Problem);
    }

    [Fact]
    public void ListKeys_KeyWithoutAValueLength_IsListedAsNotUsable()
    {
        // DES3 keys have no CKA_VALUE_LEN: reading it must not fail the listing of the whole token.
        var factory = _session.Factories.ObjectAttributeFactory;
        _session.GenerateKey(_session.Factories.MechanismFactory.Create(CKM.CKM_DES3_KEY_GEN),
        [
            factory.Create(CKA.CKA_CLASS, CKO.CKO_SECRET_KEY), factory.Create(CKA.CKA_KEY_TYPE, CKK.CKK_DES3),
            factory.Create(CKA.CKA_TOKEN, true), factory.Create(CKA.CKA_LABEL, "legacy/v1"),
        ]);
        _admin.EnsureVersion("modern", 1, true, true);

        var keys = _admin.ListKeys();

        var legacy = Assert.Single(keys["legacy"]);
        Assert.Equal(("CKK_DES3", 0, false), (legacy.KeyType, legacy.ValueLength, legacy.IsUsableAes256));
        Assert.True(Assert.Single(keys["modern"]).IsUsableAes256);
    }

    [Fact]
    public void Pkcs11Tool_ListObjects_ShowsOnlySensitiveNeverExtractableAes256SecretKeys()
    {
        _admin.EnsureVersion("listed", 1, true, true);
        _admin.EnsureVersion("listed", 2, true, false);

        var output = _hsm.RunPkcs11Tool("--token-label", _token, "--login", "--pin", Pin, "--list-objects");

        var objects = output.Split("\n", StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith(' ') && !l.StartsWith('\t')).ToList();
        Assert.Equal(2, objects.Count);
        Assert.All(objects, o => Assert.StartsWith("Secret Key Object; AES length 32", o, StringComparison.Ordinal));
        Assert.Contains("label:      listed/v1", output, StringComparison.Ordinal);
        Assert.Contains("label:      listed/v2", output, StringComparison.Ordinal);
        Assert.Contains("Access:     sensitive, always sensitive, never extractable, local", output, StringComparison.Ordinal);
        Assert.DoesNotContain("extractable,", output.Replace("never extractable", "", StringComparison.Ordinal), StringComparison.Ordinal);
    }
}
