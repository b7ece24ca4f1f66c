using ISession = Net.Pkcs11Interop.HighLevelAPI.ISession;

namespace Xks.Proxy.Crypto.Pkcs11;

/// <summary>No session of the token became free within the pool's wait: DependencyTimeoutException (503) if no other token serves.</summary>
internal sealed class Pkcs11PoolTimeoutException(string message) : Exception(message);

/// <summary>
/// A bounded pool of logged-in sessions on one token: at most <c>maxSessions</c> exist, a request waits up to the
/// configured time for one, a session that failed is evicted (closed) instead of returned. <see cref="Clear"/> (before
/// a module re-initialisation) closes the idle sessions and makes the ones still leased close on return.
/// </summary>
internal sealed class Pkcs11SessionPool : IDisposable
{
    private readonly Func<ISession> _open;
    private readonly SemaphoreSlim _slots;
    private readonly TimeSpan _wait;
    private readonly Stack<PooledSession> _idle = new();
    private readonly object _gate = new();
    private int _generation;
    private bool _disposed;

    public Pkcs11SessionPool(Func<ISession> open, int maxSessions, TimeSpan wait)
    {
        _open = open;
        _slots = new SemaphoreSlim(maxSessions, maxSessions);
        _wait = wait;
        MaxSessions = maxSessions;
    }

    public int MaxSessions { get; }

    /// <summary>Sessions open right now (idle and leased).</summary>
    public int OpenSessions { get; private set; }

    /// <summary>A session for one operation; dispose the lease to give it back (or <see cref="Lease.Evict"/> it first).</summary>
    /// <exception cref="Pkcs11PoolTimeoutException">Every session stayed busy for the whole wait.</exception>
    public Lease Rent(CancellationToken cancellationToken = default)
    {
        if (!_slots.Wait(_wait, cancellationToken))
        {
            throw new Pkcs11PoolTimeoutException($"all {MaxSessions} sessions stayed busy for {_wait.TotalMilliseconds:0} ms");
        }

        try
        {
            lock (_gate)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                if (_idle.TryPop(out var idle))
                {
                    return new Lease(this, idle);
                }

                OpenSessions++;
            }

            try
            {
                var session = _open();
                lock (_gate)
                {
                    return new Lease(this, new PooledSession(session, _generation));
                }
            }
            catch
            {
                lock (_gate)
                {
                    OpenSessions--;
                }

                throw;
            }
        }
        catch
        {
            _slots.Release();
            throw;
        }
    }

    /// <summary>Closes every idle session; leased ones are closed when they come back.</summary>
    public void Clear()
    {
        List<PooledSession> closing;
        lock (_gate)
        {
            _generation++;
            closing = [.. _idle];
            _idle.Clear();
            OpenSessions -= closing.Count;
        }

        foreach (var pooled in closing)
        {
            CloseQuietly(pooled.Session);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
        }

        Clear();
    }

    private void Return(PooledSession pooled, bool evict)
    {
        var close = evict;
        lock (_gate)
        {
            if (!close && (pooled.Generation != _generation || _disposed))
            {
                close = true;
            }

            if (close)
            {
                OpenSessions--;
            }
            else
            {
                _idle.Push(pooled);
            }
        }

        if (close)
        {
            CloseQuietly(pooled.Session);
        }

        _slots.Release();
    }

    private static void CloseQuietly(ISession session)
    {
        try
        {
            session.Dispose();
        }
        catch (Exception ex) when (ex is Net.Pkcs11Interop.Common.Pkcs11Exception or ObjectDisposedException)
        {
            // a session of a failed device or a finalized module: nothing left to close
        }
    }

    internal sealed record PooledSession(ISession Session, int Generation);

    /// <summary>One leased session. <see cref="Evict"/> closes it on return instead of pooling it again.</summary>
    internal sealed class Lease : IDisposable
    {
        private readonly Pkcs11SessionPool _pool;
        private readonly PooledSession _pooled;
        private bool _evict;
        private bool _returned;

        public Lease(Pkcs11SessionPool pool, PooledSession pooled)
        {
            _pool = pool;
            _pooled = pooled;
        }

        public ISession Session => _pooled.Session;

        public void Evict() => _evict = true;

        public void Dispose()
        {
            if (!_returned)
            {
                _returned = true;
                _pool.Return(_pooled, _evict);
            }
        }
    }
}
