using System.Reflection;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;

namespace Xks.Operator.Api;

/// <summary>
/// The writes a reconciler makes to its own custom resource: status through /status (only when it changed) and
/// metadata.finalizers (a merge patch guarded by resourceVersion, so a concurrent change is a 409 and a retry).
/// The operator never writes spec.
/// </summary>
public sealed class CustomResourceWriter(IKubernetes client)
{
    public async Task WriteStatusAsync<TResource, TStatus>(TResource resource, TStatus status, CancellationToken cancellationToken)
        where TResource : class, IKubernetesObject<V1ObjectMeta>, IStatus<TStatus>
    {
        ArgumentNullException.ThrowIfNull(resource);
        if (KubernetesJson.Serialize(status) == KubernetesJson.Serialize(resource.Status))
        {
            return;
        }

        var (group, version, plural) = Coordinates<TResource>();
        await client.CustomObjects.PatchNamespacedCustomObjectStatusAsync(
            new V1Patch(StatusPatch(resource.Status, status), V1Patch.PatchType.MergePatch), group, version, resource.Metadata.NamespaceProperty, plural, resource.Metadata.Name,
            fieldManager: ServerSideApply.FieldManager, cancellationToken: cancellationToken).ConfigureAwait(false);
        resource.Status = status;
    }

    /// <summary>A deep copy of a status to build the next one in (a new status when there is none yet).</summary>
    public static TStatus CopyOf<TStatus>(TStatus? status)
        where TStatus : class, new() =>
        status is null ? new TStatus() : KubernetesJson.Deserialize<TStatus>(KubernetesJson.Serialize(status));

    public async Task SetFinalizersAsync<TResource>(TResource resource, IList<string> finalizers, CancellationToken cancellationToken)
        where TResource : class, IKubernetesObject<V1ObjectMeta>
    {
        ArgumentNullException.ThrowIfNull(resource);
        var (group, version, plural) = Coordinates<TResource>();
        var patch = new { metadata = new { finalizers, resourceVersion = resource.Metadata.ResourceVersion } };
        var stored = await client.CustomObjects.PatchNamespacedCustomObjectAsync(
            new V1Patch(patch, V1Patch.PatchType.MergePatch), group, version, resource.Metadata.NamespaceProperty, plural, resource.Metadata.Name,
            fieldManager: ServerSideApply.FieldManager, cancellationToken: cancellationToken).ConfigureAwait(false);
        resource.Metadata.Finalizers = finalizers;
        if (stored is not null && KubernetesJson.Deserialize<TResource>(KubernetesJson.Serialize(stored)) is { } updated)
        {
            resource.Metadata.ResourceVersion = updated.Metadata.ResourceVersion;
        }
    }

    public Task AddFinalizerAsync<TResource>(TResource resource, string finalizer, CancellationToken cancellationToken)
        where TResource : class, IKubernetesObject<V1ObjectMeta> =>
        (resource.Metadata.Finalizers ?? []).Contains(finalizer)
            ? Task.CompletedTask
            : SetFinalizersAsync(resource, [.. resource.Metadata.Finalizers ?? [], finalizer], cancellationToken);

    public Task RemoveFinalizerAsync<TResource>(TResource resource, string finalizer, CancellationToken cancellationToken)
        where TResource : class, IKubernetesObject<V1ObjectMeta> =>
        (resource.Metadata.Finalizers ?? []).Contains(finalizer)
            ? SetFinalizersAsync(resource, [.. (resource.Metadata.Finalizers ?? []).Where(f => f != finalizer)], cancellationToken)
            : Task.CompletedTask;

    /// <summary>
    /// A JSON merge patch from <paramref name="before"/> to <paramref name="after"/>: the serializer leaves null fields
    /// out, and a merge patch keeps what it does not mention, so a field that became null is sent as an explicit null.
    /// </summary>
    internal static string StatusPatch<TStatus>(TStatus before, TStatus after)
    {
        var next = JsonNode.Parse(KubernetesJson.Serialize(after)) as JsonObject ?? [];
        if (before is not null && JsonNode.Parse(KubernetesJson.Serialize(before)) is JsonObject previous)
        {
            foreach (var (name, _) in previous)
            {
                if (!next.ContainsKey(name))
                {
                    next[name] = null;
                }
            }
        }

        return new JsonObject { ["status"] = next }.ToJsonString();
    }

    private static (string Group, string Version, string Plural) Coordinates<TResource>()
    {
        var entity = typeof(TResource).GetCustomAttribute<KubernetesEntityAttribute>()
            ?? throw new InvalidOperationException($"{typeof(TResource).Name} has no [KubernetesEntity] attribute");
        return (entity.Group, entity.ApiVersion, entity.PluralName);
    }
}
