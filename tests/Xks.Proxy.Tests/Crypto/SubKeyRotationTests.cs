namespace Xks.Proxy.Crypto.Tests;

public sealed class SubKeyRotationTests
{
    [Fact]
    public void Take_BudgetOfThree_DerivesTheNextSubKeyOnTheFourthUse()
    {
        var derived = 0;
        var rotation = new SubKeyRotation<string>(() => "sub-key " + ++derived, budget: 3);

        var taken = Enumerable.Range(0, 7).Select(_ => rotation.Take()).ToArray();

        Assert.Equal(["sub-key 1", "sub-key 1", "sub-key 1", "sub-key 2", "sub-key 2", "sub-key 2", "sub-key 3"], taken);
        Assert.Equal(3, rotation.Derived);
    }

    [Fact]
    public void Take_ManyThreads_NeverUsesASubKeyBeyondItsBudget()
    {
        var derived = 0;
        var rotation = new SubKeyRotation<object>(() => Interlocked.Increment(ref derived), budget: 100);
        var uses = new System.Collections.Concurrent.ConcurrentDictionary<object, int>();

        Parallel.For(0, 10_000, new ParallelOptions { MaxDegreeOfParallelism = 8 }, _ => uses.AddOrUpdate(rotation.Take(), 1, (_, n) => n + 1));

        Assert.All(uses.Values, n => Assert.InRange(n, 1, 100));
        Assert.Equal(10_000, uses.Values.Sum());
        Assert.Equal(100, uses.Count);
    }
}
