namespace Xks.Proxy.Audit;

/// <summary>
/// At most <c>perSecond</c> takes in each one-second window, lock-free: what keeps a flood of unauthenticated requests
/// from turning into a flood of log lines or audit records. Takes beyond the budget return false (count them instead).
/// </summary>
public sealed class RateBudget
{
    private readonly int _perSecond;
    private readonly TimeProvider _time;
    private long _window;
    private int _taken;

    public RateBudget(int perSecond, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(perSecond);
        _perSecond = perSecond;
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _window = Window();
    }

    /// <summary>True while this second's budget lasts.</summary>
    public bool TryTake()
    {
        var now = Window();
        var window = Volatile.Read(ref _window);
        if (now != window && Interlocked.CompareExchange(ref _window, now, window) == window)
        {
            // The first take of a new window resets the count; a take racing it may count in either window.
            Interlocked.Exchange(ref _taken, 0);
        }

        return Interlocked.Increment(ref _taken) <= _perSecond;
    }

    private long Window() => _time.GetTimestamp() / _time.TimestampFrequency;
}
