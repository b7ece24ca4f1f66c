using k8s;

namespace Xks.Operator.Api;

/// <summary>The Kubernetes client of the administrative commands (backup, restore, shamir …): the caller's own identity.</summary>
internal static class AdminClient
{
    /// <summary>From <paramref name="kubeconfig"/>; else in-cluster; else $KUBECONFIG or ~/.kube/config.</summary>
    public static Kubernetes For(string? kubeconfig) => new(kubeconfig is not null
        ? KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeconfig)
        : KubernetesClientConfiguration.IsInCluster() ? KubernetesClientConfiguration.InClusterConfig() : KubernetesClientConfiguration.BuildDefaultConfig());
}
