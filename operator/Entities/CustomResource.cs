using System.Collections.Concurrent;
using System.Reflection;
using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace Xks.Operator.Entities;

/// <summary>
/// Base of the xks.dev custom resources: <c>apiVersion</c> and <c>kind</c> come from the class's
/// <see cref="KubernetesEntityAttribute"/>, so <c>new V1Alpha1Vault()</c> is ready to send.
/// </summary>
public abstract class CustomResource<TSpec, TStatus> : IKubernetesObject<V1ObjectMeta>, ISpec<TSpec>, IStatus<TStatus>
    where TSpec : new()
    where TStatus : new()
{
    protected CustomResource()
    {
        var entity = EntityAttributes.Of(GetType());
        ApiVersion = entity.ApiVersion;
        Kind = entity.Kind;
    }

    [JsonPropertyName("apiVersion")]
    public string ApiVersion { get; set; }

    [JsonPropertyName("kind")]
    public string Kind { get; set; }

    [JsonPropertyName("metadata")]
    public V1ObjectMeta Metadata { get; set; } = new();

    [JsonPropertyName("spec")]
    public TSpec Spec { get; set; } = new();

    /// <summary>Observed state, written by the operator through the status subresource. Never null after construction.</summary>
    [JsonPropertyName("status")]
    public TStatus Status { get; set; } = new();
}

/// <summary>A list of custom resources as the API returns it (<c>kind: VaultList</c>, …).</summary>
public class CustomResourceList<T> : IKubernetesObject<V1ListMeta>, IItems<T>
    where T : IKubernetesObject
{
    public CustomResourceList()
    {
        var entity = EntityAttributes.Of(typeof(T));
        ApiVersion = entity.ApiVersion;
        Kind = entity.Kind + "List";
    }

    [JsonPropertyName("apiVersion")]
    public string ApiVersion { get; set; }

    [JsonPropertyName("kind")]
    public string Kind { get; set; }

    [JsonPropertyName("metadata")]
    public V1ListMeta Metadata { get; set; } = new();

    [JsonPropertyName("items")]
    public IList<T> Items { get; set; } = [];
}

/// <summary>apiVersion and kind of an entity type, read once from its <see cref="KubernetesEntityAttribute"/>.</summary>
internal static class EntityAttributes
{
    private static readonly ConcurrentDictionary<Type, (string ApiVersion, string Kind)> Cache = new();

    public static (string ApiVersion, string Kind) Of(Type type) => Cache.GetOrAdd(type, static t =>
    {
        var entity = t.GetCustomAttribute<KubernetesEntityAttribute>()
            ?? throw new InvalidOperationException($"{t.Name} has no [KubernetesEntity] attribute");
        var apiVersion = string.IsNullOrEmpty(entity.Group) ? entity.ApiVersion : $"{entity.Group}/{entity.ApiVersion}";
        return (apiVersion, entity.Kind);
    });
}
