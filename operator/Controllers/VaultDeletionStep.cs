using k8s;
using Xks.Operator.Api;
using Xks.Operator.Entities;
using Xks.Operator.Resources;

namespace Xks.Operator.Controllers;

/// <summary>
/// Deleting a Vault, carried out. Its children go through garbage collection (owner references). The master key has no
/// owner: it is destroyed here only when no key of the Vault exists; otherwise it stays (a Vault re-created under the
/// same name picks it up again) and a Warning Event says which keys it still protects. Keys in an HSM stay there.
/// </summary>
internal sealed partial class VaultDeletionStep(IKubernetes client, CustomResourceWriter writer, EventRecorder events, ILogger logger)
{
    /// <summary>Releases the Vault's finalizer, after destroying or keeping its master key.</summary>
    public async Task FinalizeAsync(V1Alpha1Vault vault, CancellationToken cancellationToken)
    {
        if (!(vault.Metadata.Finalizers ?? []).Contains(VaultController.Finalizer))
        {
            return;
        }

        var ns = vault.Metadata.NamespaceProperty;
        var masterKey = VaultNames.MasterKeySecret(vault);
        if (ProxyBackendModel.ForVault(vault).IsPkcs11 && await client.ReadSecretOrNullAsync(ns, masterKey, cancellationToken).ConfigureAwait(false) is null)
        {
            // Keys in an HSM stay there: deleting a Vault never destroys them (their CloudKeys and KeySets decide).
            await writer.RemoveFinalizerAsync(vault, VaultController.Finalizer, cancellationToken).ConfigureAwait(false);
            return;
        }

        var keys = await KeysOfVaultAsync(vault, cancellationToken).ConfigureAwait(false);
        if (keys.Count == 0)
        {
            if (await client.DestroyAsync(ns, masterKey, cancellationToken).ConfigureAwait(false))
            {
                Log.MasterKeyDeleted(logger, ns, masterKey);
            }
        }
        else
        {
            var message = $"Kept master key Secret {masterKey}: {keys.Count} key(s) of this Vault are wrapped by it ({string.Join(", ", keys.Take(5))}); their CloudKeys and key-material Secrets must be gone before it is destroyed";
            Log.MasterKeyKept(logger, ns, masterKey, keys.Count);
            await events.WarningAsync(vault, Reasons.MasterKeyKept, message, cancellationToken).ConfigureAwait(false);
        }

        await writer.RemoveFinalizerAsync(vault, VaultController.Finalizer, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// What the master key still protects: the CloudKeys of the Vault (through its KeySets), and every key-material
    /// Secret wrapped by it — including the material of CloudKeys deleted with deletionPolicy Retain, or whose KMS key
    /// is pending deletion, which a KMS key may still need.
    /// </summary>
    private async Task<IReadOnlyList<string>> KeysOfVaultAsync(V1Alpha1Vault vault, CancellationToken cancellationToken)
    {
        var ns = vault.Metadata.NamespaceProperty;
        var keys = new SortedSet<string>(StringComparer.Ordinal);
        var keySets = KubernetesJson.Deserialize<V1Alpha1KeySetList>(KubernetesJson.Serialize(
            await client.CustomObjects.ListNamespacedCustomObjectAsync("xks.dev", "v1alpha1", ns, "keysets", cancellationToken: cancellationToken).ConfigureAwait(false)));
        var ofVault = keySets.Items.Where(k => k.Spec.VaultRef.Name == vault.Metadata.Name).Select(k => k.Metadata.Name).ToHashSet(StringComparer.Ordinal);
        if (ofVault.Count > 0)
        {
            var cloudKeys = KubernetesJson.Deserialize<V1Alpha1CloudKeyList>(KubernetesJson.Serialize(
                await client.CustomObjects.ListNamespacedCustomObjectAsync("xks.dev", "v1alpha1", ns, "cloudkeys", cancellationToken: cancellationToken).ConfigureAwait(false)));
            keys.UnionWith(cloudKeys.Items.Where(c => ofVault.Contains(c.Spec.KeySetRef.Name)).Select(c => c.Metadata.Name));
        }

        var material = await client.CoreV1.ListNamespacedSecretAsync(
            ns, labelSelector: $"{VaultLabels.VaultLabel}={vault.Metadata.Name},{VaultLabels.XksComponentLabel}={VaultLabels.KeyMaterialComponent}",
            cancellationToken: cancellationToken).ConfigureAwait(false);
        keys.UnionWith(material.Items.Select(s => s.Metadata.Label(VaultLabels.CloudKeyLabel) ?? s.Metadata.Name));
        return [.. keys];
    }

    private static partial class Log
    {
        [LoggerMessage(3004, LogLevel.Information, "Deleted master key Secret {Namespace}/{Name}: no key of the Vault exists", EventName = "MasterKeyDeleted")]
        public static partial void MasterKeyDeleted(ILogger logger, string @namespace, string name);

        [LoggerMessage(3005, LogLevel.Warning, "Kept master key Secret {Namespace}/{Name}: {Count} CloudKey(s) still use the Vault", EventName = "MasterKeyKept")]
        public static partial void MasterKeyKept(ILogger logger, string @namespace, string name, int count);
    }
}
