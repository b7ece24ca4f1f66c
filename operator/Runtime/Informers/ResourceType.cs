using System.Reflection;
using k8s.Models;

namespace Xks.Operator.Runtime.Informers;

/// <summary>
/// Group, version, kind and plural of a Kubernetes kind — what the REST paths are built from. <see cref="Of{T}"/> reads
/// them from the <see cref="KubernetesEntityAttribute"/> that both the client's built-in models (<c>V1ConfigMap</c>,
/// <c>V1Deployment</c>…) and the operator's custom resources carry.
/// </summary>
public sealed record ResourceType(string Group, string Version, string Kind, string Plural)
{
    /// <summary><c>v1</c> for the core group, <c>group/version</c> otherwise.</summary>
    public string ApiVersion => string.IsNullOrEmpty(Group) ? Version : $"{Group}/{Version}";

    /// <summary>The type of <typeparamref name="T"/>, from its <see cref="KubernetesEntityAttribute"/>.</summary>
    public static ResourceType Of<T>() => Of(typeof(T));

    /// <summary>The type of <paramref name="type"/>, from its <see cref="KubernetesEntityAttribute"/>.</summary>
    public static ResourceType Of(Type type)
    {
        ArgumentNullException.ThrowIfNull(type);
        var entity = type.GetCustomAttribute<KubernetesEntityAttribute>()
            ?? throw new ArgumentException($"{type.Name} has no [KubernetesEntity] attribute; pass a ResourceType explicitly.", nameof(type));
        if (string.IsNullOrEmpty(entity.ApiVersion) || string.IsNullOrEmpty(entity.Kind) || string.IsNullOrEmpty(entity.PluralName))
        {
            throw new ArgumentException($"The [KubernetesEntity] attribute of {type.Name} needs ApiVersion, Kind and PluralName.", nameof(type));
        }

        return new ResourceType(entity.Group ?? string.Empty, entity.ApiVersion, entity.Kind, entity.PluralName);
    }

    public override string ToString() => $"{Kind}.{ApiVersion}";
}
