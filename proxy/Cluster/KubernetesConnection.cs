using k8s;

namespace Xks.Proxy.Cluster;

/// <summary>How the proxy reaches the API server: an explicit kubeconfig, the KUBECONFIG variable, or the pod's service account.</summary>
public static class KubernetesConnection
{
    public const string KubeconfigEnvironmentVariable = "KUBECONFIG";
    public const string ServiceAccountNamespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

    /// <summary>
    /// <paramref name="kubeconfigPath"/> (from <c>--kubeconfig</c>) first, then the first existing file of KUBECONFIG,
    /// then the in-cluster service account. Throws <see cref="InvalidOperationException"/> when none is available.
    /// </summary>
    public static KubernetesClientConfiguration Build(string? kubeconfigPath)
    {
        var path = !string.IsNullOrWhiteSpace(kubeconfigPath) ? kubeconfigPath : FromEnvironment();
        if (path is not null)
        {
            if (!File.Exists(path))
            {
                throw new InvalidOperationException($"kubeconfig '{path}' does not exist");
            }

            try
            {
                return KubernetesClientConfiguration.BuildConfigFromConfigFile(path);
            }
            catch (Exception ex) when (ex is k8s.Exceptions.KubeConfigException or IOException or FormatException or YamlDotNet.Core.YamlException)
            {
                throw new InvalidOperationException($"kubeconfig '{path}' cannot be used: {ex.Message}", ex);
            }
        }

        if (KubernetesClientConfiguration.IsInCluster())
        {
            return KubernetesClientConfiguration.InClusterConfig();
        }

        throw new InvalidOperationException(
            $"not running in a Kubernetes pod (no service account) and no kubeconfig: pass --kubeconfig PATH or set {KubeconfigEnvironmentVariable}");
    }

    /// <summary>The pod's namespace (service-account file), else the kubeconfig context's, else <c>default</c>.</summary>
    public static string DefaultNamespace(KubernetesClientConfiguration configuration, string serviceAccountNamespaceFile = ServiceAccountNamespaceFile)
    {
        try
        {
            if (File.Exists(serviceAccountNamespaceFile) && File.ReadAllText(serviceAccountNamespaceFile).Trim() is { Length: > 0 } podNamespace)
            {
                return podNamespace;
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // fall through to the kubeconfig's namespace
        }

        return string.IsNullOrWhiteSpace(configuration.Namespace) ? "default" : configuration.Namespace;
    }

    private static string? FromEnvironment()
    {
        var value = Environment.GetEnvironmentVariable(KubeconfigEnvironmentVariable);
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        var entries = value.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return entries.FirstOrDefault(File.Exists) ?? entries.FirstOrDefault();
    }
}
