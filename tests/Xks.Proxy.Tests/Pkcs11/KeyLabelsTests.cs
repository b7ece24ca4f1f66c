namespace Xks.Pkcs11.Tests;

public sealed class KeyLabelsTests
{
    [Fact]
    public void ForVersion_KeyAndVersion_JoinsWithSlashV()
    {
        Assert.Equal("payments/v3", KeyLabels.ForVersion("payments", 3));
    }

    [Theory]
    [InlineData("payments/v1", "payments", 1)]
    [InlineData("a/b/v12", "a/b", 12)]
    [InlineData("k/v/v2", "k/v", 2)]
    public void TryParse_VersionLabel_SplitsKeyAndVersion(string label, string keyId, int version)
    {
        Assert.True(KeyLabels.TryParse(label, out var id, out var v));
        Assert.Equal(keyId, id);
        Assert.Equal(version, v);
    }

    [Theory]
    [InlineData("")]
    [InlineData("xks-proxy-health")]
    [InlineData("payments/v0")]
    [InlineData("payments/v01")]
    [InlineData("payments/v")]
    [InlineData("/v1")]
    [InlineData("payments/v1x")]
    [InlineData("payments/v-1")]
    [InlineData("payments/v9999999999")]
    public void TryParse_OtherLabels_AreNotVersions(string label)
    {
        Assert.False(KeyLabels.TryParse(label, out _, out _));
    }

    [Fact]
    public void ForVersion_VersionZero_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => KeyLabels.ForVersion("k", 0));
    }
}
