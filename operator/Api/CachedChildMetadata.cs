using k8s;
using k8s.Models;
using Xks.Operator.Runtime;
using Xks.Operator.Runtime.Informers;

namespace Xks.Operator.Api;

/// <summary>
/// The metadata of an object the operator is about to apply, from the label-selected informer caches its controllers
/// already watch, so a steady reconcile reads no child from the API server. A miss falls back to a GET: an object of
/// the same name without the operator's label (somebody else's) is in no cache, and must still be seen — and left
/// alone — before anything is applied over it.
/// </summary>
internal sealed class CachedChildMetadata(ServerSideApply apply, InformerFactory informers, string labelSelector)
{
    public async Task<V1ObjectMeta?> ReadAsync(IKubernetesObject<V1ObjectMeta> desired, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(desired);
        var key = new ResourceKey(desired.Metadata.NamespaceProperty, desired.Metadata.Name);
        var cached = desired switch
        {
            V1ServiceAccount => Cached<V1ServiceAccount>(key),
            V1Secret => Cached<V1Secret>(key),
            V1Service => Cached<V1Service>(key),
            V1Role => Cached<V1Role>(key),
            V1RoleBinding => Cached<V1RoleBinding>(key),
            V1Deployment => Cached<V1Deployment>(key),
            V1Ingress => Cached<V1Ingress>(key),
            V1NetworkPolicy => Cached<V1NetworkPolicy>(key),
            _ => null,
        };
        return cached ?? await apply.ReadMetadataAsync(desired, cancellationToken).ConfigureAwait(false);
    }

    private V1ObjectMeta? Cached<T>(ResourceKey key)
        where T : class, IKubernetesObject<V1ObjectMeta> =>
        informers.GetInformer<T>(labelSelector).TryGet(key, out var cached) ? cached.Metadata : null;
}
