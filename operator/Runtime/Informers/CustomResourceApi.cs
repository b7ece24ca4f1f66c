using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace Xks.Operator.Runtime.Informers;

/// <summary>
/// List and watch through the generic object endpoints (<c>IKubernetes.CustomObjects</c>:
/// <c>/apis/{group}/{version}[/namespaces/{ns}]/{plural}</c>) — for custom resources, and for any kind of a named
/// group the client has no typed call for (or whose served version differs, e.g. policy/v1beta1 PodDisruptionBudgets
/// on servers older than 1.21).
/// </summary>
internal sealed class CustomResourceApi<T> : IResourceApi<T>
    where T : class, IKubernetesObject<V1ObjectMeta>
{
    private readonly IKubernetes _client;

    public CustomResourceApi(IKubernetes client, ResourceType type, string? @namespace)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(type);
        if (string.IsNullOrEmpty(type.Group))
        {
            throw new NotSupportedException(
                $"{type} is in the core group, which the generic object endpoints cannot address; use ResourceApi.Create with the typed CoreV1 calls.");
        }

        _client = client;
        Type = type;
        Namespace = string.IsNullOrEmpty(@namespace) ? null : @namespace;
    }

    public ResourceType Type { get; }

    public string? Namespace { get; }

    public async Task<ResourceList<T>> ListAsync(ResourceListRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        using var response = Namespace is null
            ? await _client.CustomObjects.ListClusterCustomObjectWithHttpMessagesAsync<ObjectList>(
                Type.Group, Type.Version, Type.Plural,
                continueParameter: request.Continue, fieldSelector: request.FieldSelector, labelSelector: request.LabelSelector,
                limit: request.Limit, cancellationToken: cancellationToken).ConfigureAwait(false)
            : await _client.CustomObjects.ListNamespacedCustomObjectWithHttpMessagesAsync<ObjectList>(
                Type.Group, Type.Version, Namespace, Type.Plural,
                continueParameter: request.Continue, fieldSelector: request.FieldSelector, labelSelector: request.LabelSelector,
                limit: request.Limit, cancellationToken: cancellationToken).ConfigureAwait(false);
        var body = response.Body;
        return new ResourceList<T>(body?.Items ?? [], body?.Metadata?.ResourceVersion, body?.Metadata?.ContinueProperty);
    }

    public async IAsyncEnumerable<(WatchEventType Type, T Object)> WatchAsync(
        ResourceWatchRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);

        // The generated watch calls yield the object as a JsonElement; it is bound to T here.
        var events = Namespace is null
            ? _client.CustomObjects.WatchListClusterCustomObjectAsync(
                Type.Group, Type.Version, Type.Plural,
                allowWatchBookmarks: request.AllowWatchBookmarks, fieldSelector: request.FieldSelector,
                labelSelector: request.LabelSelector, resourceVersion: request.ResourceVersion,
                timeoutSeconds: request.TimeoutSeconds, onError: ResourceApi.Rethrow, cancellationToken: cancellationToken)
            : _client.CustomObjects.WatchListNamespacedCustomObjectAsync(
                Type.Group, Type.Version, Namespace, Type.Plural,
                allowWatchBookmarks: request.AllowWatchBookmarks, fieldSelector: request.FieldSelector,
                labelSelector: request.LabelSelector, resourceVersion: request.ResourceVersion,
                timeoutSeconds: request.TimeoutSeconds, onError: ResourceApi.Rethrow, cancellationToken: cancellationToken);

        await foreach (var (type, item) in events.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            yield return (type, Bind(item));
        }
    }

    private static T Bind(object item) => item switch
    {
        T typed => typed,
        JsonElement element => KubernetesJson.Deserialize<T>(element) ?? throw new JsonException($"A watch event carried a null {typeof(T).Name}."),
        _ => KubernetesJson.Deserialize<T>(KubernetesJson.Serialize(item)) ?? throw new JsonException($"A watch event carried a null {typeof(T).Name}."),
    };

    /// <summary>The list envelope (<c>kind: …List</c>) of any custom resource.</summary>
    private sealed class ObjectList
    {
        [JsonPropertyName("metadata")]
        public V1ListMeta? Metadata { get; set; }

        [JsonPropertyName("items")]
        public List<T>? Items { get; set; }
    }
}
