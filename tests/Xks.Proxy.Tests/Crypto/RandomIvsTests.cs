namespace Xks.Proxy.Crypto.Tests;

public sealed class RandomIvsTests
{
    [Fact]
    public void Next_ManyIvsAcrossBlockRefills_AreAllDifferent()
    {
        var seen = new HashSet<string>();
        var iv = new byte[12];
        for (var i = 0; i < 2000; i++)
        {
            RandomIvs.Next(iv);
            Assert.True(seen.Add(Convert.ToHexString(iv)), "an IV repeated");
        }
    }
}
