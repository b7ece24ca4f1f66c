
namespace Xks.Proxy.Crypto.Tests;

public sealed class StrictBase64Tests
{
    [Theory]
    [InlineData("", true)]
    [InlineData("SGVsbG8gV29ybGQh", true)]
    [InlineData("a2V5X3ZlcnNpb249MQ==", true)]
    [InlineData("+/+/", true)]
    [InlineData("-_-_", false)]          // URL-safe alphabet
    [InlineData("SGVsbG8gV29ybGQ", false)] // missing padding
    [InlineData("SGVs bG8g", false)]     // whitespace
    [InlineData("SGVsbG8=V29y", false)]  // padding in the middle
    [InlineData("S===", false)]          // too much padding
    [InlineData("SGVsbG8gV29ybGQh\n", false)]
    public void IsValid_Input_AcceptsOnlyStandardPaddedBase64(string text, bool valid) =>
        Assert.Equal(valid, StrictBase64.IsValid(text));

    [Theory]
    [InlineData("", 0)]
    [InlineData("AA==", 1)]
    [InlineData("AAA=", 2)]
    [InlineData("AAAA", 3)]
    [InlineData("a2V5X3ZlcnNpb249MQ==", 13)]
    public void DecodedLength_ValidText_IsTheByteCount(string text, int length)
    {
        Assert.Equal(length, StrictBase64.DecodedLength(text));
        Assert.Equal(length, Convert.FromBase64String(text).Length);
    }
}
