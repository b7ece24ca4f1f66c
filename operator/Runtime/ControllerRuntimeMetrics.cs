using Prometheus;
using Xks.Operator.Runtime.Queues;

namespace Xks.Operator.Runtime;

/// <summary>
/// The controller runtime's Prometheus metrics, in their own <see cref="CollectorRegistry"/> (served at <c>/metrics</c>;
/// add the operator's own collectors to <see cref="Registry"/>):
/// <c>xks_operator_reconcile_total{controller,result}</c> (result success|conflict|error),
/// <c>xks_operator_reconcile_errors_total{controller}</c>, <c>xks_operator_reconcile_duration_seconds{controller}</c>,
/// <c>xks_operator_workqueue_depth{controller}</c>, <c>xks_operator_leader</c> (1 while this replica leads).
/// </summary>
public sealed class ControllerRuntimeMetrics
{
    private readonly Counter _reconciles;
    private readonly Counter _errors;
    private readonly Histogram _duration;
    private readonly Gauge _depth;
    private readonly Gauge _leader;

    public ControllerRuntimeMetrics(CollectorRegistry? registry = null)
    {
        Registry = registry ?? Prometheus.Metrics.NewCustomRegistry();
        var factory = Prometheus.Metrics.WithCustomRegistry(Registry);
        _reconciles = factory.CreateCounter("xks_operator_reconcile_total", "Reconciles by controller and result (success, conflict, error).",
            new CounterConfiguration { LabelNames = ["controller", "result"] });
        _errors = factory.CreateCounter("xks_operator_reconcile_errors_total", "Reconciles that failed with an error (conflicts not counted).",
            new CounterConfiguration { LabelNames = ["controller"] });
        _duration = factory.CreateHistogram("xks_operator_reconcile_duration_seconds", "Time spent in one reconcile.",
            new HistogramConfiguration { LabelNames = ["controller"], Buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] });
        _depth = factory.CreateGauge("xks_operator_workqueue_depth", "Objects waiting in the controller's work queue (ready, not yet being reconciled).",
            new GaugeConfiguration { LabelNames = ["controller"] });
        _leader = factory.CreateGauge("xks_operator_leader", "1 while this replica holds the leader lease (or runs without leader election), else 0.");
    }

    public CollectorRegistry Registry { get; }

    public const string Success = "success";
    public const string Conflict = "conflict";
    public const string Error = "error";

    /// <summary>Counts one reconcile of <paramref name="controller"/> with <paramref name="result"/> (<see cref="Success"/>, <see cref="Conflict"/> or <see cref="Error"/>).</summary>
    public void RecordReconcile(string controller, string result, TimeSpan duration)
    {
        _reconciles.WithLabels(controller, result).Inc();
        if (result == Error)
        {
            _errors.WithLabels(controller).Inc();
        }

        _duration.WithLabels(controller).Observe(duration.TotalSeconds);
    }

    /// <summary>Reports the length of <paramref name="queue"/> as <c>xks_operator_workqueue_depth{controller}</c> at each scrape.</summary>
    public void TrackQueue(string controller, WorkQueue queue)
    {
        ArgumentNullException.ThrowIfNull(queue);
        var child = _depth.WithLabels(controller);
        child.Set(0);
        Registry.AddBeforeCollectCallback(() => child.Set(queue.Length));

        // Make the result and error series exist from the start, so rate() works before the first failure.
        _reconciles.WithLabels(controller, Success);
        _reconciles.WithLabels(controller, Conflict);
        _reconciles.WithLabels(controller, Error);
        _errors.WithLabels(controller);
    }

    public void SetLeader(bool leading) => _leader.Set(leading ? 1 : 0);
}
