using Xks.Operator.Entities;

namespace Xks.Operator.Options;

/// <summary>The operator's settings, from its command line (<see cref="OperatorCommandLine"/>).</summary>
public sealed class OperatorOptions
{
    /// <summary>Path of a kubeconfig; null: in-cluster configuration, else $KUBECONFIG / ~/.kube/config.</summary>
    public string? Kubeconfig { get; set; }

    /// <summary>Watch one namespace only (namespace-scoped install); null: all namespaces.</summary>
    public string? Namespace { get; set; }

    public bool LeaderElect { get; set; } = true;

    public string? LeaderElectionNamespace { get; set; }

    public int Workers { get; set; } = 2;

    public string HttpAddress { get; set; } = "0.0.0.0";

    public int HttpPort { get; set; } = 8080;

    public TimeSpan ResyncPeriod { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Proxy image for Vaults that do not name one in spec.proxy.image.</summary>
    public string ProxyImage { get; set; } = V1Alpha1VaultProxy.DefaultImage;

    /// <summary>How often KeySets and CloudKeys re-read AWS to find drift (a key disabled or an alias moved by hand).</summary>
    public TimeSpan AwsResyncPeriod { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long the proxy still accepts a KeySet's previous SigV4 credential after KMS switched to the new one.</summary>
    public TimeSpan CredentialGracePeriod { get; set; } = TimeSpan.FromMinutes(2);
}
