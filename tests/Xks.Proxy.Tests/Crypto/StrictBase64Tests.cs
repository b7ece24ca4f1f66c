
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

public sealed class KeyVersionMetadataTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(int.MaxValue)]
    public void WriteThenRead_Version_RoundTrips(int version)
    {
        var buffer = new byte[KeyVersionMetadata.Length];
        KeyVersionMetadata.Write(version, buffer);
        Assert.True(KeyVersionMetadata.TryRead(buffer, out var read));
        Assert.Equal(version, read);
        Assert.True(buffer.Length <= 20);
    }

    [Theory]
    [InlineData("")]
    [InlineData("0000000001")]   // wrong format byte
    [InlineData("0200000001")]
    [InlineData("0100000000")]   // version 0
    [InlineData("01000001")]     // too short
    [InlineData("010000000100")] // too long
    [InlineData("0180000000")]   // beyond int.MaxValue
    public void TryRead_ForeignOrAlteredMetadata_IsRejected(string hex) =>
        Assert.False(KeyVersionMetadata.TryRead(Convert.FromHexString(hex), out _));
}
