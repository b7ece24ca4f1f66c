namespace Xks.Proxy.Crypto;

/// <summary>
/// The sub-key Encrypt currently uses for one key version and how many encryptions it has left. Each use is counted
/// with <see cref="Interlocked"/>; when the budget is spent, the next caller derives a fresh sub-key (one caller
/// derives, the others wait for it). The sub-key never leaves this process, so the count is exact.
/// </summary>
public sealed class SubKeyRotation<T>(Func<T> derive, long budget, SubKeyTally? tally = null)
    where T : class
{
    private readonly object _renewLock = new();
    private Slot? _current;
    private long _derived;

    /// <summary>Sub-keys derived so far by this rotation.</summary>
    public long Derived => Interlocked.Read(ref _derived);

    /// <summary>Takes one encryption: the current sub-key, or a new one when the current one's budget is spent.</summary>
    public T Take()
    {
        var slot = Volatile.Read(ref _current);
        while (slot is null || Interlocked.Decrement(ref slot.Remaining) < 0)
        {
            slot = Renew(slot);
        }

        return slot.Key;
    }

    private Slot Renew(Slot? spent)
    {
        lock (_renewLock)
        {
            var current = _current;
            if (ReferenceEquals(current, spent))
            {
                current = new Slot(derive(), budget);
                Interlocked.Increment(ref _derived);
                tally?.AddDerived();
                Volatile.Write(ref _current, current);
            }

            return current!;
        }
    }

    private sealed class Slot(T key, long remaining)
    {
        public readonly T Key = key;
        public long Remaining = remaining;
    }
}
