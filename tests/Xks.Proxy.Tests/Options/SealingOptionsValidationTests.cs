using System.Security.Cryptography;
using Xks.Contracts.KeyWrap;
using Xks.Contracts.ProxyConfig;
using Xks.Proxy.Tests.Support;
using Xks.Testing;

namespace Xks.Proxy.Options.Tests;

/// <summary>backend.software.sealing (HsmSealed) as the loader validates it: every problem listed at once, the PIN never quoted.</summary>
public sealed class SealingOptionsValidationTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("xks-sealing-options-").FullName;
    private readonly string _library = SoftHsm.FindLibrary();

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static string Sealed(string keyId, int version, int rootVersion = 1) =>
        Convert.ToBase64String(SealedKey.SealWithRoot(RandomNumberGenerator.GetBytes(32), rootVersion, keyId, version, RandomNumberGenerator.GetBytes(32)));

    private ConfigurationLoadResult Load(string? sealing, bool? createMissingKeys = false, IReadOnlyList<(int, string)>? versions = null, ConfigurationOverrides? overrides = null)
    {
        var builder = new ProxyConfigBuilder { Sealing = sealing, CreateMissingKeys = createMissingKeys };
        builder.Key("k", versions: versions ?? [(1, Sealed("k", 1))]);
        return ProxyConfigurationLoader.LoadText(builder.Build(8080, "/var/lib/xks-proxy", Path.Combine(_directory, "audit.log")), _directory, overrides: overrides);
    }

    [Fact]
    public void LoadText_CompleteSealingBlockWithoutMasterKey_IsValid()
    {
        var pinFile = Path.Combine(_directory, "pin");
        File.WriteAllText(pinFile, "1234\n");

        var result = Load($"""
            rootLabelPrefix: xks/payments
            library: {_library}
            tokens:
              - label: a
              - serial: "0123"
                library: {_library}
            pinFile: {pinFile}
            """);

        Assert.Empty(result.Problems);
        var software = result.Configuration!.Options.Backend.Software!;
        Assert.Null(software.MasterKeyFile);
        Assert.False(software.CreateMissingKeys);
        var sealing = software.Sealing!;
        Assert.Equal(("xks/payments", _library, pinFile), (sealing.RootLabelPrefix, sealing.Library, sealing.PinFile));
        Assert.Equal(["a", null], sealing.Tokens.Select(t => t.Label));
        Assert.Equal("0123", sealing.Tokens[1].Serial);
        Assert.Equal(SealedKey.Base64Length, result.Configuration.Options.KeyStores[0].Keys[0].Versions[0].WrappedMaterial!.Length);
    }

    [Fact]
    public void LoadText_EverySealingMistake_IsListedWithoutThePin()
    {
        var result = Load("""
            library: /nonexistent/libpkcs11.so
            tokens:
              - label: a
                slot: 1
              - label: b
                library: /nonexistent/other.so
              - label: b
            pin: "secret-pin-4711"
            pinFile: /nonexistent/pin
            """, createMissingKeys: null);

        Assert.Equal(
        [
            "backend.software.sealing: requires backend.software.createMissingKeys: false (the operator provides every key version, sealed by the HSM; the proxy creates none)",
            "backend.software.sealing.rootLabelPrefix: required (the root keys are the token objects '<prefix>/r<n>')",
            "backend.software.sealing.library: PKCS#11 library '/nonexistent/libpkcs11.so' does not exist",
            "backend.software.sealing.tokens[0]: set exactly one of label, slot and serial",
            "backend.software.sealing.tokens[1].library: PKCS#11 library '/nonexistent/other.so' does not exist",
            "backend.software.sealing: set exactly one of pin, pinFile and pinEnvironmentVariable",
        ], result.Problems);
        Assert.DoesNotContain(result.Problems, p => p.Contains("secret-pin-4711", StringComparison.Ordinal));
    }

    [Fact]
    public void LoadText_NoTokensNoLibraryAndAnUnsetPinVariable_AreProblems()
    {
        var none = Load("rootLabelPrefix: p\ntokens: []\npinEnvironmentVariable: XKS_TEST_UNSET_SEALING_PIN\n");
        var twice = Load($"rootLabelPrefix: p\nlibrary: {_library}\ntokens:\n  - label: a\n  - label: a\npin: \"1\"\n");

        Assert.Equal(
        [
            "backend.software.sealing.library: required (the PKCS#11 module, e.g. /usr/lib/softhsm/libsofthsm2.so)",
            "backend.software.sealing.tokens: list 1 to 10 tokens (got 0)",
            "backend.software.sealing.pinEnvironmentVariable: environment variable 'XKS_TEST_UNSET_SEALING_PIN' is not set",
        ], none.Problems);
        Assert.Equal(["backend.software.sealing.tokens[1]: the same token as tokens[0]"], twice.Problems);
    }

    [Fact]
    public void LoadText_SealedVersionWithoutSealing_IsAProblem_AndWrappedVersionsStayValidWithSealing()
    {
        var withoutSealing = Load(sealing: null, createMissingKeys: null);
        var mixed = Load($"rootLabelPrefix: p\nlibrary: {_library}\ntokens: [{{label: a}}]\npin: \"1\"\n",
            versions: [(1, WrappedKeyVersions.Wrap(RandomNumberGenerator.GetBytes(32), "k", 1)), (2, Sealed("k", 2))]);

        Assert.Equal(["keyStores[0].keys[0].versions[0].wrappedMaterial: sealed by the HSM (format 3), which needs backend.software.sealing (no master key unwraps it)"], withoutSealing.Problems);
        Assert.Empty(mixed.Problems);
    }

    [Fact]
    public void LoadText_SealedVersionWithRootVersionZero_IsAProblem()
    {
        var blob = SealedKey.SealWithRoot(RandomNumberGenerator.GetBytes(32), 1, "k", 1, RandomNumberGenerator.GetBytes(32));
        blob[1] = 0;

        var result = Load($"rootLabelPrefix: p\nlibrary: {_library}\ntokens: [{{label: a}}]\npin: \"1\"\n", versions: [(1, Convert.ToBase64String(blob))]);

        Assert.Equal(["keyStores[0].keys[0].versions[0].wrappedMaterial: must be standard Base64 of a sealed key (42 bytes, 56 characters, format 3): it is not a sealed key: its root version is 0 (versions start at 1)"], result.Problems);
    }

    [Fact]
    public void LoadText_VolumeRoot_MovesTheSealingPinFileButNeverTheLibrary()
    {
        var pinFile = Path.Combine(_directory, "var", "run", "xks", "hsm-pin", "pin");
        Directory.CreateDirectory(Path.GetDirectoryName(pinFile)!);
        File.WriteAllText(pinFile, "1234\n");

        var result = Load($"rootLabelPrefix: p\nlibrary: {_library}\ntokens: [{{label: a}}]\npinFile: /var/run/xks/hsm-pin/pin\n",
            overrides: new ConfigurationOverrides { VolumeRoot = _directory });

        Assert.Empty(result.Problems);
        Assert.Equal(pinFile, result.Configuration!.Options.Backend.Software!.Sealing!.PinFile);
        Assert.Equal(_library, result.Configuration.Options.Backend.Software!.Sealing!.Library);
    }

    [Fact]
    public void Render_SealingBlock_RoundTripsThroughTheYaml()
    {
        var options = new ProxyOptions
        {
            Backend = new BackendOptions
            {
                Software = new SoftwareBackendOptions
                {
                    DataDir = "/var/lib/xks-proxy",
                    CreateMissingKeys = false,
                    Sealing = new SoftwareSealingOptions
                    {
                        RootLabelPrefix = "xks/payments",
                        Library = "/usr/lib/softhsm/libsofthsm2.so",
                        Tokens = [new Pkcs11TokenOptions { Label = "vault-hsm" }],
                        PinFile = "/var/run/xks/hsm-pin/pin",
                    },
                },
            },
        };

        var yaml = ProxyConfigYaml.Render(options);
        var parsed = ProxyConfigYaml.Parse(yaml).Options!.Backend.Software!.Sealing!;

        Assert.Contains("    sealing:\n      rootLabelPrefix: xks/payments\n      library: /usr/lib/softhsm/libsofthsm2.so\n      tokens:\n      - label: vault-hsm\n      pinFile: /var/run/xks/hsm-pin/pin\n", yaml, StringComparison.Ordinal);
        Assert.Equal(("xks/payments", "vault-hsm", "/var/run/xks/hsm-pin/pin"), (parsed.RootLabelPrefix, parsed.Tokens[0].Label, parsed.PinFile));
        Assert.Equal("SoftwareSealingOptions { RootLabelPrefix = xks/payments, Library = /usr/lib/softhsm/libsofthsm2.so, Tokens = 1 }", parsed.ToString());
    }
}
