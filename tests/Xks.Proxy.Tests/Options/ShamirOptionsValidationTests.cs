using System.Security.Cryptography;
using Xks.Contracts.KeyCustody;
using Xks.Contracts.KeyWrap;
using Xks.Contracts.ProxyConfig;
using Xks.Proxy.Tests.Support;

namespace Xks.Proxy.Options.Tests;

/// <summary>backend.software.shamir as the loader validates it: every problem listed at once, under its field.</summary>
public sealed class ShamirOptionsValidationTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("xks-shamir-options-").FullName;
    private readonly ShamirTestVault _vault = new();

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private ConfigurationLoadResult Load(Action<ProxyConfigBuilder> configure, IReadOnlyList<(int, string)>? versions = null, ConfigurationOverrides? overrides = null)
    {
        var builder = new ProxyConfigBuilder { CreateMissingKeys = false, ShamirKeyring = _vault.Keyring };
        configure(builder);
        builder.Key("k", versions: versions ?? [(1, ShamirTestVault.Derived(1))]);
        return ProxyConfigurationLoader.LoadText(builder.Build(8080, "/var/lib/xks-proxy", Path.Combine(_directory, "audit.log")), _directory, overrides: overrides);
    }

    private ConfigurationLoadResult LoadYaml(string shamirBlock, string versionsYaml = "")
    {
        var yaml = new ProxyConfigBuilder { CreateMissingKeys = false }
            .Key("k", versions: [(1, ShamirTestVault.Derived(1))])
            .Build(8080, "/var/lib/xks-proxy", Path.Combine(_directory, "audit.log"));
        return ProxyConfigurationLoader.LoadText(yaml + shamirBlock + versionsYaml, _directory);
    }

    [Fact]
    public void LoadText_CompleteShamirBlock_IsValid_AndCarriesTheKeyring()
    {
        var result = Load(b => b.ShamirAdminPort = 9555);

        Assert.Empty(result.Problems);
        var shamir = result.Configuration!.Options.Backend.Software!.Shamir!;
        Assert.Equal(9555, shamir.AdminPort);
        Assert.Equal(_vault.Keyring.Serialize(), ShamirKeyring.FromDocument(shamir.Keyring!).Serialize());
        Assert.Equal(DerivedKey.Base64Length, result.Configuration.Options.KeyStores[0].Keys[0].Versions[0].WrappedMaterial!.Length);
    }

    [Fact]
    public void LoadText_KeyringWrittenAsAYamlBlock_IsReadLikeItsJson()
    {
        var root = _vault.Keyring.Roots[0];
        var result = LoadYaml($"""
                shamir:
                  adminPort: 9444
                  keyring:
                    vaultId: payments_xks
                    threshold: 3
                    shares: 5
                    unsealKeyCheckValue: "{_vault.Keyring.UnsealKeyCheckValue}"
                    currentRoot: 1
                    roots:
                      - version: 1
                        keyCheckValue: "{root.KeyCheckValue}"
                        sealed: "{root.Sealed}"

            """);

        Assert.Empty(result.Problems);
        Assert.Equal(_vault.Keyring.Serialize(), ShamirKeyring.FromDocument(result.Configuration!.Options.Backend.Software!.Shamir!.Keyring!).Serialize());
        Assert.Equal(SoftwareShamirOptions.DefaultAdminPort, result.Configuration.Options.Backend.Software!.Shamir!.AdminPort);
    }

    [Fact]
    public void LoadText_ShamirWithAMasterKeyFileSealingAndCreateMissingKeys_ListsEveryProblem()
    {
        var masterKey = Path.Combine(_directory, "master.key");
        File.WriteAllBytes(masterKey, RandomNumberGenerator.GetBytes(32));
        var library = Xks.Testing.SoftHsm.FindLibrary();

        var result = Load(b =>
        {
            b.CreateMissingKeys = null;
            b.MasterKeyFile = masterKey;
            b.Sealing = $"rootLabelPrefix: p\nlibrary: {library}\ntokens: [{{label: a}}]\npin: \"1\"\n";
        });

        Assert.Equal(
        [
            "backend.software.sealing: requires backend.software.createMissingKeys: false (the operator provides every key version, sealed by the HSM; the proxy creates none)",
            "backend.software.shamir: cannot be combined with backend.software.masterKeyFile: exactly one of masterKeyFile, sealing and shamir says where the root keys come from",
            "backend.software.shamir: cannot be combined with backend.software.sealing: exactly one of masterKeyFile, sealing and shamir says where the root keys come from",
            "backend.software.shamir: requires backend.software.createMissingKeys: false (the operator provides every key version, derived from the Vault's root keys; the proxy creates none)",
        ], result.Problems);
    }

    [Fact]
    public void LoadText_InvalidKeyring_ListsItsProblemsUnderTheirField()
    {
        var document = _vault.Keyring.ToDocument();
        document.Threshold = 1;
        document.Roots[0].Sealed = "AAAA";
        document.CurrentRoot = 3;
        var yamlKeyring = System.Text.Json.JsonSerializer.Serialize(document, ShamirKeyringJsonContext.Default.ShamirKeyringDocument);

        var result = LoadYaml($"    shamir:\n      keyring: {yamlKeyring}\n");

        Assert.Equal(
        [
            "backend.software.shamir.keyring.threshold: must be from 2 to 255 (got 1)",
            "backend.software.shamir.keyring.roots[0].sealed: must be standard Base64 of 60 bytes (iv 12, sealed root 32, tag 16), 80 characters (got 4 characters)",
            "backend.software.shamir.keyring.currentRoot: 3 is not a listed root version (the roots are 1)",
        ], result.Problems);
    }

    [Fact]
    public void LoadText_ShamirWithoutAKeyring_IsAProblem()
    {
        var result = LoadYaml("    shamir:\n      adminPort: 9444\n");

        Assert.Equal(["backend.software.shamir.keyring: required (the Vault's root keys sealed under its unseal key)"], result.Problems);
    }

    [Theory]
    [InlineData(0, 0, "backend.software.shamir.adminPort: 0 is not a TCP port (1-65535)")]
    [InlineData(70000, 0, "backend.software.shamir.adminPort: 70000 is not a TCP port (1-65535)")]
    [InlineData(8080, 0, "backend.software.shamir.adminPort: must differ from server.port (8080)")]
    [InlineData(9090, 9090, "backend.software.shamir.adminPort: must differ from server.metricsPort (9090)")]
    public void LoadText_BadAdminPort_IsAProblem(int adminPort, int metricsPort, string problem)
    {
        var yaml = new ProxyConfigBuilder { CreateMissingKeys = false, MetricsPort = metricsPort, ShamirKeyring = _vault.Keyring }
            .Key("k", versions: [(1, ShamirTestVault.Derived(1))])
            .Build(8080, "/var/lib/xks-proxy", Path.Combine(_directory, "audit.log"));

        var result = ProxyConfigurationLoader.LoadText(yaml + $"      adminPort: {adminPort}\n", _directory);

        Assert.Equal([problem], result.Problems);
    }

    [Fact]
    public void LoadText_DerivedVersionWithoutShamir_IsAProblem_AndWrappedVersionsStayValidWithShamir()
    {
        var withoutShamir = Load(b =>
        {
            b.ShamirKeyring = null;
            b.CreateMissingKeys = null;
        });
        var mixed = Load(_ => { }, versions: [(1, _vault.Wrapped("k", 1, RandomNumberGenerator.GetBytes(32))), (2, ShamirTestVault.Derived(1))]);

        Assert.Equal(["keyStores[0].keys[0].versions[0].wrappedMaterial: derived from a Shamir root key (format 4), which needs backend.software.shamir (no master key unwraps it; only an unsealed proxy derives it)"], withoutShamir.Problems);
        Assert.Empty(mixed.Problems);
    }

    [Fact]
    public void LoadText_DerivedVersionWithRootVersionZero_IsAProblem()
    {
        var blob = DerivedKey.Create(1);
        blob[1] = 0;

        var result = Load(_ => { }, versions: [(1, Convert.ToBase64String(blob))]);

        Assert.Equal(["keyStores[0].keys[0].versions[0].wrappedMaterial: must be standard Base64 of a derived key (34 bytes, 48 characters, format 4): it is not a derived key: its root version is 0 (versions start at 1)"], result.Problems);
    }

    [Fact]
    public void LoadText_AdminPortOverride_ReplacesTheConfiguredPort_AndLeavesOtherBackendsAlone()
    {
        var overrides = new ConfigurationOverrides { AdminPort = 19444 };

        var shamir = Load(b => b.ShamirAdminPort = 9444, overrides: overrides);
        var plain = ProxyConfigurationLoader.LoadText(new ProxyConfigBuilder().Key("k").Build(8080, Path.Combine(_directory, "data"), Path.Combine(_directory, "audit.log")), _directory, overrides: overrides);

        Assert.Empty(shamir.Problems);
        Assert.Equal(19444, shamir.Configuration!.Options.Backend.Software!.Shamir!.AdminPort);
        Assert.Empty(plain.Problems);
        Assert.Null(plain.Configuration!.Options.Backend.Software!.Shamir);
        Assert.False(overrides.IsEmpty);
    }

    [Fact]
    public void Render_ShamirBlock_RoundTripsThroughTheYaml()
    {
        var options = new ProxyOptions
        {
            Backend = new BackendOptions
            {
                Software = new SoftwareBackendOptions
                {
                    DataDir = "/var/lib/xks-proxy",
                    CreateMissingKeys = false,
                    Shamir = new SoftwareShamirOptions { Keyring = _vault.Keyring.ToDocument(), AdminPort = 9444 },
                },
            },
        };

        var yaml = ProxyConfigYaml.Render(options);
        var parsed = ProxyConfigYaml.Parse(yaml).Options!.Backend.Software!.Shamir!;

        Assert.Contains("    shamir:\n      keyring:\n        vaultId: payments_xks\n        threshold: 3\n        shares: 5\n", yaml, StringComparison.Ordinal);
        Assert.Contains("      adminPort: 9444\n", yaml, StringComparison.Ordinal);
        Assert.Equal(_vault.Keyring.Serialize(), ShamirKeyring.FromDocument(parsed.Keyring!).Serialize());
        Assert.Equal("SoftwareShamirOptions { VaultId = payments_xks, Roots = 1, AdminPort = 9444 }", parsed.ToString());
    }
}
