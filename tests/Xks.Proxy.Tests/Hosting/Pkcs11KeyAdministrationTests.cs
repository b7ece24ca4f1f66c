using Xks.Pkcs11;
using Xks.Proxy.Options;
using Xks.Proxy.Tests.Support;
using Xks.Testing;

namespace Xks.Proxy.Hosting.Tests;

/// <summary>
/// <c>xks-proxy keys …</c> on a SoftHSM2 token: each test has a token of its own in the test process's SoftHSM
/// directory and reaches it through a private copy of the library (a fresh module that sees the new token).
/// </summary>
public sealed class Pkcs11KeyAdministrationTests : IDisposable
{
    private const string Pin = "admin-1234";
    private readonly string _directory = Directory.CreateTempSubdirectory("xks-keys-hsm-").FullName;
    private readonly SoftHsm _hsm = SoftHsm.Shared;
    private readonly string _token = "admin-" + Guid.NewGuid().ToString("N")[..8];
    private readonly string _library;

    public Pkcs11KeyAdministrationTests()
    {
        _hsm.InitToken(_token, Pin);
        _library = _hsm.CopyLibrary("admin");
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private ProxyConfiguration Config(Action<ProxyConfigBuilder> configure)
    {
        var builder = new ProxyConfigBuilder();
        configure(builder);
        var loaded = ProxyConfigurationLoader.LoadText(builder.Build(8080, Path.Combine(_directory, "data"), Path.Combine(_directory, "audit.log")), _directory);
        Assert.True(loaded.Succeeded, string.Join("; ", loaded.Problems));
        return loaded.Configuration!;
    }

    private Pkcs11KeyAdministration.Target Target(string? pin = null) =>
        new(_library, TokenSelector.ByLabel(_token), () => Pkcs11Pin.FromLiteral(pin ?? Pin));

    private (int ExitCode, string Output, string Error) Run(ProxyConfiguration configuration, params string[] args) => Run(configuration, Target(), args);

    private static (int ExitCode, string Output, string Error) Run(ProxyConfiguration configuration, Pkcs11KeyAdministration.Target target, params string[] args)
    {
        var request = KeyAdminCommand.Parse(args, out var problem);
        Assert.True(request is not null, problem);
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exitCode = Pkcs11KeyAdministration.Run(configuration, target, request, output, error);
        return (exitCode, output.ToString(), error.ToString());
    }

    private IReadOnlyList<HsmKeyVersion> Versions(string keyId) =>
        _hsm.WithSession(_token, Pin, session => new Pkcs11KeyAdmin(session).ListVersions(keyId));

    private static Dictionary<string, string[]> Rows(string output) => output
        .Split('\n', StringSplitOptions.RemoveEmptyEntries)
        .Where(l => !l.StartsWith('#'))
        .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        .ToDictionary(cells => cells[0]);

    [Fact]
    public void Create_GeneratesASensitiveNonExtractableAes256VersionWithTheConfiguredUsage_AndASecondCreateIsRefused()
    {
        var config = Config(b => b.Key("enc", usage: "[ENCRYPT]"));

        var created = Run(config, "create", "enc");
        var again = Run(config, "create", "enc");

        Assert.Equal(ProxyCommandLine.ExitOk, created.ExitCode);
        var version = Assert.Single(Versions("enc"));
        Assert.Equal((1, "enc/v1", "CKK_AES", 32), (version.Version, version.Label, version.KeyType, version.ValueLength));
        Assert.True(version.Sensitive);
        Assert.False(version.Extractable);
        Assert.True(version.CanEncrypt);
        Assert.False(version.CanDecrypt);
        Assert.Equal(KeyAdminCommand.ExitRefused, again.ExitCode);
        Assert.Contains("already exists", again.Error, StringComparison.Ordinal);
        Assert.Single(Versions("enc"));
    }

    [Fact]
    public void Rotate_AddsTheNextVersion_AndAKeyWithoutVersionsIsRefused()
    {
        var config = Config(b => b.Key("foo"));
        Run(config, "create", "foo");

        var rotated = Run(config, "rotate", "foo");
        var missing = Run(config, "rotate", "never-created");

        Assert.Equal(ProxyCommandLine.ExitOk, rotated.ExitCode);
        Assert.Contains("now at version 2", rotated.Output, StringComparison.Ordinal);
        Assert.Equal([1, 2], Versions("foo").Select(v => v.Version));
        Assert.Equal(KeyAdminCommand.ExitRefused, missing.ExitCode);
        Assert.Empty(Versions("never-created"));
    }

    [Fact]
    public void Disable_ClearsEncryptAndDecryptOfEveryVersion_RotateKeepsItDisabled_EnableRestoresTheConfiguredUsage()
    {
        var config = Config(b => b.Key("foo").Key("other"));
        Run(config, "create", "foo");
        Run(config, "rotate", "foo");
        Run(config, "create", "other");

        var disabled = Run(config, "disable", "foo");
        var disabledAgain = Run(config, "disable", "foo");
        Run(config, "rotate", "foo");
        var whileDisabled = Versions("foo");
        var enabled = Run(config, "enable", "foo");

        Assert.Equal(ProxyCommandLine.ExitOk, disabled.ExitCode);
        Assert.Contains("already disabled", disabledAgain.Output, StringComparison.Ordinal);
        Assert.Equal(3, whileDisabled.Count);
        Assert.All(whileDisabled, v => Assert.True(v.IsDisabled, v.Label));
        Assert.Equal(ProxyCommandLine.ExitOk, enabled.ExitCode);
        Assert.All(Versions("foo"), v => Assert.True(v.CanEncrypt && v.CanDecrypt, v.Label));
        Assert.All(Versions("other"), v => Assert.True(v.CanEncrypt && v.CanDecrypt, v.Label));
    }

    [Fact]
    public void List_ShowsVersionsUsageStateAndTheKeyAttributes()
    {
        var config = Config(b => b.Key("foo").Key("enc", usage: "[ENCRYPT]").Key("later").Key("off", enabled: false));
        Run(config, "create", "foo");
        Run(config, "rotate", "foo");
        Run(config, "create", "enc");
        Run(config, "create", "off");
        Run(config, "create", "spare");
        Run(config, "disable", "spare");
        _hsm.ImportAesKey(_token, Pin, "weak/v1", new byte[16]);

        var result = Run(config, "list");
        var rows = Rows(result.Output);

        Assert.Equal(ProxyCommandLine.ExitOk, result.ExitCode);
        Assert.StartsWith($"# token '{_token}'", result.Output, StringComparison.Ordinal);
        Assert.Equal(["ID", "VERSIONS", "USAGE", "STATE", "CONFIG", "SENSITIVE", "EXTRACTABLE", "NOTE"], rows["ID"]);
        Assert.Equal(["foo", "1,2", "ENCRYPT,DECRYPT", "enabled", "configured", "yes", "no"], rows["foo"]);
        Assert.Equal(["enc", "1", "ENCRYPT", "enabled", "configured", "yes", "no"], rows["enc"]);
        Assert.Equal(["off", "1", "ENCRYPT,DECRYPT", "disabled", "configured", "yes", "no"], rows["off"][..7]);
        Assert.Equal(["spare", "1", "-", "disabled", "not-configured", "yes", "no"], rows["spare"][..7]);
        Assert.Equal(["later", "-", "ENCRYPT,DECRYPT", "missing", "configured", "-", "-"], rows["later"][..7]);
        Assert.Equal(["weak", "1", "ENCRYPT,DECRYPT", "unusable", "not-configured"], rows["weak"][..5]);
        Assert.Contains("not AES-256", string.Join(' ', rows["weak"]), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("create")]
    [InlineData("rotate")]
    [InlineData("disable")]
    [InlineData("enable")]
    public void Change_KeyWithVersionsListedInTheConfiguration_IsRefused(string verb)
    {
        var masterKey = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);
        var config = Config(b => b.Key("managed", versions: [(1, WrappedKeyVersions.Wrap(masterKey, "managed", 1))]));

        var result = Run(config, verb, "managed");

        Assert.Equal(KeyAdminCommand.ExitRefused, result.ExitCode);
        Assert.Contains("listed in the configuration", result.Error, StringComparison.Ordinal);
        Assert.Empty(Versions("managed"));
    }

    [Fact]
    public void WrongPin_ExitsWithTheConfigErrorCodeAndNeverPrintsThePin()
    {
        const string wrong = "not-the-pin-98765";
        var result = Run(Config(b => b.Key("foo")), Target(wrong), "list");

        Assert.Equal(ProxyCommandLine.ExitConfigError, result.ExitCode);
        Assert.Contains("CKR_PIN_INCORRECT", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(wrong, result.Error + result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingLibraryOrToken_ExitsWithTheConfigErrorCodeAndSaysWhich()
    {
        var config = Config(b => b.Key("foo"));

        var noLibrary = Run(config, Target() with { LibraryPath = Path.Combine(_directory, "absent.so") }, "list");
        var noToken = Run(config, Target() with { Token = TokenSelector.ByLabel("no-such-token") }, "list");

        Assert.Equal(ProxyCommandLine.ExitConfigError, noLibrary.ExitCode);
        Assert.Contains("does not exist", noLibrary.Error, StringComparison.Ordinal);
        Assert.Equal(ProxyCommandLine.ExitConfigError, noToken.ExitCode);
        Assert.Contains("no token 'no-such-token'", noToken.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_ObjectsTheCommandMakes_AreSeenByPkcs11ToolAsSensitiveNonExtractableAes()
    {
        Run(Config(b => b.Key("foo")), "create", "foo");

        var objects = _hsm.RunPkcs11Tool("--token-label", _token, "--login", "--pin", Pin, "--list-objects", "--type", "secrkey");

        Assert.Contains("label:      foo/v1", objects, StringComparison.Ordinal);
        Assert.Contains("AES length 32", objects, StringComparison.Ordinal);
        Assert.Contains("never extractable", objects, StringComparison.Ordinal);
        Assert.Contains("sensitive", objects, StringComparison.Ordinal);
    }
}
