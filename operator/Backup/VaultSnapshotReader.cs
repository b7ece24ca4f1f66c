using k8s;
using k8s.Models;
using Xks.Operator.Api;
using Xks.Operator.Entities;
using Xks.Operator.Resources;
using Xks.Operator.Runtime.Informers;

namespace Xks.Operator.Backup;

/// <summary>Reads a <see cref="VaultSnapshot"/> from the API server with the caller's own credentials (so RBAC decides what a backup may hold).</summary>
internal static class VaultSnapshotReader
{
    /// <exception cref="BackupException">The Vault does not exist.</exception>
    public static async Task<VaultSnapshot> ReadAsync(IKubernetes client, string ns, string vaultName, CancellationToken cancellationToken)
    {
        var vault = await GetAsync<V1Alpha1Vault>(client, ns, "vaults", vaultName, cancellationToken).ConfigureAwait(false)
            ?? throw new BackupException($"Vault {ns}/{vaultName} does not exist");
        var keySets = (await ListAsync<V1Alpha1KeySet>(client, ns, cancellationToken).ConfigureAwait(false))
            .Where(k => k.Spec.VaultRef.Name == vaultName).ToList();
        var keySetNames = keySets.Select(k => k.Metadata.Name).ToHashSet(StringComparer.Ordinal);
        var cloudKeys = (await ListAsync<V1Alpha1CloudKey>(client, ns, cancellationToken).ConfigureAwait(false))
            .Where(k => keySetNames.Contains(k.Spec.KeySetRef.Name)).ToList();
        var accounts = new List<V1Alpha1CspAccount>();
        foreach (var name in keySets.Where(k => k.Spec.CspAccountRef.Kind == V1Alpha1CspAccountKind.CspAccount).Select(k => k.Spec.CspAccountRef.Name).Distinct(StringComparer.Ordinal))
        {
            if (await GetAsync<V1Alpha1CspAccount>(client, ns, "cspaccounts", name, cancellationToken).ConfigureAwait(false) is { } account)
            {
                accounts.Add(account);
            }
        }

        var secretNames = new SortedSet<string>(StringComparer.Ordinal) { VaultNames.MasterKeySecret(vault), VaultNames.KeyringSecret(vault) };
        secretNames.UnionWith(keySets.Select(KeySetNames.CredentialSecret));
        if (vault.Spec.Tls is { IssuerRef: null, SecretName: { Length: > 0 } tls })
        {
            secretNames.Add(tls);
        }

        AddIfSet(secretNames, vault.Spec.Tls?.ClientCertificate?.CaSecretRef.Name);
        AddIfSet(secretNames, vault.Spec.KeyBackend.Pkcs11?.PinSecretRef?.Name);
        AddIfSet(secretNames, vault.Spec.KeyProtection?.Hsm?.PinSecretRef?.Name);
        foreach (var account in accounts)
        {
            AddIfSet(secretNames, account.Spec.Credentials.SecretRef?.Name);
        }

        var secrets = new List<V1Secret>();
        foreach (var name in secretNames)
        {
            if (await client.ReadSecretOrNullAsync(ns, name, cancellationToken).ConfigureAwait(false) is { } secret)
            {
                secrets.Add(secret);
            }
        }

        // Every key-material Secret of the Vault, also those whose CloudKey is gone (Retain, pending deletion).
        var material = await client.CoreV1.ListNamespacedSecretAsync(ns,
            labelSelector: $"{VaultLabels.VaultLabel}={vaultName},{VaultLabels.XksComponentLabel}={VaultLabels.KeyMaterialComponent}",
            cancellationToken: cancellationToken).ConfigureAwait(false);
        secrets.AddRange(material.Items.Where(m => !secretNames.Contains(m.Metadata.Name)));
        return new VaultSnapshot(vault, accounts, keySets, cloudKeys, secrets);
    }

    private static void AddIfSet(SortedSet<string> names, string? name)
    {
        if (name is { Length: > 0 })
        {
            names.Add(name);
        }
    }

    private static async Task<T?> GetAsync<T>(IKubernetes client, string ns, string plural, string name, CancellationToken cancellationToken)
        where T : class
    {
        try
        {
            return KubernetesJson.Deserialize<T>(KubernetesJson.Serialize(
                await client.CustomObjects.GetNamespacedCustomObjectAsync("xks.dev", "v1alpha1", ns, plural, name, cancellationToken).ConfigureAwait(false)));
        }
        catch (k8s.Autorest.HttpOperationException ex) when (ex.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    private static async Task<IReadOnlyList<T>> ListAsync<T>(IKubernetes client, string ns, CancellationToken cancellationToken)
        where T : class, IKubernetesObject<V1ObjectMeta> =>
        (await ResourceApi.For<T>(client, ns).ListAsync(new ResourceListRequest(), cancellationToken).ConfigureAwait(false)).Items;
}
