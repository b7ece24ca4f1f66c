namespace Xks.Operator.Runtime.LeaderElection;

/// <summary>Lease-based leader election (controller-runtime's defaults: 15 s lease, 10 s renew deadline, 2 s retry).</summary>
public sealed class LeaderElectionOptions
{
    /// <summary>Path of the pod's namespace inside a Kubernetes container.</summary>
    public const string ServiceAccountNamespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

    /// <summary>Off: this process reconciles as soon as it starts (one replica only).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Namespace of the Lease; default: the pod's namespace, else <c>default</c>.</summary>
    public string? Namespace { get; set; }

    public string LeaseName { get; set; } = "xks-operator-leader";

    /// <summary>This replica's identity in the Lease; default: <c>hostname_random</c> (unique per process).</summary>
    public string? Identity { get; set; }

    /// <summary>How long a candidate waits after the last renewal it saw before taking the lease over.</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How long the leader keeps trying to renew before it gives leadership up (must be below <see cref="LeaseDuration"/>).</summary>
    public TimeSpan RenewDeadline { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Interval between acquire/renew attempts.</summary>
    public TimeSpan RetryPeriod { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// On a clean shutdown, after the controllers have stopped, hand the lease back (empty holder) so that a standby
    /// takes over at once instead of after <see cref="LeaseDuration"/>.
    /// </summary>
    public bool ReleaseOnCancel { get; set; } = true;

    /// <summary>The namespace to use: <see cref="Namespace"/>, else the pod's namespace, else <c>default</c>.</summary>
    public string ResolveNamespace()
    {
        if (!string.IsNullOrEmpty(Namespace))
        {
            return Namespace;
        }

        try
        {
            if (File.Exists(ServiceAccountNamespaceFile))
            {
                var ns = File.ReadAllText(ServiceAccountNamespaceFile).Trim();
                if (ns.Length > 0)
                {
                    return ns;
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return "default";
    }

    /// <summary>The identity to use: <see cref="Identity"/>, else <c>hostname_random</c>.</summary>
    public string ResolveIdentity() =>
        !string.IsNullOrEmpty(Identity) ? Identity : $"{Environment.MachineName}_{Guid.NewGuid():N}";

    /// <summary>Throws when the durations cannot work together.</summary>
    public void Validate()
    {
        if (RetryPeriod <= TimeSpan.Zero || RenewDeadline <= RetryPeriod || LeaseDuration <= RenewDeadline)
        {
            throw new ArgumentException(
                $"Leader election needs 0 < RetryPeriod < RenewDeadline < LeaseDuration (got {RetryPeriod}, {RenewDeadline}, {LeaseDuration}).");
        }

        if (LeaseDuration.TotalSeconds < 1)
        {
            throw new ArgumentException("The lease duration must be at least one second (the Lease stores whole seconds).");
        }

        if (string.IsNullOrWhiteSpace(LeaseName))
        {
            throw new ArgumentException("The lease name must not be empty.");
        }
    }
}
