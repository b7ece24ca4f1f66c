using System.Net;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using k8s;
using k8s.Models;
using Xks.Operator.Runtime.Informers;

namespace Xks.Operator.Runtime.Support.Tests;

/// <summary>
/// An in-process API of one kind for controller tests: a store with a resourceVersion counter, list, and a watch fed
/// by <see cref="Create"/>, <see cref="Update"/> and <see cref="Delete"/>. <see cref="Expire"/> ends the current watch
/// with a 410 ERROR, as the API server does after compaction.
/// </summary>
internal sealed class InMemoryResourceApi<T> : IResourceApi<T>
    where T : class, IKubernetesObject<V1ObjectMeta>
{
    private readonly Lock _lock = new();
    private readonly Dictionary<ResourceKey, T> _store = [];
    private Channel<(WatchEventType, T)?>? _watch;
    private long _resourceVersion = 100;

    public ResourceType Type { get; } = ResourceType.Of<T>();

    public string? Namespace => null;

    public int Lists { get; private set; }

    public int Watches { get; private set; }

    public T Create(T item) => Write(WatchEventType.Added, item);

    public T Update(T item) => Write(WatchEventType.Modified, item);

    public T Delete(T item) => Write(WatchEventType.Deleted, item);

    /// <summary>Ends the open watch with a 410 Expired ERROR event.</summary>
    public void Expire()
    {
        lock (_lock)
        {
            _watch?.Writer.TryWrite(null);
        }
    }

    public Task<ResourceList<T>> ListAsync(ResourceListRequest request, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            Lists++;
            return Task.FromResult(new ResourceList<T>([.. _store.Values.Select(Copy)], _resourceVersion.ToString(System.Globalization.CultureInfo.InvariantCulture), null));
        }
    }

    public async IAsyncEnumerable<(WatchEventType Type, T Object)> WatchAsync(ResourceWatchRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        Channel<(WatchEventType, T)?> channel;
        lock (_lock)
        {
            Watches++;
            channel = Channel.CreateUnbounded<(WatchEventType, T)?>();
            _watch = channel;
        }

        await foreach (var item in channel.Reader.ReadAllAsync(cancellationToken))
        {
            if (item is not { } change)
            {
                throw new KubernetesException(new V1Status { Code = (int)HttpStatusCode.Gone, Reason = "Expired", Message = "too old resource version" });
            }

            yield return change;
        }
    }

    private T Write(WatchEventType type, T item)
    {
        lock (_lock)
        {
            item.Metadata.ResourceVersion = (++_resourceVersion).ToString(System.Globalization.CultureInfo.InvariantCulture);
            var key = ResourceKey.From(item);
            if (type == WatchEventType.Deleted)
            {
                _store.Remove(key);
            }
            else
            {
                _store[key] = Copy(item);
            }

            _watch?.Writer.TryWrite((type, Copy(item)));
            return item;
        }
    }

    private static T Copy(T item) => KubernetesJson.Deserialize<T>(KubernetesJson.Serialize(item));
}
