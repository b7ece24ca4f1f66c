using Microsoft.Extensions.Time.Testing;
namespace Xks.Proxy.Audit.Tests;

public sealed class RateBudgetTests
{
    [Fact]
    public void TryTake_BeyondTheSecondsBudget_FalseUntilTheNextSecond()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 4, 12, 0, 0, TimeSpan.Zero));
        var budget = new RateBudget(3, time);

        var first = Enumerable.Range(0, 5).Select(_ => budget.TryTake()).ToList();
        time.Advance(TimeSpan.FromMilliseconds(500));
        var sameSecond = budget.TryTake();
        time.Advance(TimeSpan.FromMilliseconds(600));
        var next = Enumerable.Range(0, 4).Select(_ => budget.TryTake()).ToList();

        Assert.Equal([true, true, true, false, false], first);
        Assert.False(sameSecond);
        Assert.Equal([true, true, true, false], next);
    }

    [Fact]
    public void TryTake_ZeroBudget_NeverTakes()
    {
        var budget = new RateBudget(0, new FakeTimeProvider());

        Assert.False(budget.TryTake());
    }

    [Fact]
    public async Task TryTake_ManyThreadsInOneSecond_NeverMoreThanTheBudget()
    {
        var time = new FakeTimeProvider();
        var budget = new RateBudget(100, time);
        var taken = 0;

        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < 1000; i++)
            {
                if (budget.TryTake())
                {
                    Interlocked.Increment(ref taken);
                }
            }
        })));

        Assert.Equal(100, taken);
    }
}
