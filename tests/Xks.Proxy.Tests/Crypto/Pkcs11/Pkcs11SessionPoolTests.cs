using Net.Pkcs11Interop.Common;
using Xks.Pkcs11;
using Xks.Proxy.Tests.Support;

namespace Xks.Proxy.Crypto.Pkcs11.Tests;

/// <summary>The session pool over real logged-in SoftHSM2 sessions (a token and library copy of its own).</summary>
public sealed class Pkcs11SessionPoolTests : IDisposable
{
    private readonly Pkcs11TestToken _token = Pkcs11TestToken.Create("pool-unit");
    private readonly Pkcs11ModuleLease _module;
    private int _opened;

    public Pkcs11SessionPoolTests()
    {
        _module = Pkcs11Modules.Acquire(_token.Library);
    }

    public void Dispose() => _module.Dispose();

    private Pkcs11SessionPool Pool(int max, int waitMilliseconds) => new(() =>
    {
        Interlocked.Increment(ref _opened);
        return _module.OpenUserSession(TokenSelector.ByLabel(_token.Label), Pkcs11Pin.FromLiteral(_token.Pin));
    }, max, TimeSpan.FromMilliseconds(waitMilliseconds));

    [Fact]
    public void Rent_ReturnedSession_IsReusedNotReopened()
    {
        using var pool = Pool(2, 0);
        ulong first;
        using (var lease = pool.Rent())
        {
            first = lease.Session.SessionId;
        }

        using var again = pool.Rent();

        Assert.Equal(first, again.Session.SessionId);
        Assert.Equal(1, _opened);
        Assert.Equal(CKS.CKS_RW_USER_FUNCTIONS, again.Session.GetSessionInfo().State);
    }

    [Fact]
    public void Rent_AllSessionsLeased_TimesOutAfterTheWait()
    {
        using var pool = Pool(1, 20);
        using var held = pool.Rent();

        var ex = Assert.Throws<Pkcs11PoolTimeoutException>(() => pool.Rent());

        Assert.Equal("all 1 sessions stayed busy for 20 ms", ex.Message);
        Assert.Equal(1, pool.OpenSessions);
    }

    [Fact]
    public void Evict_ClosesTheSession_AndFreesItsPlace()
    {
        using var pool = Pool(1, 0);
        var lease = pool.Rent();
        var evicted = lease.Session;
        lease.Evict();
        lease.Dispose();

        Assert.Equal(0, pool.OpenSessions);
        Assert.Throws<ObjectDisposedException>(() => evicted.GetSessionInfo()); // closed (C_CloseSession)
        using var next = pool.Rent();
        Assert.Equal(2, _opened);
    }

    [Fact]
    public void Clear_ClosesIdleSessionsNow_AndLeasedOnesWhenReturned()
    {
        using var pool = Pool(2, 0);
        var leased = pool.Rent();
        var idle = pool.Rent();
        var idleSession = idle.Session;
        idle.Dispose();

        pool.Clear();

        Assert.Equal(1, pool.OpenSessions);
        Assert.Throws<ObjectDisposedException>(() => idleSession.GetSessionInfo()); // closed (C_CloseSession)
        var leasedSession = leased.Session;
        leased.Dispose();
        Assert.Equal(0, pool.OpenSessions);
        Assert.Throws<ObjectDisposedException>(() => leasedSession.GetSessionInfo()); // closed (C_CloseSession)
    }
}
