using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Abstractions;
using Xks.Contracts.KeyCustody;
using Xks.Contracts.ProxyConfig;
using Xks.Proxy.Options;
using Xks.Proxy.Tests.Support;

namespace Xks.Proxy.Crypto.Software.Tests;

/// <summary>
/// The software backend with <c>shamir</c>: sealed at start, unsealed by the combined unseal key, format-4 versions
/// derived and format-2 versions unwrapped under the keyring's roots, a new root opened on reload without a new unseal,
/// and a re-initialised keyring sealing it again.
/// </summary>
public sealed class SoftwareKeyBackendShamirTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("xks-shamir-backend-").FullName;
    private readonly ShamirTestVault _vault = new();
    private readonly byte[] _wrappedMaterial = RandomNumberGenerator.GetBytes(32);
    private readonly string _derivedV1 = ShamirTestVault.Derived(1);
    private readonly string _wrappedV2;

    public SoftwareKeyBackendShamirTests() => _wrappedV2 = _vault.Wrapped("orders", 2, _wrappedMaterial);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string DataDir => Path.Combine(_root, "data");

    private SoftwareKeyBackend NewBackend() =>
        new(new SoftwareBackendOptions { DataDir = DataDir, CreateMissingKeys = false, Shamir = new SoftwareShamirOptions { Keyring = _vault.Keyring.ToDocument() } },
            NullLogger<SoftwareKeyBackend>.Instance, TimeProvider.System);

    private ProxyConfiguration Config(ShamirKeyring? keyring = null, Action<ProxyConfigBuilder>? keys = null)
    {
        var builder = new ProxyConfigBuilder { CreateMissingKeys = false, ShamirKeyring = keyring ?? _vault.Keyring };
        if (keys is null)
        {
            builder.Key("orders", versions: [(1, _derivedV1), (2, _wrappedV2)]);
        }
        else
        {
            keys(builder);
        }

        var result = ProxyConfigurationLoader.LoadText(builder.Build(8080, DataDir, Path.Combine(_root, "audit.log")), _root);
        Assert.True(result.Succeeded, string.Join("; ", result.Problems));
        return result.Configuration!;
    }

    private static string Status(SoftwareKeyBackend backend) => Assert.Single(backend.CheckHealth()).HealthStatus;

    [Fact]
    public void Apply_AtStart_IsSealed_EveryKeyUnusable_AndHealthUnavailable()
    {
        using var backend = NewBackend();

        backend.Apply(Config());

        var lookup = backend.Find("orders");
        Assert.Equal(KeyLookupStatus.Unusable, lookup.Status);
        Assert.Contains("version 1 waits for the unseal", lookup.Problem, StringComparison.Ordinal);
        Assert.True(backend.IsSealed);
        Assert.True(backend.IsShamir);
        Assert.Equal("the proxy is sealed: 3 of the 5 custodians of Vault 'payments_xks' must give their unseal shares (xks-proxy admin unseal, through the admin port 9444); 1 key(s) wait for them", backend.SealedProblem);
        Assert.Equal("UNAVAILABLE", Status(backend));
        Assert.Equal(_vault.Keyring.Serialize(), backend.Keyring!.Serialize());
        Assert.False(Directory.Exists(DataDir), "nothing is written in Shamir mode");
    }

    [Fact]
    public void Unseal_TheVaultsUnsealKey_ServesFormat4AndFormat2Versions_AndHealthIsActive()
    {
        using var backend = NewBackend();
        backend.Apply(Config());

        var outcome = backend.Unseal(_vault.UnsealKey, out var problem);

        Assert.Equal(ShamirUnsealOutcome.Unsealed, outcome);
        Assert.Null(problem);
        Assert.False(backend.IsSealed);
        Assert.Null(backend.SealedProblem);
        var key = backend.Find("orders").Key!;
        Assert.Equal(2, key.CurrentVersion);
        BackendKeyAssert.VersionKeyIs(key, 1, _vault.DerivedKeyOf("orders", 1, _derivedV1));
        BackendKeyAssert.VersionKeyIs(key, 2, _wrappedMaterial);
        Assert.Equal("ACTIVE", Status(backend));
        Assert.Equal(_vault.UnsealKey, backend.HeldUnsealKeyForTests);
    }

    [Fact]
    public void Unseal_Twice_SecondIsAlreadyUnsealed()
    {
        using var backend = NewBackend();
        backend.Apply(Config());
        backend.Unseal(_vault.UnsealKey, out _);

        Assert.Equal(ShamirUnsealOutcome.AlreadyUnsealed, backend.Unseal(RandomNumberGenerator.GetBytes(32), out var problem));
        Assert.Null(problem);
        Assert.False(backend.IsSealed);
    }

    [Fact]
    public void Unseal_AnotherKey_IsWrongShares_AndStaysSealed()
    {
        using var backend = NewBackend();
        backend.Apply(Config());

        var outcome = backend.Unseal(RandomNumberGenerator.GetBytes(32), out var problem);

        Assert.Equal(ShamirUnsealOutcome.WrongShares, outcome);
        Assert.Equal("the shares do not reconstruct this Vault's unseal key", problem);
        Assert.True(backend.IsSealed);
        Assert.Equal(KeyLookupStatus.Unusable, backend.Find("orders").Status);
        Assert.Null(backend.HeldUnsealKeyForTests);
    }

    [Fact]
    public void Unseal_KeyringWithATamperedRoot_IsKeyringUnusable_AndStaysSealed()
    {
        var document = _vault.Keyring.ToDocument();
        var sealedRoot = Convert.FromBase64String(document.Roots[0].Sealed);
        sealedRoot[30] ^= 0x01;
        document.Roots[0].Sealed = Convert.ToBase64String(sealedRoot);
        using var backend = NewBackend();
        backend.Apply(Config(ShamirKeyring.FromDocument(document)));

        var outcome = backend.Unseal(_vault.UnsealKey, out var problem);

        Assert.Equal(ShamirUnsealOutcome.KeyringUnusable, outcome);
        Assert.StartsWith("root key version 1 fails its integrity check under the unseal key", problem, StringComparison.Ordinal);
        Assert.True(backend.IsSealed);
    }

    [Fact]
    public void Reload_KeyringWithANewRootWhileUnsealed_OpensIt_WithoutASecondUnseal()
    {
        using var backend = NewBackend();
        backend.Apply(Config());
        backend.Unseal(_vault.UnsealKey, out _);
        var rotated = _vault.AddRoot();
        var derivedV3 = ShamirTestVault.Derived(2);

        backend.Apply(Config(rotated, b => b.Key("orders", versions: [(1, _derivedV1), (2, _wrappedV2), (3, derivedV3)])));

        Assert.False(backend.IsSealed);
        var key = backend.Find("orders").Key!;
        Assert.Equal(3, key.CurrentVersion);
        BackendKeyAssert.VersionKeyIs(key, 3, _vault.DerivedKeyOf("orders", 3, derivedV3));
        BackendKeyAssert.VersionKeyIs(key, 1, _vault.DerivedKeyOf("orders", 1, _derivedV1));
        BackendKeyAssert.VersionKeyIs(key, 2, _wrappedMaterial);
        Assert.Equal([1, 2], backend.Keyring!.RootVersions);
        Assert.Equal("ACTIVE", Status(backend));
    }

    [Fact]
    public void Reload_KeyringWithANewRootWhileSealed_IsUnsealedWithIt()
    {
        using var backend = NewBackend();
        backend.Apply(Config());
        var rotated = _vault.AddRoot();
        var derivedV3 = ShamirTestVault.Derived(2);
        backend.Apply(Config(rotated, b => b.Key("orders", versions: [(1, _derivedV1), (3, derivedV3)])));

        Assert.Equal(ShamirUnsealOutcome.Unsealed, backend.Unseal(_vault.UnsealKey, out _));

        BackendKeyAssert.VersionKeyIs(backend.Find("orders").Key!, 3, _vault.DerivedKeyOf("orders", 3, derivedV3));
    }

    [Fact]
    public void Reload_ReinitialisedKeyring_SealsAgain_AndForgetsTheUnsealKey()
    {
        using var backend = NewBackend();
        backend.Apply(Config());
        backend.Unseal(_vault.UnsealKey, out _);
        var held = backend.HeldUnsealKeyForTests!;
        var other = new ShamirTestVault();
        var derived = ShamirTestVault.Derived(1);

        backend.Apply(Config(other.Keyring, b => b.Key("orders", versions: [(1, derived)])));

        Assert.True(backend.IsSealed);
        Assert.Equal(KeyLookupStatus.Unusable, backend.Find("orders").Status);
        Assert.Equal("UNAVAILABLE", Status(backend));
        Assert.All(held, b => Assert.Equal(0, b));
        Assert.Null(backend.HeldUnsealKeyForTests);
        Assert.Equal(ShamirUnsealOutcome.WrongShares, backend.Unseal(_vault.UnsealKey, out _));
        Assert.Equal(ShamirUnsealOutcome.Unsealed, backend.Unseal(other.UnsealKey, out _));
        BackendKeyAssert.VersionKeyIs(backend.Find("orders").Key!, 1, other.DerivedKeyOf("orders", 1, derived));
    }

    [Fact]
    public void Reload_NewRootThatDoesNotOpenWhileUnsealed_IsRefused_AndThePreviousKeyringKeepsServing()
    {
        using var backend = NewBackend();
        backend.Apply(Config());
        backend.Unseal(_vault.UnsealKey, out _);
        var document = _vault.AddRoot().ToDocument();
        document.Roots[1].KeyCheckValue = "0000000000000000";

        var ex = Assert.Throws<InvalidOperationException>(() => backend.Apply(Config(ShamirKeyring.FromDocument(document))));

        Assert.Equal("the keyring of Vault 'payments_xks' cannot be opened with the unseal key this proxy holds: root key version 2 does not match its recorded key-check value 0000000000000000: the keyring was altered; the previous keyring keeps serving", ex.Message);
        Assert.False(backend.IsSealed);
        Assert.Equal([1], backend.Keyring!.RootVersions);
        BackendKeyAssert.VersionKeyIs(backend.Find("orders").Key!, 1, _vault.DerivedKeyOf("orders", 1, _derivedV1));
    }

    [Fact]
    public void Apply_DerivedVersionOfARootTheKeyringLacks_MakesThatKeyUnusableOnly()
    {
        using var backend = NewBackend();
        backend.Apply(Config(keys: b => b
            .Key("orders", versions: [(1, _derivedV1)])
            .Key("future", versions: [(1, ShamirTestVault.Derived(2))])));

        backend.Unseal(_vault.UnsealKey, out _);

        Assert.False(backend.IsSealed);
        Assert.Equal(KeyLookupStatus.Found, backend.Find("orders").Status);
        var future = backend.Find("future");
        Assert.Equal(KeyLookupStatus.Unusable, future.Status);
        Assert.Equal("key 'future' (versions in the configuration): version 1 is derived from root key version 2, which is not in the ring (it holds version 1)", future.Problem);
    }

    [Fact]
    public void Dispose_ZeroesTheUnsealKey()
    {
        var backend = NewBackend();
        backend.Apply(Config());
        backend.Unseal(_vault.UnsealKey, out _);
        var held = backend.HeldUnsealKeyForTests!;

        backend.Dispose();

        Assert.All(held, b => Assert.Equal(0, b));
    }

    [Fact]
    public void Constructor_ShamirWithCreateMissingKeysOrAMasterKeyFile_IsRefused()
    {
        var shamir = new SoftwareShamirOptions { Keyring = _vault.Keyring.ToDocument() };

        var create = Assert.Throws<InvalidOperationException>(() => new SoftwareKeyBackend(
            new SoftwareBackendOptions { DataDir = DataDir, CreateMissingKeys = true, Shamir = shamir }, NullLogger<SoftwareKeyBackend>.Instance, TimeProvider.System));
        var masterKey = Assert.Throws<InvalidOperationException>(() => new SoftwareKeyBackend(
            new SoftwareBackendOptions { DataDir = DataDir, CreateMissingKeys = false, MasterKeyFile = "/x/master.key", Shamir = shamir }, NullLogger<SoftwareKeyBackend>.Instance, TimeProvider.System));

        Assert.StartsWith("backend.software.shamir requires createMissingKeys: false", create.Message, StringComparison.Ordinal);
        Assert.StartsWith("backend.software.shamir cannot be combined with masterKeyFile or sealing", masterKey.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unseal_BackendNotInShamirMode_Throws()
    {
        using var backend = new SoftwareKeyBackend(new SoftwareBackendOptions { DataDir = DataDir }, NullLogger<SoftwareKeyBackend>.Instance, TimeProvider.System);

        Assert.Throws<InvalidOperationException>(() => backend.Unseal(_vault.UnsealKey, out _));
        Assert.False(backend.IsShamir);
    }
}
