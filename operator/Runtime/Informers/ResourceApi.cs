using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using k8s;
using k8s.Models;
using Xks.Operator.Entities.Attributes;

namespace Xks.Operator.Runtime.Informers;

/// <summary>
/// Factories of <see cref="IResourceApi{T}"/>.
/// <code>
/// ResourceApi.For&lt;V1Alpha1Vault&gt;(client)            // custom resource, all namespaces (group/version/plural from [KubernetesEntity])
/// ResourceApi.For&lt;V1Secret&gt;(client, "xks")           // core-group kind, one namespace (typed calls)
/// ResourceApi.Custom&lt;V1PodDisruptionBudget&gt;(client, ns, ResourceType.Of&lt;V1PodDisruptionBudget&gt;() with { Version = "v1beta1" })
/// ResourceApi.Create&lt;V1Endpoints, V1EndpointsList&gt;(ResourceType.Of&lt;V1Endpoints&gt;(), ns, list, watch)   // anything else
/// </code>
/// </summary>
public static class ResourceApi
{
    /// <summary>
    /// The API of <typeparamref name="T"/>: the client's typed calls for the core-group kinds (ConfigMaps, Secrets,
    /// Services, ServiceAccounts, Pods, Namespaces), which the generic object endpoints cannot reach; those endpoints
    /// (<c>/apis/{group}/{version}/…</c>) for every kind of a named group (Deployments, Ingresses, Roles, custom
    /// resources, cert-manager Certificates…). <paramref name="namespace"/>
    /// <see langword="null"/> means all namespaces; a cluster-scoped custom resource (<see cref="EntityScopeAttribute"/>)
    /// ignores it, as Namespaces do.
    /// </summary>
    public static IResourceApi<T> For<T>(IKubernetes client, string? @namespace = null)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        ArgumentNullException.ThrowIfNull(client);
        var ns = string.IsNullOrEmpty(@namespace) || typeof(T).GetCustomAttribute<EntityScopeAttribute>()?.Scope == EntityScope.Cluster ? null : @namespace;
        return (IResourceApi<T>?)BuiltIn(typeof(T), client, ns) ?? new CustomResourceApi<T>(client, ResourceType.Of<T>(), ns);
    }

    /// <summary>
    /// The API of <typeparamref name="T"/> through the generic object endpoints (<c>IKubernetes.CustomObjects</c>),
    /// with the group/version/plural of <paramref name="type"/> (default: from <typeparamref name="T"/>'s
    /// <see cref="KubernetesEntityAttribute"/>).
    /// </summary>
    public static IResourceApi<T> Custom<T>(IKubernetes client, string? @namespace = null, ResourceType? type = null)
        where T : class, IKubernetesObject<V1ObjectMeta> =>
        new CustomResourceApi<T>(client, type ?? ResourceType.Of<T>(), @namespace);

    /// <summary>
    /// An API from two delegates — typically the client's generated <c>List…Async</c> and <c>WatchList…Async</c> calls.
    /// The watch delegate must pass the given <c>onError</c> on, so that ERROR events reach the informer.
    /// </summary>
    public static IResourceApi<T> Create<T, TList>(
        ResourceType type,
        string? @namespace,
        Func<ResourceListRequest, CancellationToken, Task<TList>> list,
        Func<ResourceWatchRequest, Action<Exception>, CancellationToken, IAsyncEnumerable<(WatchEventType, T)>> watch)
        where T : class, IKubernetesObject<V1ObjectMeta>
        where TList : IKubernetesObject<V1ListMeta>, IItems<T> =>
        new DelegateResourceApi<T, TList>(type, @namespace, list, watch);

    /// <summary>The watch <c>onError</c> callback: a Status sent as an ERROR event (or an undecodable line) ends the watch with that exception.</summary>
    internal static void Rethrow(Exception exception) => ExceptionDispatchInfo.Capture(exception).Throw();

    private static object? BuiltIn(Type type, IKubernetes c, string? ns)
    {
        if (type == typeof(V1ConfigMap))
        {
            return Create<V1ConfigMap, V1ConfigMapList>(ResourceType.Of<V1ConfigMap>(), ns,
                (r, ct) => ns is null
                    ? c.CoreV1.ListConfigMapForAllNamespacesAsync(continueParameter: r.Continue, fieldSelector: r.FieldSelector, labelSelector: r.LabelSelector, limit: r.Limit, cancellationToken: ct)
                    : c.CoreV1.ListNamespacedConfigMapAsync(ns, continueParameter: r.Continue, fieldSelector: r.FieldSelector, labelSelector: r.LabelSelector, limit: r.Limit, cancellationToken: ct),
                (r, onError, ct) => ns is null
                    ? c.CoreV1.WatchListConfigMapForAllNamespacesAsync(allowWatchBookmarks: r.AllowWatchBookmarks, fieldSelector: r.FieldSelector, labelSelector: r.LabelSelector, resourceVersion: r.ResourceVersion, timeoutSeconds: r.TimeoutSeconds, onError: onError, cancellationToken: ct)
                    : c.CoreV1.WatchListNamespacedConfigMapAsync(ns, allowWatchBookmarks: r.AllowWatchBookmarks, fieldSelector: r.FieldSelector, labelSelector: r.LabelSelector, resourceVersion: r.ResourceVersion, timeoutSeconds: r.TimeoutSeconds, onError: onError, cancellationToken: ct));
        }

        if (type == typeof(V1Secret))
        {
            return Create<V1Secret, V1SecretList>(ResourceType.Of<V1Secret>(), ns,
                (r, ct) => ns is null
                    ? c.CoreV1.ListSecretForAllNamespacesAsync(continueParameter: r.Continue, fieldSelector: r.FieldSelector, labelSelector: r.LabelSelector, limit: r.Limit, cancellationToken: ct)
                    : c.CoreV1.ListNamespacedSecretAsync(ns, continueParameter: r.Continue, fieldSelector: r.FieldSelector, labelSelector: r.LabelSelector, limit: r.Limit, cancellationToken: ct),
                (r, onError, ct) => ns is null
                    ? c.CoreV1.WatchListSecretForAllNamespacesAsync(allowWatchBookmarks: r.AllowWatchBookmarks, fieldSelector: r.FieldSelector, labelSelector: r.LabelSelector, resourceVersion: r.ResourceVersion, timeoutSeconds: r.TimeoutSeconds, onError: onError, cancellationToken: ct)
                    : c.CoreV1.WatchListNamespacedSecretAsync(ns, allowWatchBookmarks: r.AllowWatchBookmarks, fieldSelector: r.FieldSelector, labelSelector: r.LabelSelector, resourceVersion: r.ResourceVersion, timeoutSeconds: r.TimeoutSeconds, onError: onError, cancellationToken: ct));
        }

        if (type == typeof(V1Service))
        {
            return Create<V1Service, V1ServiceList>(ResourceType.Of<V1Service>(), ns,
                (r, ct) => ns is null
                    ? c.CoreV1.ListServiceForAllNamespacesAsync(continueParameter: r.Continue, fieldSelector: r.FieldSelector, labelSelector: r.LabelSelector, limit: r.Limit, cancellationToken: ct)
                    : c.CoreV1.ListNamespacedServiceAsync(ns, continueParameter: r.Continue, fieldSelector: r.FieldSelector, labelSelector: r.LabelSelector, limit: r.Limit, cancellationToken: ct),
                (r, onError, ct) => ns is null
                    ? c.CoreV1.WatchListServiceForAllNamespacesAsync(allowWatchBookmarks: r.AllowWatchBookmarks, fieldSelector: r.FieldSelector, labelSelector: r.LabelSelector, resourceVersion: r.ResourceVersion, timeoutSeconds: r.TimeoutSeconds, onError: onError, cancellationToken: ct)
                    : c.CoreV1.WatchListNamespacedServiceAsync(ns, allowWatchBookmarks: r.AllowWatchBookmarks, fieldSelector: r.FieldSelector, labelSelector: r.LabelSelector, resourceVersion: r.ResourceVersion, timeoutSeconds: r.TimeoutSeconds, onError: onError, cancellationToken: ct));
        }

        if (type == typeof(V1ServiceAccount))
        {
            return Create<V1ServiceAccount, V1ServiceAccountList>(ResourceType.Of<V1ServiceAccount>(), ns,
                (r, ct) => ns is null
                    ? c.CoreV1.ListServiceAccountForAllNamespacesAsync(continueParameter: r.Continue, fieldSelector: r.FieldSelector, labelSelector: r.LabelSelector, limit: r.Limit, cancellationToken: ct)
                    : c.CoreV1.ListNamespacedServiceAccountAsync(ns, continueParameter: r.Continue, fieldSelector: r.FieldSelector, labelSelector: r.LabelSelector, limit: r.Limit, cancellationToken: ct),
                (r, onError, ct) => ns is null
                    ? c.CoreV1.WatchListServiceAccountForAllNamespacesAsync(allowWatchBookmarks: r.AllowWatchBookmarks, fieldSelector: r.FieldSelector, labelSelector: r.LabelSelector, resourceVersion: r.ResourceVersion, timeoutSeconds: r.TimeoutSeconds, onError: onError, cancellationToken: ct)
                    : c.CoreV1.WatchListNamespacedServiceAccountAsync(ns, allowWatchBookmarks: r.AllowWatchBookmarks, fieldSelector: r.FieldSelector, labelSelector: r.LabelSelector, resourceVersion: r.ResourceVersion, timeoutSeconds: r.TimeoutSeconds, onError: onError, cancellationToken: ct));
        }

        if (type == typeof(V1Pod))
        {
            return Create<V1Pod, V1PodList>(ResourceType.Of<V1Pod>(), ns,
                (r, ct) => ns is null
                    ? c.CoreV1.ListPodForAllNamespacesAsync(continueParameter: r.Continue, fieldSelector: r.FieldSelector, labelSelector: r.LabelSelector, limit: r.Limit, cancellationToken: ct)
                    : c.CoreV1.ListNamespacedPodAsync(ns, continueParameter: r.Continue, fieldSelector: r.FieldSelector, labelSelector: r.LabelSelector, limit: r.Limit, cancellationToken: ct),
                (r, onError, ct) => ns is null
                    ? c.CoreV1.WatchListPodForAllNamespacesAsync(allowWatchBookmarks: r.AllowWatchBookmarks, fieldSelector: r.FieldSelector, labelSelector: r.LabelSelector, resourceVersion: r.ResourceVersion, timeoutSeconds: r.TimeoutSeconds, onError: onError, cancellationToken: ct)
                    : c.CoreV1.WatchListNamespacedPodAsync(ns, allowWatchBookmarks: r.AllowWatchBookmarks, fieldSelector: r.FieldSelector, labelSelector: r.LabelSelector, resourceVersion: r.ResourceVersion, timeoutSeconds: r.TimeoutSeconds, onError: onError, cancellationToken: ct));
        }

        if (type == typeof(V1Namespace))
        {
            // Cluster-scoped: the namespace argument does not apply.
            return Create<V1Namespace, V1NamespaceList>(ResourceType.Of<V1Namespace>(), null,
                (r, ct) => c.CoreV1.ListNamespaceAsync(continueParameter: r.Continue, fieldSelector: r.FieldSelector, labelSelector: r.LabelSelector, limit: r.Limit, cancellationToken: ct),
                (r, onError, ct) => c.CoreV1.WatchListNamespaceAsync(allowWatchBookmarks: r.AllowWatchBookmarks, fieldSelector: r.FieldSelector, labelSelector: r.LabelSelector, resourceVersion: r.ResourceVersion, timeoutSeconds: r.TimeoutSeconds, onError: onError, cancellationToken: ct));
        }

        return null;
    }

    private sealed class DelegateResourceApi<T, TList>(
        ResourceType type,
        string? @namespace,
        Func<ResourceListRequest, CancellationToken, Task<TList>> list,
        Func<ResourceWatchRequest, Action<Exception>, CancellationToken, IAsyncEnumerable<(WatchEventType, T)>> watch) : IResourceApi<T>
        where T : class, IKubernetesObject<V1ObjectMeta>
        where TList : IKubernetesObject<V1ListMeta>, IItems<T>
    {
        public ResourceType Type { get; } = type ?? throw new ArgumentNullException(nameof(type));

        public string? Namespace { get; } = string.IsNullOrEmpty(@namespace) ? null : @namespace;

        public async Task<ResourceList<T>> ListAsync(ResourceListRequest request, CancellationToken cancellationToken)
        {
            var result = await list(request, cancellationToken).ConfigureAwait(false);
            return new ResourceList<T>(result.Items is { } items ? [.. items] : [], result.Metadata?.ResourceVersion, result.Metadata?.ContinueProperty);
        }

        public async IAsyncEnumerable<(WatchEventType Type, T Object)> WatchAsync(
            ResourceWatchRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await foreach (var item in watch(request, Rethrow, cancellationToken).WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                yield return item;
            }
        }
    }
}
