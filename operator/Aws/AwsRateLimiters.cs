using System.Collections.Concurrent;
using System.Threading.RateLimiting;

namespace Xks.Operator.Aws;

/// <summary>
/// One token bucket per (CspAccount, region), shared by every session of that account — so a new session after a
/// Secret change does not get a fresh burst, and KeySets and CloudKeys of one account share one budget. A call waits
/// (queued, oldest first) for a token rather than failing.
/// </summary>
internal sealed class AwsRateLimiters(AwsClientOptions options) : IDisposable
{
    private readonly ConcurrentDictionary<(string Account, string Region), TokenBucketRateLimiter> _limiters = new();

    public RateLimiter For(string account, string region) => _limiters.GetOrAdd((account, region), _ => Create(options));

    public void Dispose()
    {
        foreach (var limiter in _limiters.Values)
        {
            limiter.Dispose();
        }

        _limiters.Clear();
    }

    internal static TokenBucketRateLimiter Create(AwsClientOptions options)
    {
        // Replenish one token at a time (smooth), e.g. every 100 ms for 10 calls per second.
        var period = TimeSpan.FromSeconds(1 / Math.Max(options.RequestsPerSecond, 0.001));
        return new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = Math.Max(1, options.Burst),
            TokensPerPeriod = 1,
            ReplenishmentPeriod = period,
            QueueLimit = Math.Max(0, options.QueueLimit),
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            AutoReplenishment = true,
        });
    }
}
