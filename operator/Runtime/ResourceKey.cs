using k8s;
using k8s.Models;

namespace Xks.Operator.Runtime;

/// <summary>
/// Identifies one object of a kind: its namespace (empty for cluster-scoped objects) and name. The key of the
/// informer caches and of the work queues; <see cref="ToString"/> gives <c>namespace/name</c>.
/// </summary>
public readonly record struct ResourceKey(string Namespace, string Name)
{
    /// <summary>The key of <paramref name="resource"/>.</summary>
    public static ResourceKey From(IKubernetesObject<V1ObjectMeta> resource)
    {
        ArgumentNullException.ThrowIfNull(resource);
        var metadata = resource.Metadata ?? throw new ArgumentException("The object has no metadata.", nameof(resource));
        return new ResourceKey(metadata.NamespaceProperty ?? string.Empty, metadata.Name ?? string.Empty);
    }

    public override string ToString() => string.IsNullOrEmpty(Namespace) ? Name : $"{Namespace}/{Name}";
}
