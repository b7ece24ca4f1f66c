using k8s;
using k8s.Models;

namespace Xks.Operator.Runtime.Informers;

/// <summary>
/// List and watch of one kind, in one namespace or in all namespaces — the seam between <see cref="ResourceInformer{T}"/>
/// and the API server. Get one from <see cref="ResourceApi.For{T}"/> (built-in kinds and custom resources) or build one
/// from two delegates with <see cref="ResourceApi.Create{T, TList}"/>.
/// </summary>
public interface IResourceApi<T>
    where T : class, IKubernetesObject<V1ObjectMeta>
{
    /// <summary>Group, version, kind and plural of <typeparamref name="T"/>.</summary>
    ResourceType Type { get; }

    /// <summary>The namespace listed and watched; <see langword="null"/> for all namespaces (or a cluster-scoped kind).</summary>
    string? Namespace { get; }

    /// <summary>Lists one page. HTTP failures throw <see cref="k8s.Autorest.HttpOperationException"/>.</summary>
    Task<ResourceList<T>> ListAsync(ResourceListRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// Watches from <see cref="ResourceWatchRequest.ResourceVersion"/>. The sequence ends when the server closes the
    /// stream; a <c>Status</c> sent by the server as an ERROR event (410 Gone/Expired, …) is thrown as a
    /// <see cref="KubernetesException"/>.
    /// </summary>
    IAsyncEnumerable<(WatchEventType Type, T Object)> WatchAsync(ResourceWatchRequest request, CancellationToken cancellationToken);
}

/// <summary>Parameters of one list call.</summary>
public sealed record ResourceListRequest
{
    public string? LabelSelector { get; init; }

    public string? FieldSelector { get; init; }

    /// <summary>Page size (<c>limit</c>); <see langword="null"/> for one unpaged list.</summary>
    public int? Limit { get; init; }

    /// <summary>The <c>continue</c> token of the previous page.</summary>
    public string? Continue { get; init; }
}

/// <summary>Parameters of one watch call.</summary>
public sealed record ResourceWatchRequest
{
    /// <summary>Watch changes after this resourceVersion (the list's, or the last event's).</summary>
    public required string ResourceVersion { get; init; }

    public string? LabelSelector { get; init; }

    public string? FieldSelector { get; init; }

    /// <summary>Server-side timeout; the server ends the stream after it and the informer watches again.</summary>
    public int? TimeoutSeconds { get; init; }

    /// <summary>Ask for BOOKMARK events, so the resourceVersion stays fresh when nothing changes.</summary>
    public bool AllowWatchBookmarks { get; init; } = true;
}

/// <summary>One page of a list: the items, the list's resourceVersion and the token of the next page.</summary>
public sealed record ResourceList<T>(IReadOnlyList<T> Items, string? ResourceVersion, string? Continue);
