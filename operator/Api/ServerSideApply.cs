using System.Net;
using System.Text.Json;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Xks.Operator.Api;

/// <summary>
/// Applies desired objects with server-side apply under the operator's field manager, forcing ownership of the
/// fields it sets. Re-applying an unchanged object is a no-op on the server (no new resourceVersion), so a level-
/// triggered reconcile never churns; a field someone changed by hand is put back.
/// </summary>
internal sealed class ServerSideApply(IKubernetes client)
{
    public const string FieldManager = "xks-operator";

    /// <summary>Applies <paramref name="desired"/> and returns the metadata of the object as stored.</summary>
    public async Task<V1ObjectMeta> ApplyAsync(IKubernetesObject<V1ObjectMeta> desired, CancellationToken cancellationToken)
    {
        var name = desired.Metadata.Name;
        var ns = desired.Metadata.NamespaceProperty;
        var patch = new V1Patch(desired, V1Patch.PatchType.ApplyPatch);
        return desired switch
        {
            V1ServiceAccount => await client.CoreV1.PatchNamespacedServiceAccountAsync(patch, name, ns, fieldManager: FieldManager, force: true, cancellationToken: cancellationToken).ConfigureAwait(false),
            V1Secret => await client.CoreV1.PatchNamespacedSecretAsync(patch, name, ns, fieldManager: FieldManager, force: true, cancellationToken: cancellationToken).ConfigureAwait(false),
            V1Service => await client.CoreV1.PatchNamespacedServiceAsync(patch, name, ns, fieldManager: FieldManager, force: true, cancellationToken: cancellationToken).ConfigureAwait(false),
            V1Role => await client.RbacAuthorizationV1.PatchNamespacedRoleAsync(patch, name, ns, fieldManager: FieldManager, force: true, cancellationToken: cancellationToken).ConfigureAwait(false),
            V1RoleBinding => await client.RbacAuthorizationV1.PatchNamespacedRoleBindingAsync(patch, name, ns, fieldManager: FieldManager, force: true, cancellationToken: cancellationToken).ConfigureAwait(false),
            V1Deployment => await client.AppsV1.PatchNamespacedDeploymentAsync(patch, name, ns, fieldManager: FieldManager, force: true, cancellationToken: cancellationToken).ConfigureAwait(false),
            V1Ingress => await client.NetworkingV1.PatchNamespacedIngressAsync(patch, name, ns, fieldManager: FieldManager, force: true, cancellationToken: cancellationToken).ConfigureAwait(false),
            V1NetworkPolicy => await client.NetworkingV1.PatchNamespacedNetworkPolicyAsync(patch, name, ns, fieldManager: FieldManager, force: true, cancellationToken: cancellationToken).ConfigureAwait(false),
            _ => await ApplyGenericAsync(desired, patch, cancellationToken).ConfigureAwait(false),
        } is var stored && stored is IKubernetesObject<V1ObjectMeta> typed ? typed.Metadata : (V1ObjectMeta)stored;
    }

    /// <summary>The metadata of the object <paramref name="desired"/> names as it is stored now, or null when it does not exist.</summary>
    public async Task<V1ObjectMeta?> ReadMetadataAsync(IKubernetesObject<V1ObjectMeta> desired, CancellationToken cancellationToken)
    {
        var name = desired.Metadata.Name;
        var ns = desired.Metadata.NamespaceProperty;
        try
        {
            return desired switch
            {
                V1ServiceAccount => (await client.CoreV1.ReadNamespacedServiceAccountAsync(name, ns, cancellationToken: cancellationToken).ConfigureAwait(false)).Metadata,
                V1Secret => (await client.CoreV1.ReadNamespacedSecretAsync(name, ns, cancellationToken: cancellationToken).ConfigureAwait(false)).Metadata,
                V1Service => (await client.CoreV1.ReadNamespacedServiceAsync(name, ns, cancellationToken: cancellationToken).ConfigureAwait(false)).Metadata,
                V1Role => (await client.RbacAuthorizationV1.ReadNamespacedRoleAsync(name, ns, cancellationToken: cancellationToken).ConfigureAwait(false)).Metadata,
                V1RoleBinding => (await client.RbacAuthorizationV1.ReadNamespacedRoleBindingAsync(name, ns, cancellationToken: cancellationToken).ConfigureAwait(false)).Metadata,
                V1Deployment => (await client.AppsV1.ReadNamespacedDeploymentAsync(name, ns, cancellationToken: cancellationToken).ConfigureAwait(false)).Metadata,
                V1Ingress => (await client.NetworkingV1.ReadNamespacedIngressAsync(name, ns, cancellationToken: cancellationToken).ConfigureAwait(false)).Metadata,
                V1NetworkPolicy => (await client.NetworkingV1.ReadNamespacedNetworkPolicyAsync(name, ns, cancellationToken: cancellationToken).ConfigureAwait(false)).Metadata,
                _ => await ReadGenericMetadataAsync(desired, cancellationToken).ConfigureAwait(false),
            };
        }
        catch (HttpOperationException ex) when (ex.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    private async Task<V1ObjectMeta> ReadGenericMetadataAsync(IKubernetesObject<V1ObjectMeta> desired, CancellationToken cancellationToken)
    {
        var (group, version) = SplitApiVersion(desired.ApiVersion);
        var stored = await client.CustomObjects.GetNamespacedCustomObjectAsync(
            group, version, desired.Metadata.NamespaceProperty, PluralOf(desired), desired.Metadata.Name, cancellationToken).ConfigureAwait(false);
        return MetadataOf(stored);
    }

    /// <summary>
    /// Any other namespaced kind in a named API group (cert-manager Certificates, policy/v1beta1 PodDisruptionBudgets
    /// on servers older than 1.21) through the generic object endpoint <c>/apis/{group}/{version}/…</c>.
    /// </summary>
    private async Task<object> ApplyGenericAsync(IKubernetesObject<V1ObjectMeta> desired, V1Patch patch, CancellationToken cancellationToken)
    {
        var (group, version) = SplitApiVersion(desired.ApiVersion);
        var plural = PluralOf(desired);
        var stored = await client.CustomObjects.PatchNamespacedCustomObjectAsync(
            patch, group, version, desired.Metadata.NamespaceProperty, plural, desired.Metadata.Name,
            fieldManager: FieldManager, force: true, cancellationToken: cancellationToken).ConfigureAwait(false);
        return MetadataOf(stored);
    }

    private static V1ObjectMeta MetadataOf(object stored)
    {
        using var document = JsonDocument.Parse(KubernetesJson.Serialize(stored));
        return KubernetesJson.Deserialize<V1ObjectMeta>(document.RootElement.GetProperty("metadata"));
    }

    internal static (string Group, string Version) SplitApiVersion(string apiVersion)
    {
        var slash = apiVersion.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0)
        {
            throw new InvalidOperationException($"'{apiVersion}' is in the core group; apply it through a typed method");
        }

        return (apiVersion[..slash], apiVersion[(slash + 1)..]);
    }

    private static string PluralOf(IKubernetesObject<V1ObjectMeta> desired)
    {
        var entity = desired.GetType().GetCustomAttributes(typeof(KubernetesEntityAttribute), inherit: true)
            .OfType<KubernetesEntityAttribute>().FirstOrDefault();
        if (entity?.PluralName is { Length: > 0 } plural)
        {
            return plural;
        }

        throw new InvalidOperationException($"no plural name known for {desired.GetType().Name}");
    }
}
