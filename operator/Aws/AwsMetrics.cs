using Prometheus;

namespace Xks.Operator.Aws;

/// <summary>
/// <c>xks_operator_aws_calls_total{service,operation,outcome}</c> (outcome: success, or the reason of
/// <see cref="AwsErrors.Describe"/>), <c>xks_operator_aws_call_duration_seconds{service,operation}</c> (the call with
/// the SDK's retries, without the rate-limit wait) and <c>xks_operator_aws_rate_limit_wait_seconds{service}</c>.
/// </summary>
public sealed class AwsMetrics
{
    public const string Success = "success";

    private readonly Counter _calls;
    private readonly Histogram _duration;
    private readonly Histogram _wait;

    public AwsMetrics(CollectorRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        var factory = Prometheus.Metrics.WithCustomRegistry(registry);
        _calls = factory.CreateCounter("xks_operator_aws_calls_total", "AWS API calls by service, operation and outcome (success or the condition reason of the failure).",
            new CounterConfiguration { LabelNames = ["service", "operation", "outcome"] });
        _duration = factory.CreateHistogram("xks_operator_aws_call_duration_seconds", "Duration of one AWS API call including the SDK's retries.",
            new HistogramConfiguration { LabelNames = ["service", "operation"], Buckets = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] });
        _wait = factory.CreateHistogram("xks_operator_aws_rate_limit_wait_seconds", "Time a call waited for the client-side rate limit.",
            new HistogramConfiguration { LabelNames = ["service"], Buckets = [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] });
    }

    public void RecordCall(string service, string operation, string outcome, TimeSpan duration)
    {
        _calls.WithLabels(service, operation, outcome).Inc();
        _duration.WithLabels(service, operation).Observe(duration.TotalSeconds);
    }

    public void RecordWait(string service, TimeSpan wait) => _wait.WithLabels(service).Observe(wait.TotalSeconds);

    /// <summary>The count of calls with these labels so far (for tests and diagnostics).</summary>
    public double Calls(string service, string operation, string outcome) => _calls.WithLabels(service, operation, outcome).Value;
}
