
namespace Xks.Operator.Resources.Tests;

public sealed class XksCredentialTests
{
    [Fact]
    public void Generate_Always_SatisfiesKmsRules()
    {
        for (var i = 0; i < 200; i++)
        {
            var credential = XksCredential.Generate();
            Assert.Matches("^[A-Z2-7]{26}$", credential.AccessKeyId);
            Assert.Matches("^[A-Za-z0-9]{64}$", credential.SecretAccessKey);
            Assert.True(XksCredential.IsValid(credential.AccessKeyId, credential.SecretAccessKey));
        }
    }

    [Fact]
    public void Generate_TwoCalls_DifferInBothParts()
    {
        var a = XksCredential.Generate();
        var b = XksCredential.Generate();
        Assert.NotEqual(a.AccessKeyId, b.AccessKeyId);
        Assert.NotEqual(a.SecretAccessKey, b.SecretAccessKey);
    }

    [Theory]
    [InlineData("SHORT234", "PleaseReplaceThisWithSomeSecretOfLength43To64")]
    [InlineData("BETWEEN2TENAND3TENCHARACTERS", "tooShortSecret")]
    [InlineData("lowercase2tenand3tencharacters", "PleaseReplaceThisWithSomeSecretOfLength43To64")]
    [InlineData("BETWEEN2TENAND3TENCHARACTERS", "PleaseReplaceThisWithSomeSecretOfLength43To64 with space")]
    [InlineData(null, "PleaseReplaceThisWithSomeSecretOfLength43To64")]
    public void IsValid_OutsideKmsRules_IsFalse(string? accessKeyId, string secret) =>
        Assert.False(XksCredential.IsValid(accessKeyId, secret));

    [Fact]
    public void ToString_Always_HidesTheSecret()
    {
        var credential = XksCredential.Generate();
        Assert.DoesNotContain(credential.SecretAccessKey, credential.ToString(), StringComparison.Ordinal);
        Assert.Contains(credential.AccessKeyId, credential.ToString(), StringComparison.Ordinal);
    }
}
