using Xks.Proxy.Tests.Support;
using Xks.Testing;


namespace Xks.Proxy.Options.Tests;

/// <summary>backend.pkcs11 as the loader validates it: every problem listed at once, the PIN never quoted.</summary>
public sealed class Pkcs11OptionsValidationTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("xks-pkcs11-options-").FullName;
    private readonly string _library = SoftHsm.FindLibrary();

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string Config(string pkcs11, string keyVersions = "") =>
        new ProxyConfigBuilder().Key("k").Build(8080, "/unused", Path.Combine(_directory, "audit.log"))
            .Replace("    keys:\n      - id: k\n        usage: [ENCRYPT, DECRYPT]\n        enabled: true\n",
                "    keys:\n      - id: k\n        usage: [ENCRYPT, DECRYPT]\n        enabled: true\n" + keyVersions, StringComparison.Ordinal)
            .Replace("backend:\n  software:\n    dataDir: /unused\n", "backend:\n  pkcs11:\n" + Indent(pkcs11), StringComparison.Ordinal);

    private static string Indent(string yaml) =>
        string.Concat(yaml.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => "    " + l + "\n"));

    [Fact]
    public void LoadText_CompletePkcs11Backend_IsValid()
    {
        var result = ProxyConfigurationLoader.LoadText(Config($"""
            library: {_library}
            tokens:
              - label: a
              - slot: 3
              - serial: "0123"
            pin: "1234"
            ivGeneration: HsmWritesIv
            sessionPool:
              maxSessions: 4
              waitTimeoutMilliseconds: 0
            """, "        versions:\n          - version: 1\n          - version: 2\n"), _directory);

        Assert.Empty(result.Problems);
        var pkcs11 = result.Configuration!.Options.Backend.Pkcs11!;
        Assert.Equal(3, pkcs11.Tokens.Count);
        Assert.Equal(3UL, pkcs11.Tokens[1].Slot);
        Assert.Equal("xks-proxy-health", pkcs11.HealthKeyLabel);
        Assert.Equal(5, pkcs11.RecoveryIntervalSeconds);
    }

    [Fact]
    public void LoadText_EveryPkcs11Mistake_IsListedWithoutThePin()
    {
        var result = ProxyConfigurationLoader.LoadText(Config("""
            library: /nonexistent/libpkcs11.so
            tokens:
              - label: a
                slot: 1
              - label: b
                library: /nonexistent/other.so
              - label: b
            pin: "secret-pin-4711"
            pinFile: /nonexistent/pin
            ivGeneration: Sometimes
            sessionPool:
              maxSessions: 0
              waitTimeoutMilliseconds: 20000
            healthKeyLabel: k/v1
            recoveryIntervalSeconds: 0
            """, "        versions:\n          - version: 1\n            wrappedMaterial: abc\n"), _directory);

        Assert.Equal(
        [
            "keyStores[0].keys[0].versions[0].wrappedMaterial: not allowed with the pkcs11 backend (the version is the token's object '<id>/v1')",
            "backend.pkcs11.library: PKCS#11 library '/nonexistent/libpkcs11.so' does not exist",
            "backend.pkcs11.tokens[0]: set exactly one of label, slot and serial",
            "backend.pkcs11.tokens[1].library: PKCS#11 library '/nonexistent/other.so' does not exist",
            "backend.pkcs11: set exactly one of pin, pinFile and pinEnvironmentVariable",
            "backend.pkcs11.ivGeneration: 'Sometimes' is not Proxy, HsmWritesIv or HsmAppendsIv",
            "backend.pkcs11.sessionPool.maxSessions: must be between 1 and 1024 (got 0)",
            "backend.pkcs11.sessionPool.waitTimeoutMilliseconds: must be between 0 and 10000 (got 20000)",
            "backend.pkcs11.healthKeyLabel: must be a non-empty label that is not a key version's ('<id>/v<n>')",
            "backend.pkcs11.recoveryIntervalSeconds: must be between 1 and 3600 (got 0)",
        ], result.Problems);
        Assert.DoesNotContain(result.Problems, p => p.Contains("secret-pin-4711", StringComparison.Ordinal));
    }

    [Fact]
    public void LoadText_SameTokenTwiceAndNoTokens_AreProblems()
    {
        var twice = ProxyConfigurationLoader.LoadText(Config($"library: {_library}\ntokens:\n  - label: a\n  - label: a\npin: \"1\"\n"), _directory);
        var none = ProxyConfigurationLoader.LoadText(Config($"library: {_library}\ntokens: []\npinEnvironmentVariable: XKS_TEST_UNSET_PIN_VARIABLE\n"), _directory);

        Assert.Equal(["backend.pkcs11.tokens[1]: the same token as tokens[0]"], twice.Problems);
        Assert.Equal(
        [
            "backend.pkcs11.tokens: list 1 to 10 tokens (got 0)",
            "backend.pkcs11.pinEnvironmentVariable: environment variable 'XKS_TEST_UNSET_PIN_VARIABLE' is not set",
        ], none.Problems);
    }

    [Fact]
    public void LoadText_BothBackends_IsAProblem()
    {
        var yaml = Config($"library: {_library}\ntokens:\n  - label: a\npin: \"1\"\n") + "  software:\n    dataDir: /tmp/x\n";

        var result = ProxyConfigurationLoader.LoadText(yaml, _directory);

        Assert.Contains("backend: configure exactly one of software and pkcs11", result.Problems);
    }

    [Fact]
    public void LoadText_VolumeRoot_MovesThePinFileButNeverTheLibrary()
    {
        var pinFile = Path.Combine(_directory, "var", "run", "xks", "pkcs11-pin", "pin");
        Directory.CreateDirectory(Path.GetDirectoryName(pinFile)!);
        File.WriteAllText(pinFile, "1234\n");

        var result = ProxyConfigurationLoader.LoadText(
            Config($"library: {_library}\ntokens:\n  - label: a\npinFile: /var/run/xks/pkcs11-pin/pin\n"),
            _directory,
            overrides: new ConfigurationOverrides { VolumeRoot = _directory });

        Assert.Empty(result.Problems);
        Assert.Equal(pinFile, result.Configuration!.Options.Backend.Pkcs11!.PinFile);
        Assert.Equal(_library, result.Configuration.Options.Backend.Pkcs11.Library);
    }
}
