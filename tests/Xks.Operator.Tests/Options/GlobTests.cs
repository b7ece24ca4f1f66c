namespace Xks.Operator.Options.Tests;

public sealed class GlobTests
{
    [Theory]
    [InlineData("*", "arn:aws:iam::1:role/x", true)]
    [InlineData("arn:aws:iam::1:role/x", "arn:aws:iam::1:role/x", true)]
    [InlineData("arn:aws:iam::1:role/x", "arn:aws:iam::1:role/xy", false)]
    [InlineData("arn:aws:iam::1:role/xks-*", "arn:aws:iam::1:role/xks-a", true)]
    [InlineData("arn:aws:iam::1:role/xks-*", "arn:aws:iam::2:role/xks-a", false)]
    [InlineData("arn:aws:iam::*:role/xks-*", "arn:aws:iam::2:role/xks-a", true)]
    [InlineData("arn:aws:iam::*:role/xks-*", "arn:aws:iam::2:role/admin", false)]
    [InlineData("arn:*:role/a*a", "arn:x:role/a", false)]
    [InlineData("arn:*:role/a*a", "arn:x:role/aa", true)]
    public void Matches_StarIsAnyRun(string pattern, string value, bool matches) =>
        Assert.Equal(matches, Glob.Matches(pattern, value));
}
