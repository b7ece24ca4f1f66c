using Xks.Testing;

namespace Xks.Pkcs11.Tests;

public sealed class Pkcs11PinTests
{
    [Fact]
    public void FromFile_TrailingNewline_IsTrimmed()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, "4321\n");
            var pin = Pkcs11Pin.FromFile(path);
            Assert.Equal("4321"u8.ToArray(), pin.CopyBytes());
            Assert.DoesNotContain("4321", pin.ToString(), StringComparison.Ordinal);
            Assert.Contains(path, pin.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void FromFile_Missing_ThrowsNamingTheFile()
    {
        var ex = Assert.Throws<Pkcs11SetupException>(() => Pkcs11Pin.FromFile("/nonexistent/pin"));
        Assert.Contains("'/nonexistent/pin'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromEnvironment_UnsetVariable_ThrowsNamingTheVariable()
    {
        var ex = Assert.Throws<Pkcs11SetupException>(() => Pkcs11Pin.FromEnvironment("XKS_TEST_PIN_NEVER_SET"));
        Assert.Contains("XKS_TEST_PIN_NEVER_SET", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromLiteral_ToString_NeverShowsThePin()
    {
        var pin = Pkcs11Pin.FromLiteral("secret-pin-987");
        Assert.DoesNotContain("secret-pin-987", pin.ToString(), StringComparison.Ordinal);
        Assert.True(pin.AppearsIn("x secret-pin-987 y"));
    }

    [Fact]
    public void TokenSelector_NoneOrTwoGiven_Throws()
    {
        Assert.Throws<ArgumentException>(() => new TokenSelector());
        Assert.Throws<ArgumentException>(() => new TokenSelector(label: "a", slot: 1));
        Assert.Equal("slot-7", TokenSelector.BySlot(7).Id);
        Assert.Equal("xks", TokenSelector.ByLabel("xks").Id);
        _ = SoftHsm.Shared; // every PKCS#11 test class starts the shared token directory first
    }

    [Fact]
    public void FromBytes_SourceNamedNeverThePin()
    {
        var pin = Pkcs11Pin.FromBytes("9753"u8, "Secret team-a/hsm-pin key pin");

        Assert.Equal("9753"u8.ToArray(), pin.CopyBytes());
        Assert.Equal("Pkcs11Pin(Secret team-a/hsm-pin key pin)", pin.ToString());
        Assert.Throws<Pkcs11SetupException>(() => Pkcs11Pin.FromBytes([], "Secret team-a/hsm-pin key pin"));
    }
}
