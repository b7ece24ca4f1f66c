using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Xks.Operator.Api;
using Xks.Operator.Entities;
using Xks.Operator.Entities.CertManager;
using Xks.Operator.Resources;
using Xks.Operator.Runtime.Informers;

namespace Xks.Operator.Controllers;

/// <summary>
/// A Vault's children, applied: each desired child with server-side apply (an unchanged world costs no writes; a child
/// edited or deleted by hand is restored), never over an object the Vault does not control; the config Secret skipped
/// when it already holds the render; and the children the spec no longer wants deleted, only when the Vault owns them.
/// </summary>
internal sealed partial class VaultChildrenStep(IKubernetes client, ServerSideApply apply, EventRecorder events, InformerFactory informers, ResourceInformer<V1Secret> secrets, ILogger logger)
{
    private readonly CachedChildMetadata _childMetadata = new(apply, informers, VaultController.ChildSelector);

    /// <summary>Applies <paramref name="children"/>; true when the Vault's Certificate could not be applied because cert-manager's API is not served.</summary>
    /// <exception cref="ChildConflictException">A child's name is taken by an object the Vault does not control.</exception>
    public async Task<bool> ApplyAsync(V1Alpha1Vault vault, VaultChildren children, CancellationToken cancellationToken)
    {
        var certificateApiMissing = false;
        foreach (var child in children.All())
        {
            if (ReferenceEquals(child, children.ConfigSecret)
                && VaultDecisions.ConfigSecretCurrent(secrets.TryGet(new Runtime.ResourceKey(vault.Metadata.NamespaceProperty, children.ConfigSecret.Metadata.Name), out var cached) ? cached : null, children.ConfigSecret, vault.Metadata.Uid))
            {
                continue;
            }

            try
            {
                await ApplyChildAsync(vault, child, cancellationToken).ConfigureAwait(false);
            }
            catch (HttpOperationException ex) when (child is V1Certificate && ex.Response.StatusCode == HttpStatusCode.NotFound)
            {
                certificateApiMissing = true;
            }
        }

        foreach (var unwanted in children.Unwanted)
        {
            await DeleteUnwantedAsync(vault, unwanted, cancellationToken).ConfigureAwait(false);
        }

        return certificateApiMissing;
    }

    private async Task ApplyChildAsync(V1Alpha1Vault vault, IKubernetesObject<V1ObjectMeta> child, CancellationToken cancellationToken)
    {
        var existing = await _childMetadata.ReadAsync(child, cancellationToken).ConfigureAwait(false);
        if (existing is not null && !(existing.OwnerReferences ?? []).Any(o => o.Controller == true && o.Uid == vault.Metadata.Uid))
        {
            // Never take over what someone else made (or what a deleted Vault of the same name still owns until the
            // garbage collector removes it): report it and retry with backoff.
            throw new ChildConflictException(
                $"{child.Kind} {child.Metadata.Name} already exists and is not controlled by this Vault; delete or rename it (or wait for the garbage collector if a previous Vault of this name was just deleted)");
        }

        var stored = await apply.ApplyAsync(child, cancellationToken).ConfigureAwait(false);
        if (existing is null)
        {
            Log.ChildCreated(logger, child.Kind, vault.Metadata.NamespaceProperty, child.Metadata.Name);
            await events.NormalAsync(vault, Reasons.Created, $"Created {child.Kind} {child.Metadata.Name}", cancellationToken).ConfigureAwait(false);
        }
        else if (existing.ResourceVersion != stored.ResourceVersion)
        {
            Log.ChildUpdated(logger, child.Kind, vault.Metadata.NamespaceProperty, child.Metadata.Name);
            await events.NormalAsync(vault, Reasons.Updated, $"Updated {child.Kind} {child.Metadata.Name} to the desired state", cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task DeleteUnwantedAsync(V1Alpha1Vault vault, VaultChildReference unwanted, CancellationToken cancellationToken)
    {
        var ns = vault.Metadata.NamespaceProperty;
        try
        {
            V1ObjectMeta meta = unwanted.Kind switch
            {
                "Ingress" => (await client.NetworkingV1.ReadNamespacedIngressAsync(unwanted.Name, ns, cancellationToken: cancellationToken).ConfigureAwait(false)).Metadata,
                "NetworkPolicy" => (await client.NetworkingV1.ReadNamespacedNetworkPolicyAsync(unwanted.Name, ns, cancellationToken: cancellationToken).ConfigureAwait(false)).Metadata,
                "Service" => (await client.CoreV1.ReadNamespacedServiceAsync(unwanted.Name, ns, cancellationToken: cancellationToken).ConfigureAwait(false)).Metadata,
                "Certificate" => KubernetesJson.Deserialize<V1Certificate>(KubernetesJson.Serialize(await client.CustomObjects.GetNamespacedCustomObjectAsync("cert-manager.io", "v1", ns, "certificates", unwanted.Name, cancellationToken).ConfigureAwait(false))).Metadata,
                _ => throw new InvalidOperationException($"no delete path for unwanted {unwanted.Kind}"),
            };
            if (!(meta.OwnerReferences ?? []).Any(o => o.Controller == true && o.Uid == vault.Metadata.Uid))
            {
                return; // not ours: never delete what the Vault did not create
            }

            switch (unwanted.Kind)
            {
                case "Ingress":
                    await client.NetworkingV1.DeleteNamespacedIngressAsync(unwanted.Name, ns, cancellationToken: cancellationToken).ConfigureAwait(false);
                    break;
                case "NetworkPolicy":
                    await client.NetworkingV1.DeleteNamespacedNetworkPolicyAsync(unwanted.Name, ns, cancellationToken: cancellationToken).ConfigureAwait(false);
                    break;
                case "Service":
                    await client.CoreV1.DeleteNamespacedServiceAsync(unwanted.Name, ns, cancellationToken: cancellationToken).ConfigureAwait(false);
                    break;
                default:
                    await client.CustomObjects.DeleteNamespacedCustomObjectAsync("cert-manager.io", "v1", ns, "certificates", unwanted.Name, cancellationToken: cancellationToken).ConfigureAwait(false);
                    break;
            }

            await events.NormalAsync(vault, Reasons.Deleted, $"Deleted {unwanted.Kind} {unwanted.Name}: no longer part of the Vault's {(unwanted.Kind == "NetworkPolicy" ? "spec (its NetworkPolicy is disabled)" : "exposure")}", cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException ex) when (ex.Response.StatusCode == HttpStatusCode.NotFound)
        {
        }
    }

    private static partial class Log
    {
        [LoggerMessage(3001, LogLevel.Information, "Created {Kind} {Namespace}/{Name}", EventName = "VaultChildCreated")]
        public static partial void ChildCreated(ILogger logger, string kind, string @namespace, string name);

        [LoggerMessage(3002, LogLevel.Information, "Updated {Kind} {Namespace}/{Name} to the desired state", EventName = "VaultChildUpdated")]
        public static partial void ChildUpdated(ILogger logger, string kind, string @namespace, string name);
    }
}
