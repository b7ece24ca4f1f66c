using Xks.Proxy.Endpoints.Tests;
using Xks.Proxy.Tests.Support;

namespace Xks.Proxy.Crypto.Pkcs11.Tests;

// The in-process endpoint suites again, on the PKCS#11 backend: one SoftHSM2 token and library copy per class, keys
// generated in it by createMissingKeys on the first test and adopted by the next ones.

public sealed class Pkcs11EncryptDecryptTests : EncryptDecryptTests
{
    private static readonly Lazy<Pkcs11TestToken> Token = new(() => Pkcs11TestToken.Create("suite-crypto"));

    protected override Pkcs11TestToken? Pkcs11Token => Token.Value;
}

public sealed class Pkcs11SpecExamplesTests : SpecExamplesTests
{
    private static readonly Lazy<Pkcs11TestToken> Token = new(() => Pkcs11TestToken.Create("suite-spec"));

    protected override Pkcs11TestToken? Pkcs11Token => Token.Value;
}

public sealed class Pkcs11KeyStateTests : KeyStateTests
{
    private static readonly Lazy<Pkcs11TestToken> Token = new(() => Pkcs11TestToken.Create("suite-state"));

    protected override Pkcs11TestToken? Pkcs11Token => Token.Value;
}

/// <summary>The suites above really run on the token: the backend is PKCS#11 and the keys are objects in it.</summary>
public sealed class Pkcs11SuiteBackendTests : ProxyTestBase
{
    private static readonly Lazy<Pkcs11TestToken> Token = new(() => Pkcs11TestToken.Create("suite-backend"));

    protected override Pkcs11TestToken? Pkcs11Token => Token.Value;

    [Fact]
    public async Task Proxy_Pkcs11Token_ServesFromTheTokensObjects()
    {
        Assert.IsType<Pkcs11KeyBackend>(Server.GetRequiredService<IKeyBackend>());
        var encrypted = await Client.EncryptAsync("foo", "hello"u8.ToArray());
        Assert.Equal(System.Net.HttpStatusCode.OK, encrypted.Status);

        var objects = Xks.Testing.SoftHsm.Shared.RunPkcs11Tool("--token-label", Token.Value.Label, "--login", "--pin", Token.Value.Pin, "--list-objects");
        Assert.Contains("label:      foo/v1", objects, StringComparison.Ordinal);
        Assert.Contains("label:      xks-proxy-health", objects, StringComparison.Ordinal);
    }
}
