using System.Diagnostics;
using Xunit;

namespace Xks.Testing;

/// <summary>Polls a condition until it holds, failing the test after a bound: the one waiting helper of the test projects.</summary>
public static class Eventually
{
    /// <summary>Polls <paramref name="condition"/> until it holds and returns how long that took; fails after <paramref name="within"/>.</summary>
    public static async Task<TimeSpan> HoldsAsync(Func<bool> condition, TimeSpan within, string what)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < within, $"{what}: not within {within.TotalSeconds} s");
            await Task.Delay(20);
        }

        return clock.Elapsed;
    }

    /// <inheritdoc cref="HoldsAsync(Func{bool}, TimeSpan, string)"/>
    public static async Task<TimeSpan> HoldsAsync(Func<Task<bool>> condition, TimeSpan within, string what)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(clock.Elapsed < within, $"{what}: not within {within.TotalSeconds} s");
            await Task.Delay(50);
        }

        return clock.Elapsed;
    }
}
