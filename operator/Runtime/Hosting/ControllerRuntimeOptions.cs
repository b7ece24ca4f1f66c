using Xks.Operator.Runtime.Informers;
using Xks.Operator.Runtime.LeaderElection;

namespace Xks.Operator.Runtime.Hosting;

/// <summary>Options of the <see cref="ControllerManager"/> (the operator's command line maps onto these).</summary>
public sealed class ControllerRuntimeOptions
{
    /// <summary>Watch only this namespace (<c>--namespace</c>); <see langword="null"/> for all namespaces.</summary>
    public string? Namespace { get; set; }

    /// <summary>Workers per controller unless the controller says otherwise (<c>--workers</c>).</summary>
    public int Workers { get; set; } = 1;

    /// <summary>How often every cached primary object is reconciled again (<c>--resync-period</c>); zero disables it.</summary>
    public TimeSpan ResyncPeriod { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary><c>--leader-elect</c>, <c>--leader-election-namespace</c> and the lease timings.</summary>
    public LeaderElectionOptions LeaderElection { get; set; } = new();

    /// <summary>Defaults of every informer (paging, watch timeouts, reconnect backoff).</summary>
    public ResourceInformerOptions Informers { get; set; } = new();
}
