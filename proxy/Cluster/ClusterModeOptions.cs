using k8s;
using Xks.Proxy.Options;

namespace Xks.Proxy.Cluster;

/// <summary>Cluster mode: which Secret, how to reach the API server, and the timing of start-up and the watch.</summary>
public sealed class ClusterModeOptions
{
    public required ConfigSecretReference Secret { get; init; }

    public required KubernetesClientConfiguration Kubernetes { get; init; }

    /// <summary>
    /// How long start-up waits for a first valid configuration before the process exits with every problem
    /// (Kubernetes then restarts the container). Zero: one attempt.
    /// </summary>
    public TimeSpan StartupTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>First delay after a failed read, list or watch; doubled per failure, with jitter.</summary>
    public TimeSpan RetryInitialDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Longest delay between attempts while the API server is unreachable.</summary>
    public TimeSpan RetryMaxDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long one watch request lasts on the server (randomised up to twice as long), before it is renewed.</summary>
    public TimeSpan WatchTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Command-line overrides (volume root, address, ports) applied to every version of the document.</summary>
    public ConfigurationOverrides? Overrides { get; init; }

    /// <summary>How long a stopping replica keeps serving while /readyz answers 503 (see ShutdownDrain).</summary>
    public TimeSpan DrainDelay { get; init; } = TimeSpan.Zero;

    /// <summary>
    /// Fail closed: a replica whose configuration has not been confirmed by the API server for this long (watch events,
    /// a list, or the periodic read every quarter of it, at most a minute apart) answers /readyz 503 and every XKS
    /// request DependencyTimeoutException until it is again. Zero turns the bound off (the last configuration serves
    /// for as long as the API server is unreachable).
    /// </summary>
    public TimeSpan ConfigMaxAge { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>How often the configuration is confirmed by a read when the watch has been quiet: a quarter of <see cref="ConfigMaxAge"/>, at most a minute.</summary>
    public TimeSpan ConfirmInterval => ConfigMaxAge <= TimeSpan.Zero ? TimeSpan.FromMinutes(1) : TimeSpan.FromTicks(Math.Min(ConfigMaxAge.Ticks / 4, TimeSpan.FromMinutes(1).Ticks));

    /// <summary>Bound on one get or list request (the watch itself is bounded by <see cref="WatchTimeout"/>).</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(10);
}
