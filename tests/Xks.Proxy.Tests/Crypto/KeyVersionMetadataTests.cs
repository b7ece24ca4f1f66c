namespace Xks.Proxy.Crypto.Tests;

public sealed class KeyVersionMetadataTests
{
    private static readonly byte[] Salt = Convert.FromHexString("A0A1A2A3A4A5A6A7A8A9AAABACADAE");

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(int.MaxValue)]
    public void WriteThenRead_VersionWithSalt_RoundTripsAsFormatTwoOfTwentyBytes(int version)
    {
        var buffer = new byte[KeyVersionMetadata.MaxLength];

        var length = KeyVersionMetadata.Write(version, Salt, buffer);

        Assert.Equal(20, length);
        Assert.Equal(2, buffer[0]);
        Assert.True(KeyVersionMetadata.TryRead(buffer, out var read, out var salt));
        Assert.Equal(version, read);
        Assert.Equal(Salt, salt.ToArray());
    }

    [Fact]
    public void WriteThenRead_VersionWithoutSalt_RoundTripsAsTheFiveByteFormatOne()
    {
        var buffer = new byte[KeyVersionMetadata.MaxLength];

        var length = KeyVersionMetadata.Write(7, default, buffer);

        Assert.Equal("0100000007", Convert.ToHexString(buffer, 0, length));
        Assert.True(KeyVersionMetadata.TryRead(buffer.AsSpan(0, length), out var read, out var salt));
        Assert.Equal(7, read);
        Assert.True(salt.IsEmpty);
    }

    [Fact]
    public void Write_SaltOfTheWrongLength_Throws() =>
        Assert.Throws<ArgumentException>(() => KeyVersionMetadata.Write(1, new byte[14], new byte[KeyVersionMetadata.MaxLength]));

    [Theory]
    [InlineData("")]
    [InlineData("0000000001")]                                 // wrong format byte
    [InlineData("0200000001")]                                 // format 2 without its salt
    [InlineData("0100000000")]                                 // version 0
    [InlineData("01000001")]                                   // too short
    [InlineData("010000000100")]                               // too long
    [InlineData("0180000000")]                                 // beyond int.MaxValue
    [InlineData("0100000001A0A1A2A3A4A5A6A7A8A9AAABACADAE")]   // format 1 with a salt
    [InlineData("0300000001A0A1A2A3A4A5A6A7A8A9AAABACADAE")]   // unknown format 3
    [InlineData("0200000001A0A1A2A3A4A5A6A7A8A9AAABACAD")]     // salt one byte short
    [InlineData("0200000000A0A1A2A3A4A5A6A7A8A9AAABACADAE")]   // format 2, version 0
    public void TryRead_ForeignOrAlteredMetadata_IsRejected(string hex) =>
        Assert.False(KeyVersionMetadata.TryRead(Convert.FromHexString(hex), out _, out _));
}
