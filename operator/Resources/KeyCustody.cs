using k8s.Models;

namespace Xks.Operator.Resources;

/// <summary>
/// What keeps a key-material or master-key Secret from being deleted by accident: the finalizer
/// <see cref="Finalizer"/>, which only the operator removes, and only when the material may be destroyed; Helm's
/// <c>resource-policy: keep</c> (never deleted on uninstall or upgrade); Argo CD's <c>Prune=false</c> (never pruned by
/// a sync). See docs/key-custody.md.
/// </summary>
public static class KeyCustody
{
    public const string Finalizer = "xks.dev/key-custody";

    /// <summary>The annotations that tell Helm and Argo CD to leave the Secret alone.</summary>
    public static IReadOnlyDictionary<string, string> Annotations { get; } = new SortedDictionary<string, string>(StringComparer.Ordinal)
    {
        ["argocd.argoproj.io/sync-options"] = "Prune=false",
        ["helm.sh/resource-policy"] = "keep",
    };

    /// <summary>Adds the finalizer and the annotations to <paramref name="metadata"/> (kept sorted); returns it.</summary>
    public static V1ObjectMeta Protect(V1ObjectMeta metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        var annotations = new Dictionary<string, string>(metadata.Annotations ?? new Dictionary<string, string>(), StringComparer.Ordinal);
        foreach (var (name, value) in Annotations)
        {
            annotations[name] = value;
        }

        metadata.Annotations = Resources.Annotations.Sorted(annotations);
        metadata.Finalizers = [.. (metadata.Finalizers ?? []).Where(f => f != Finalizer).Append(Finalizer)];
        return metadata;
    }

    /// <summary>Whether <paramref name="metadata"/> already carries the finalizer and every annotation.</summary>
    public static bool IsProtected(V1ObjectMeta? metadata) =>
        metadata is not null
        && (metadata.Finalizers ?? []).Contains(Finalizer)
        && Annotations.All(a => metadata.Annotations is not null && metadata.Annotations.TryGetValue(a.Key, out var value) && value == a.Value);
}
