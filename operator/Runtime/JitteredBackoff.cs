namespace Xks.Operator.Runtime;

/// <summary>
/// Exponential backoff with jitter: the n-th consecutive delay is drawn from [d/2, d] with
/// d = min(<c>max</c>, <c>initial</c> × 2^(n-1)), so that clients failing together do not retry together.
/// <see cref="Reset"/> after a success.
/// </summary>
public sealed class JitteredBackoff(TimeSpan initial, TimeSpan max)
{
    private int _failures;

    /// <summary>Consecutive failures since the last <see cref="Reset"/>.</summary>
    public int Failures => _failures;

    /// <summary>The delay before the next attempt; counts one more failure.</summary>
    public TimeSpan Next()
    {
        var exponent = Math.Min(_failures, 30);
        _failures++;
        var ceiling = Math.Min(max.Ticks, initial.Ticks * Math.Pow(2, exponent));
        return TimeSpan.FromTicks((long)(ceiling * (0.5 + (Random.Shared.NextDouble() * 0.5))));
    }

    public void Reset() => _failures = 0;
}
