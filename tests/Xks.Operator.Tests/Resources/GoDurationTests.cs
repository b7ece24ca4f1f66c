
namespace Xks.Operator.Resources.Tests;

public sealed class GoDurationTests
{
    [Theory]
    [InlineData("720h", 720 * 3600.0)]
    [InlineData("1h30m", 5400.0)]
    [InlineData("1.5h", 5400.0)]
    [InlineData("250ms", 0.25)]
    [InlineData("0s", 0.0)]
    public void TryParse_GoDurations_AreSummed(string text, double seconds)
    {
        Assert.True(GoDuration.TryParse(text, out var duration));
        Assert.Equal(TimeSpan.FromSeconds(seconds), duration);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("10")]
    [InlineData("1d")]
    [InlineData("h")]
    [InlineData("-1h")]
    [InlineData("1h 30m")]
    public void TryParse_Malformed_IsRefused(string? text) => Assert.False(GoDuration.TryParse(text, out _));

    [Theory]
    [InlineData("90d", 90 * 86400.0)]
    [InlineData("1d12h", 36 * 3600.0)]
    [InlineData("0.5d", 12 * 3600.0)]
    [InlineData("2160h", 2160 * 3600.0)]
    public void TryParse_AllowDays_DaysAreTwentyFourHours(string text, double seconds)
    {
        Assert.True(GoDuration.TryParse(text, allowDays: true, out var duration));
        Assert.Equal(TimeSpan.FromSeconds(seconds), duration);
    }

    [Theory]
    [InlineData("d")]
    [InlineData("90 d")]
    [InlineData("1w")]
    public void TryParse_AllowDaysMalformed_IsRefused(string text) => Assert.False(GoDuration.TryParse(text, allowDays: true, out _));
}
