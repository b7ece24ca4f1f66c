using Microsoft.Extensions.Time.Testing;

namespace Xks.Proxy.Health.Tests;

public sealed class ConfigFreshnessTests
{
    [Fact]
    public void IsStale_PastTheBoundWithoutConfirmation_UntilConfirmedAgain()
    {
        var time = new FakeTimeProvider();
        var freshness = new ConfigFreshness(time, TimeSpan.FromMinutes(5));

        time.Advance(TimeSpan.FromMinutes(5));
        var atTheBound = freshness.IsStale;
        time.Advance(TimeSpan.FromSeconds(1));
        var past = freshness.IsStale;
        freshness.Confirm();

        Assert.False(atTheBound);
        Assert.True(past);
        Assert.False(freshness.IsStale);
        Assert.Equal(TimeSpan.Zero, freshness.Age);
    }

    [Fact]
    public void IsStale_NoBound_NeverStale()
    {
        var time = new FakeTimeProvider();
        var freshness = new ConfigFreshness(time, maxAge: null);

        time.Advance(TimeSpan.FromDays(30));

        Assert.False(freshness.IsStale);
    }

    [Fact]
    public void Changed_OncePerTransition()
    {
        var time = new FakeTimeProvider();
        var freshness = new ConfigFreshness(time, TimeSpan.FromSeconds(10));

        var first = freshness.Changed(out _);
        time.Advance(TimeSpan.FromSeconds(11));
        var toStale = freshness.Changed(out var stale);
        var again = freshness.Changed(out _);
        freshness.Confirm();
        var toFresh = freshness.Changed(out var staleAfter);

        Assert.False(first);
        Assert.True(toStale && stale);
        Assert.False(again);
        Assert.True(toFresh);
        Assert.False(staleAfter);
    }

    [Fact]
    public void Constructor_NonPositiveBound_Refused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new ConfigFreshness(new FakeTimeProvider(), TimeSpan.Zero));
}
