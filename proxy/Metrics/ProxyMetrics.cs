using Prometheus;
using Xks.Proxy.Authorization;
using Xks.Proxy.Crypto;
using Xks.Proxy.Errors;

namespace Xks.Proxy.Metrics;

/// <summary>
/// The proxy's Prometheus metrics. Labelled children are resolved once, so recording a request allocates nothing.
/// </summary>
public sealed class ProxyMetrics
{
    private static readonly string[] Operations = Enum.GetNames<XksOperation>();
    private static readonly string[] Outcomes = ["Success", .. Enum.GetNames<XksErrorName>()];

    private readonly Counter.Child[,] _requests;
    private readonly Histogram.Child[] _latency;
    private readonly Gauge _ekmMembers;
    private readonly Counter _subKeysDerived;
    private readonly Gauge _versionsUsedDirectly;
    private readonly CollectorRegistry _registry;

    public ProxyMetrics(CollectorRegistry? registry = null)
    {
        var factory = Prometheus.Metrics.WithCustomRegistry(registry ?? Prometheus.Metrics.DefaultRegistry);
        var requests = factory.CreateCounter("xks_requests_total", "XKS API requests by operation and outcome (Success or the XKS error name).",
            new CounterConfiguration { LabelNames = ["operation", "outcome"] });
        var latency = factory.CreateHistogram("xks_request_duration_seconds", "Time to answer an XKS API request, from the first byte read to the response written.",
            new HistogramConfiguration
            {
                LabelNames = ["operation"],
                Buckets = [0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
            });
        _requests = new Counter.Child[Operations.Length, Outcomes.Length];
        _latency = new Histogram.Child[Operations.Length];
        for (var o = 0; o < Operations.Length; o++)
        {
            _latency[o] = latency.WithLabels(Operations[o]);
            for (var r = 0; r < Outcomes.Length; r++)
            {
                _requests[o, r] = requests.WithLabels(Operations[o], Outcomes[r]);
            }
        }

        InvalidPath = factory.CreateCounter("xks_invalid_requests_total", "Requests refused before reaching an operation (unknown path, wrong method).");
        AuditDropped = factory.CreateCounter("xks_audit_records_dropped_total", "Audit records dropped because the writer could not keep up.");
        AuthenticationFailuresNotLogged = factory.CreateCounter("xks_authentication_failures_not_logged_total",
            "Failed SigV4 authentications beyond the log's budget: counted here instead of each writing a warning.");
        AuditUnauthenticatedDropped = factory.CreateCounter("xks_audit_unauthenticated_records_dropped_total",
            "Audit records of requests that failed authentication, beyond their own budget (they never crowd out records of authenticated requests).");
        ConfigUnconfirmedSeconds = factory.CreateGauge("xks_config_unconfirmed_seconds",
            "Seconds since the API server last confirmed the configuration (cluster mode); past the bound the replica refuses requests.");
        ConfigReloads = factory.CreateCounter("xks_config_reloads_total", "Configuration reloads by result.", new CounterConfiguration { LabelNames = ["result"] });
        _ekmMembers = factory.CreateGauge("xks_health_ekm_members", "Key managers by health status at the last deep health check.",
            new GaugeConfiguration { LabelNames = ["status"] });
        HealthCheckDuration = factory.CreateHistogram("xks_health_check_duration_seconds", "Duration of deep health checks.",
            new HistogramConfiguration { Buckets = [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 1, 5] });
        UnusableKeys = factory.CreateGauge("xks_keys_unusable", "Configured keys whose material is missing or fails its integrity check.");
        _subKeysDerived = factory.CreateCounter("xks_key_subkeys_derived_total",
            "Sub-keys this process derived for Encrypt (a fresh salt each: at start, then every 2^30 encryptions per key version).");
        _versionsUsedDirectly = factory.CreateGauge("xks_key_versions_used_directly",
            "HSM key versions without CKA_DERIVE that Encrypt uses directly, with no bound on random-IV use (rotate the key).");
        _registry = registry ?? Prometheus.Metrics.DefaultRegistry;
        ConfigWatchFailures = factory.CreateCounter("xks_config_watch_failures_total",
            "Failed attempts to list or watch the configuration Secret (cluster mode); the last good configuration keeps serving.");
    }

    public Counter InvalidPath { get; }

    public Counter AuditDropped { get; }

    public Counter AuthenticationFailuresNotLogged { get; }

    public Gauge ConfigUnconfirmedSeconds { get; }

    public Counter AuditUnauthenticatedDropped { get; }

    public Counter ConfigReloads { get; }

    public Histogram HealthCheckDuration { get; }

    public Gauge UnusableKeys { get; }

    public Counter ConfigWatchFailures { get; }

    /// <summary>Reads the backend's sub-key tally on every scrape.</summary>
    public void ObserveSubKeys(SubKeyTally tally) => _registry.AddBeforeCollectCallback(() =>
    {
        _subKeysDerived.IncTo(tally.Derived);
        _versionsUsedDirectly.Set(tally.DirectUse);
    });

    public void RecordRequest(XksOperation operation, XksErrorName? error, double seconds)
    {
        var outcome = error is { } e ? (int)e + 1 : 0;
        _requests[(int)operation, outcome].Inc();
        _latency[(int)operation].Observe(seconds);
    }

    public void RecordHealth(int active, int degraded, int unavailable)
    {
        _ekmMembers.WithLabels("ACTIVE").Set(active);
        _ekmMembers.WithLabels("DEGRADED").Set(degraded);
        _ekmMembers.WithLabels("UNAVAILABLE").Set(unavailable);
    }
}
