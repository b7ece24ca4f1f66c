using System.Diagnostics;
using System.Net;
using k8s;
using k8s.Autorest;
using Xks.Testing;
using Xunit.Abstractions;

namespace Xks.Operator.Runtime.LeaderElection.Tests;

/// <summary>Lease-based leader election against the real local control plane, with short timings (3/2/0.5 s).</summary>
[Trait("Category", "Cluster")]
public sealed class LeaderElectionServiceTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(20);

    private readonly LocalCluster _cluster = LocalCluster.Instance;
    private readonly List<Candidate> _candidates = [];
    private string _ns = null!;
    private int _active;
    private int _maxActive;

    private IKubernetes Client => _cluster.Client;

    public async Task InitializeAsync() => _ns = await _cluster.CreateNamespaceAsync("rt-le");

    [Fact]
    public async Task TwoCandidates_LeaderCancelled_OtherTakesOverAfterTheLeaseExpires()
    {
        var a = Start("a", releaseOnCancel: false);
        var b = Start("b", releaseOnCancel: false);
        await Eventually.HoldsAsync(() => a.Service.IsLeader || b.Service.IsLeader, Within, "a leader");
        await Task.Delay(1500);
        var (leader, standby) = a.Service.IsLeader ? (a, b) : (b, a);
        Assert.False(standby.Service.IsLeader);
        Assert.Equal(1, leader.Terms);
        Assert.Equal(0, standby.Terms);
        Assert.Equal(leader.Service.Identity, standby.Service.CurrentLeader);

        var clock = Stopwatch.StartNew();
        await leader.StopAsync();
        Assert.False(leader.Service.IsLeader);
        await Eventually.HoldsAsync(() => standby.Service.IsLeader, Within, "takeover");
        var takeover = clock.Elapsed;
        output.WriteLine($"takeover after the leader stopped without releasing: {takeover.TotalSeconds:F2} s");

        // The standby waits out the lease (3 s) from the last renewal it saw, then acquires at its next retry.
        Assert.InRange(takeover, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(3 + (3 * 0.5) + 1));
        Assert.Equal(1, standby.Terms);
        Assert.Equal(1, _maxActive);
        var lease = await Client.CoordinationV1.ReadNamespacedLeaseAsync("xks-operator-leader", _ns);
        Assert.Equal(standby.Service.Identity, lease.Spec.HolderIdentity);
    }

    [Fact]
    public async Task LeaderStopsCleanly_LeaseReleased_StandbyTakesOverAtOnce()
    {
        // A long lease: without the release the standby would wait 10 s.
        var a = Start("a", releaseOnCancel: true, lease: TimeSpan.FromSeconds(10), renew: TimeSpan.FromSeconds(6));
        await Eventually.HoldsAsync(() => a.Service.IsLeader, Within, "a leads");
        var b = Start("b", releaseOnCancel: true, lease: TimeSpan.FromSeconds(10), renew: TimeSpan.FromSeconds(6));
        await Task.Delay(1000);
        Assert.False(b.Service.IsLeader);

        var clock = Stopwatch.StartNew();
        await a.StopAsync();
        var released = await Client.CoordinationV1.ReadNamespacedLeaseAsync("xks-operator-leader", _ns);
        Assert.NotEqual(a.Service.Identity, released.Spec.HolderIdentity);
        await Eventually.HoldsAsync(() => b.Service.IsLeader, Within, "takeover");
        output.WriteLine($"takeover after a released lease: {clock.Elapsed.TotalSeconds:F2} s");

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(4), $"takeover took {clock.Elapsed.TotalSeconds:F1} s");
        Assert.Equal(1, _maxActive);
    }

    [Fact]
    public async Task LeaseTakenOver_LeaderStopsItsWorkAndStandsBy_ThenLeadsAgain()
    {
        var a = Start("a", releaseOnCancel: false);
        await Eventually.HoldsAsync(() => a.Service.IsLeader, Within, "a leads");

        // Someone else writes the lease and keeps renewing it: the leader cannot renew and must step down.
        using var intruder = new CancellationTokenSource();
        var stealing = StealAsync(intruder.Token);
        await Eventually.HoldsAsync(() => !a.Service.IsLeader && Volatile.Read(ref _active) == 0, Within, "a stepped down");
        Assert.Equal(1, a.Terms);

        await intruder.CancelAsync();
        await stealing;
        await Eventually.HoldsAsync(() => a.Service.IsLeader, Within, "a leads again");
        Assert.Equal(2, a.Terms);
    }

    [Fact]
    public void Options_InconsistentDurations_Rejected()
    {
        var options = new LeaderElectionOptions { LeaseDuration = TimeSpan.FromSeconds(5), RenewDeadline = TimeSpan.FromSeconds(5) };

        Assert.Throws<ArgumentException>(options.Validate);
        Assert.Throws<ArgumentException>(() => new LeaderElectionService(Client, options));
    }

    public async Task DisposeAsync()
    {
        foreach (var candidate in _candidates)
        {
            await candidate.StopAsync();
        }

        try
        {
            await Client.CoreV1.DeleteNamespaceAsync(_ns);
        }
        catch (HttpOperationException)
        {
        }
    }

    private Candidate Start(string name, bool releaseOnCancel, TimeSpan? lease = null, TimeSpan? renew = null)
    {
        var options = new LeaderElectionOptions
        {
            Namespace = _ns,
            Identity = name,
            LeaseDuration = lease ?? TimeSpan.FromSeconds(3),
            RenewDeadline = renew ?? TimeSpan.FromSeconds(2),
            RetryPeriod = TimeSpan.FromMilliseconds(500),
            ReleaseOnCancel = releaseOnCancel,
        };
        var candidate = new Candidate(new LeaderElectionService(Client, options));
        candidate.Run = candidate.Service.RunAsync(async token =>
        {
            Interlocked.Increment(ref candidate.TermCount);
            var now = Interlocked.Increment(ref _active);
            int max;
            while ((max = Volatile.Read(ref _maxActive)) < now && Interlocked.CompareExchange(ref _maxActive, now, max) != max)
            {
            }

            try
            {
                await Task.Delay(Timeout.Infinite, token);
            }
            finally
            {
                Interlocked.Decrement(ref _active);
            }
        }, candidate.Stop.Token);
        _candidates.Add(candidate);
        return candidate;
    }

    private async Task StealAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                var lease = await Client.CoordinationV1.ReadNamespacedLeaseAsync("xks-operator-leader", _ns, cancellationToken: cancellationToken);
                lease.Spec.HolderIdentity = "intruder";
                lease.Spec.RenewTime = DateTime.UtcNow;
                await Client.CoordinationV1.ReplaceNamespacedLeaseAsync(lease, "xks-operator-leader", _ns, cancellationToken: cancellationToken);
                await Task.Delay(200, cancellationToken);
            }
            catch (HttpOperationException ex) when (ex.Response.StatusCode == HttpStatusCode.Conflict)
            {
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private sealed class Candidate(LeaderElectionService service)
    {
        public int TermCount;

        public LeaderElectionService Service { get; } = service;

        public CancellationTokenSource Stop { get; } = new();

        public Task Run { get; set; } = Task.CompletedTask;

        public int Terms => Volatile.Read(ref TermCount);

        public async Task StopAsync()
        {
            if (!Stop.IsCancellationRequested)
            {
                await Stop.CancelAsync();
            }

            await Run.WaitAsync(Within);
        }
    }
}
