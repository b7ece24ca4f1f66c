namespace Xks.Operator.Support.Tests;

/// <summary>
/// Tests whose claim is "no request failed while X changed", measured against KMS's 250 ms budget for the proxy: they
/// run alone, after the parallel collections, so the 2-core machine's other tests cannot be what misses the budget.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LatencyCollection
{
    public const string Name = "latency";
}
