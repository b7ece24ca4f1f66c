using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Xks.Operator.Resources;

namespace Xks.Operator.Api;

/// <summary>
/// The two writes of key custody on a material or master-key Secret: protecting one made by an older operator
/// (finalizer and annotations, <see cref="KeyCustody"/>), and destroying one the operator decided may go.
/// </summary>
internal static class KeyCustodySecrets
{
    /// <summary>
    /// Adds the custody finalizer and annotations when missing (one merge patch, guarded by the resourceVersion); returns
    /// the Secret as stored.
    /// </summary>
    public static async Task<V1Secret> ProtectAsync(this IKubernetes client, V1Secret secret, CancellationToken cancellationToken)
    {
        if (KeyCustody.IsProtected(secret.Metadata) || secret.Metadata.DeletionTimestamp is not null)
        {
            // A Secret being deleted cannot gain a finalizer; one it already has keeps it.
            return secret;
        }

        var wanted = KeyCustody.Protect(new V1ObjectMeta { Finalizers = secret.Metadata.Finalizers, Annotations = secret.Metadata.Annotations });
        var patch = new { metadata = new { finalizers = wanted.Finalizers, annotations = wanted.Annotations, resourceVersion = secret.Metadata.ResourceVersion } };
        return await client.CoreV1.PatchNamespacedSecretAsync(new V1Patch(patch, V1Patch.PatchType.MergePatch), secret.Metadata.Name, secret.Metadata.NamespaceProperty,
            fieldManager: ServerSideApply.FieldManager, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Deletes the Secret for good: the delete first (a crash after it leaves it terminating, still protected, and the
    /// next pass finishes), then the custody finalizer off. False when it was already gone.
    /// </summary>
    public static async Task<bool> DestroyAsync(this IKubernetes client, string @namespace, string name, CancellationToken cancellationToken)
    {
        try
        {
            await client.CoreV1.DeleteNamespacedSecretAsync(name, @namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
            var current = await client.ReadSecretOrNullAsync(@namespace, name, cancellationToken).ConfigureAwait(false);
            var finalizers = current?.Metadata.Finalizers ?? [];
            if (current is null || !finalizers.Contains(KeyCustody.Finalizer))
            {
                return true;
            }

            var patch = new { metadata = new { finalizers = finalizers.Where(f => f != KeyCustody.Finalizer).ToList(), resourceVersion = current.Metadata.ResourceVersion } };
            await client.CoreV1.PatchNamespacedSecretAsync(new V1Patch(patch, V1Patch.PatchType.MergePatch), name, @namespace,
                fieldManager: ServerSideApply.FieldManager, cancellationToken: cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (HttpOperationException ex) when (ex.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }
    }
}
