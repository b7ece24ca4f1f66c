using Microsoft.Extensions.Logging.Abstractions;
using Xks.Contracts.ProxyConfig;
using Xks.Pkcs11;
using Xks.Proxy.Tests.Support;
using Xks.Testing;

namespace Xks.Proxy.Crypto.Software.Tests;

/// <summary><see cref="Pkcs11KeyUnsealer"/> on SoftHSM2 tokens of its own: token order, the PIN guard, and what never reaches the HSM.</summary>
public sealed class Pkcs11KeyUnsealerTests : IDisposable
{
    private const string Prefix = "vault-u";
    private readonly Pkcs11TestToken _token = Pkcs11TestToken.Create("unsealer");
    private readonly string _directory = Directory.CreateTempSubdirectory("xks-unsealer-").FullName;
    private readonly byte[] _blob;
    private readonly byte[] _material;

    public Pkcs11KeyUnsealerTests()
    {
        (_blob, _material) = SoftHsm.Shared.WithSession(_token.Label, _token.Pin, session =>
        {
            var sealer = new Pkcs11Sealer(session);
            sealer.EnsureRoot(Prefix, 1);
            var blob = sealer.SealNewKey(Prefix, 1, "orders", 1);
            return (blob, sealer.Unseal(Prefix, "orders", 1, blob));
        });
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private Pkcs11KeyUnsealer NewUnsealer(string? pinFile = null, params Pkcs11TokenOptions[] tokens) => new(
        new SoftwareSealingOptions
        {
            RootLabelPrefix = Prefix,
            Library = _token.Library,
            Tokens = tokens.Length > 0 ? [.. tokens] : [new Pkcs11TokenOptions { Label = _token.Label }],
            Pin = pinFile is null ? _token.Pin : null,
            PinFile = pinFile,
        },
        NullLogger<Pkcs11KeyUnsealer>.Instance);

    [Fact]
    public void Unseal_FirstTokenAbsent_TheNextTokenUnseals()
    {
        using var unsealer = NewUnsealer(null, new Pkcs11TokenOptions { Label = "no-such-token" }, new Pkcs11TokenOptions { Label = _token.Label });

        Assert.Equal(_material, unsealer.Unseal("orders", 1, _blob));
    }

    [Fact]
    public void Unseal_NoTokenAnswers_IsHsmUnreachable_NamingEveryToken()
    {
        using var unsealer = NewUnsealer(null, new Pkcs11TokenOptions { Label = "gone-a" }, new Pkcs11TokenOptions { Label = "gone-b" });

        var refused = Assert.Throws<KeyUnsealException>(() => unsealer.Unseal("orders", 1, _blob));

        Assert.True(refused.HsmUnreachable);
        Assert.StartsWith($"no HSM token could be asked to unseal key 'orders' version 1 with root '{Prefix}/r1': ", refused.Message, StringComparison.Ordinal);
        Assert.Contains("has no token 'gone-a'", refused.Message, StringComparison.Ordinal);
        Assert.Contains("has no token 'gone-b'", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unseal_WrongPinInItsFile_IsNotTriedAgainUntilTheFileChanges()
    {
        var pinFile = Path.Combine(_directory, "pin");
        File.WriteAllText(pinFile, "0000\n");
        using var unsealer = NewUnsealer(pinFile);

        var wrong = Assert.Throws<KeyUnsealException>(() => unsealer.Unseal("orders", 1, _blob));
        var notAgain = Assert.Throws<KeyUnsealException>(() => unsealer.Unseal("orders", 1, _blob));
        File.WriteAllText(pinFile, _token.Pin + "\n");

        Assert.True(wrong.HsmUnreachable);
        Assert.Contains("wrong PIN", wrong.Message, StringComparison.Ordinal);
        Assert.Contains("is not tried again until it changes", notAgain.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("0000", wrong.Message + notAgain.Message, StringComparison.Ordinal);
        Assert.Equal(_material, unsealer.Unseal("orders", 1, _blob));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(41)]
    [InlineData(73)]
    public void Unseal_MalformedBlob_IsMalformed_WithoutAskingAnyToken(int length)
    {
        using var unsealer = new Pkcs11KeyUnsealer(
            new SoftwareSealingOptions { RootLabelPrefix = Prefix, Library = "/nonexistent/libpkcs11.so", Tokens = [new Pkcs11TokenOptions { Label = "x" }], Pin = "1" },
            NullLogger<Pkcs11KeyUnsealer>.Instance);

        var refused = Assert.Throws<KeyUnsealException>(() => unsealer.Unseal("orders", 1, new byte[length]));

        Assert.Equal(KeyUnsealFailure.Malformed, refused.Failure);
        Assert.Equal($"key 'orders' version 1 is not a sealed key: {length} bytes, not 42", refused.Message);
    }

    [Fact]
    public void Unseal_RootVersionTheTokenLacks_IsRootMissing_NotUnreachable()
    {
        using var unsealer = NewUnsealer();
        var otherRoot = (byte[])_blob.Clone();
        otherRoot[1] = 2;

        var refused = Assert.Throws<KeyUnsealException>(() => unsealer.Unseal("orders", 1, otherRoot));

        Assert.Equal(KeyUnsealFailure.RootMissing, refused.Failure);
        Assert.Contains($"the token has no root key '{Prefix}/r2'", refused.Message, StringComparison.Ordinal);
        Assert.Equal(_material, unsealer.Unseal("orders", 1, _blob));
    }
}
