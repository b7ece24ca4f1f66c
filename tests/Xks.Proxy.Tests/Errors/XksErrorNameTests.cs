
namespace Xks.Proxy.Errors.Tests;

public sealed class XksErrorNameTests
{
    public static TheoryData<XksErrorName, int> SpecTable => new()
    {
        { XksErrorName.ValidationException, 400 },
        { XksErrorName.InvalidStateException, 400 },
        { XksErrorName.InvalidCiphertextException, 400 },
        { XksErrorName.InvalidKeyUsageException, 400 },
        { XksErrorName.AuthenticationFailedException, 401 },
        { XksErrorName.AccessDeniedException, 403 },
        { XksErrorName.KeyNotFoundException, 404 },
        { XksErrorName.InvalidUriPathException, 404 },
        { XksErrorName.ThrottlingException, 429 },
        { XksErrorName.UnsupportedOperationException, 501 },
        { XksErrorName.DependencyTimeoutException, 503 },
        { XksErrorName.InternalException, 500 },
    };

    [Theory]
    [MemberData(nameof(SpecTable))]
    public void ToStatusCode_EachSpecErrorName_MapsToTheSpecStatus(XksErrorName name, int status) =>
        Assert.Equal(status, name.ToStatusCode());

    [Fact]
    public void SpecTable_CoversEveryErrorName() =>
        Assert.Equal(Enum.GetValues<XksErrorName>().Order(), SpecTable.Select(row => (XksErrorName)row[0]).Order());

    [Fact]
    public void ToWireName_EveryErrorName_IsTheSpecSpelling()
    {
        foreach (var name in Enum.GetValues<XksErrorName>())
        {
            Assert.Equal(name.ToString(), name.ToWireName());
        }
    }

    [Fact]
    public void ToStatusCode_UndefinedValue_Throws() =>
        Assert.ThrowsAny<Exception>(() => ((XksErrorName)999).ToStatusCode());

    [Fact]
    public void AuthenticationFailed_PublicMessage_DoesNotCarryTheReason()
    {
        var ex = XksException.AuthenticationFailed("signature mismatch for access key id X");
        Assert.Equal(XksErrorName.AuthenticationFailedException, ex.Name);
        Assert.DoesNotContain("mismatch", ex.PublicMessage, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("mismatch", ex.Message, StringComparison.Ordinal);
    }
}

public sealed class ErrorMessagesTests
{
    [Fact]
    public void Sanitize_PrintableAsciiUnderTheLimit_IsUnchanged()
    {
        const string message = "Key 'foo' is disabled.";
        Assert.Same(message, ErrorMessages.Sanitize(message));
    }

    [Fact]
    public void Sanitize_ControlAndNonAsciiCharacters_BecomeQuestionMarks() =>
        Assert.Equal("a?b?c?", ErrorMessages.Sanitize("a\nb\u00e9c\u0001"));

    [Fact]
    public void Sanitize_LongMessage_IsCutBelow512Characters()
    {
        var result = ErrorMessages.Sanitize(new string('x', 2000));
        Assert.True(result.Length < 512);
        Assert.All(result, c => Assert.InRange(c, (char)0x20, (char)0x7E));
    }
}
