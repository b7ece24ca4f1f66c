namespace Xks.Operator.Charts.Tests;

/// <summary>
/// The chart tests share cluster-scoped objects (the xks.dev CRDs, ClusterRoles) and the chart folder, so they run
/// one after another; other collections still run beside them.
/// </summary>
[CollectionDefinition(Name)]
public sealed class ChartCollection
{
    public const string Name = "chart";
}
