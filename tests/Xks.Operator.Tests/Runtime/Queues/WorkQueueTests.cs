using Microsoft.Extensions.Time.Testing;

namespace Xks.Operator.Runtime.Queues.Tests;

public class WorkQueueTests
{
    private static readonly ResourceKey A = new("ns", "a");
    private static readonly ResourceKey B = new("ns", "b");

    private readonly FakeTimeProvider _time = new();

    [Fact]
    public async Task Add_SameKeyTwice_QueuedOnce()
    {
        using var queue = new WorkQueue(_time);

        queue.Add(A);
        queue.Add(A);
        queue.Add(B);

        Assert.Equal(2, queue.Length);
        Assert.Equal(A, await queue.GetAsync());
        Assert.Equal(B, await queue.GetAsync());
        Assert.Equal(0, queue.Length);
    }

    [Fact]
    public async Task Add_WhileProcessing_RequeuedOnceAfterDone()
    {
        using var queue = new WorkQueue(_time);
        queue.Add(A);
        var key = await queue.GetAsync();

        queue.Add(A);
        queue.Add(A);

        Assert.Equal(0, queue.Length);
        var next = queue.GetAsync();
        Assert.False(next.IsCompleted);

        queue.Done(key!.Value);

        Assert.Equal(A, await next.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal(0, queue.Length);
    }

    [Fact]
    public async Task Done_NotAddedMeanwhile_NotRequeued()
    {
        using var queue = new WorkQueue(_time);
        queue.Add(A);
        var key = await queue.GetAsync();

        queue.Done(key!.Value);

        Assert.Equal(0, queue.Length);
    }

    [Fact]
    public async Task GetAsync_WaitingWorker_ReceivesAddedKey()
    {
        using var queue = new WorkQueue(_time);
        var waiting = queue.GetAsync();
        Assert.False(waiting.IsCompleted);

        queue.Add(A);

        Assert.Equal(A, await waiting.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal(0, queue.Length);
    }

    [Fact]
    public async Task GetAsync_Cancelled_KeyGoesToNextWorker()
    {
        using var queue = new WorkQueue(_time);
        using var cts = new CancellationTokenSource();
        var cancelled = queue.GetAsync(cts.Token);
        var second = queue.GetAsync();

        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        queue.Add(A);

        Assert.Equal(A, await second.WaitAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task AddAfter_DelayElapses_KeyQueued()
    {
        using var queue = new WorkQueue(_time);

        queue.AddAfter(A, TimeSpan.FromSeconds(10));
        _time.Advance(TimeSpan.FromSeconds(9));
        Assert.Equal(0, queue.Length);
        Assert.Equal(1, queue.DelayedCount);

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, queue.Length);
        Assert.Equal(0, queue.DelayedCount);
        Assert.Equal(A, await queue.GetAsync());
    }

    [Fact]
    public void AddAfter_EarlierTimeWins()
    {
        using var queue = new WorkQueue(_time);

        queue.AddAfter(A, TimeSpan.FromSeconds(10));
        queue.AddAfter(A, TimeSpan.FromSeconds(2));
        queue.AddAfter(A, TimeSpan.FromSeconds(30));
        _time.Advance(TimeSpan.FromSeconds(2));

        Assert.Equal(1, queue.Length);
        Assert.Equal(0, queue.DelayedCount);
        _time.Advance(TimeSpan.FromSeconds(60));
        Assert.Equal(1, queue.Length);
    }

    [Fact]
    public void AddAfter_ZeroDelay_QueuedNow()
    {
        using var queue = new WorkQueue(_time);

        queue.AddAfter(A, TimeSpan.Zero);

        Assert.Equal(1, queue.Length);
    }

    [Fact]
    public async Task AddRateLimited_RepeatedFailures_DelayDoublesFromFiveMilliseconds()
    {
        using var queue = new WorkQueue(_time);
        var expected = new[] { 5, 10, 20, 40, 80, 160 };

        foreach (var ms in expected)
        {
            Assert.Equal(TimeSpan.FromMilliseconds(ms), queue.NextBackoff(A));
            queue.AddRateLimited(A);
            _time.Advance(TimeSpan.FromMilliseconds(ms - 1));
            Assert.Equal(0, queue.Length);
            _time.Advance(TimeSpan.FromMilliseconds(1));
            Assert.Equal(1, queue.Length);
            var key = await queue.GetAsync();
            queue.Done(key!.Value);
        }

        Assert.Equal(expected.Length, queue.NumRequeues(A));
    }

    [Fact]
    public void AddRateLimited_ManyFailures_CappedAtThousandSeconds()
    {
        using var queue = new WorkQueue(_time);

        for (var i = 0; i < 100; i++)
        {
            queue.AddRateLimited(A);
        }

        Assert.Equal(TimeSpan.FromSeconds(1000), queue.NextBackoff(A));
        Assert.Equal(100, queue.NumRequeues(A));
    }

    [Fact]
    public void AddRateLimited_PerKey_OtherKeysUnaffected()
    {
        using var queue = new WorkQueue(_time);

        queue.AddRateLimited(A);
        queue.AddRateLimited(A);
        queue.AddRateLimited(A);

        Assert.Equal(TimeSpan.FromMilliseconds(40), queue.NextBackoff(A));
        Assert.Equal(TimeSpan.FromMilliseconds(5), queue.NextBackoff(B));
    }

    [Fact]
    public void Forget_AfterFailures_BackoffResets()
    {
        using var queue = new WorkQueue(_time);
        queue.AddRateLimited(A);
        queue.AddRateLimited(A);

        queue.Forget(A);

        Assert.Equal(0, queue.NumRequeues(A));
        Assert.Equal(TimeSpan.FromMilliseconds(5), queue.NextBackoff(A));
    }

    [Fact]
    public async Task AddAfter_WhileProcessing_RequeuedAfterDone()
    {
        using var queue = new WorkQueue(_time);
        queue.Add(A);
        var key = await queue.GetAsync();

        queue.AddAfter(A, TimeSpan.FromSeconds(1));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(0, queue.Length);

        queue.Done(key!.Value);
        Assert.Equal(1, queue.Length);
    }

    [Fact]
    public async Task ShutDown_WaitingAndLaterGets_ReturnNull()
    {
        var queue = new WorkQueue(_time);
        var waiting = queue.GetAsync();
        queue.AddAfter(B, TimeSpan.FromSeconds(1));

        queue.ShutDown();

        Assert.Null(await waiting.WaitAsync(TimeSpan.FromSeconds(5)));
        queue.Add(A);
        Assert.Equal(0, queue.Length);
        Assert.Null(await queue.GetAsync());
        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(0, queue.Length);
        Assert.True(queue.IsShuttingDown);
    }

    [Fact]
    public async Task Workers_ConcurrentAddsOfOneKey_NeverProcessedTwiceAtOnce()
    {
        using var queue = new WorkQueue();
        var inFlight = 0;
        var maxInFlight = 0;
        var processed = 0;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));

        async Task WorkerAsync()
        {
            while (await queue.GetAsync(cts.Token) is { } key)
            {
                var now = Interlocked.Increment(ref inFlight);
                InterlockedMax(ref maxInFlight, now);
                await Task.Yield();
                Interlocked.Decrement(ref inFlight);
                Interlocked.Increment(ref processed);
                queue.Done(key);
            }
        }

        var workers = Enumerable.Range(0, 4).Select(_ => Task.Run(WorkerAsync)).ToArray();
        for (var i = 0; i < 2000; i++)
        {
            queue.Add(A);
            if (i % 100 == 0)
            {
                await Task.Delay(1);
            }
        }

        while (queue.Length > 0)
        {
            await Task.Delay(10);
        }

        await Task.Delay(50);
        queue.ShutDown();
        await Task.WhenAll(workers);

        Assert.Equal(1, maxInFlight);
        Assert.InRange(processed, 1, 2000);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }
}
