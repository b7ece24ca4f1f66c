using k8s.Models;

namespace Xks.Operator.Resources;

/// <summary>Null-safe reads of one label or annotation.</summary>
public static class MetadataExtensions
{
    public static string? Label(this V1ObjectMeta metadata, string key) =>
        metadata?.Labels is { } labels && labels.TryGetValue(key, out var value) ? value : null;

    public static string? Annotation(this V1ObjectMeta metadata, string key) =>
        metadata?.Annotations is { } annotations && annotations.TryGetValue(key, out var value) ? value : null;
}
