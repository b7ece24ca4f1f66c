using k8s.Models;
using Xks.Operator.Entities;

namespace Xks.Operator.Resources;

/// <summary>
/// The key stores of one Vault's proxy config, from what the cluster holds: each KeySet of the Vault with a valid
/// credential Secret becomes a key store; each key-material Secret of that KeySet becomes a key, with its wrapped
/// versions inline (PKCS#11: version numbers only, the objects are in the HSM). Keys come from the material rather than from the CloudKeys, so a key whose CloudKey was deleted
/// with deletionPolicy Retain keeps working in AWS. A CloudKey that exists sets enabled and authorization.
/// Pure: no I/O, no clock.
/// </summary>
public static class ProxyKeyStoresBuilder
{
    private static readonly string[] BothUsages = ["ENCRYPT", "DECRYPT"];

    public static ProxyKeyStoresResult Build(
        IEnumerable<V1Alpha1KeySet> keySets,
        IEnumerable<V1Alpha1CloudKey> cloudKeys,
        IEnumerable<V1Secret> secrets,
        IEnumerable<V1Alpha1CspAccount> accounts,
        string backend = KeyMaterialSecret.SoftwareBackend,
        IEnumerable<V1Alpha1ClusterCspAccount>? clusterAccounts = null)
    {
        var secretList = secrets.ToList();
        var keysByName = cloudKeys.ToDictionary(k => k.Metadata.Name, StringComparer.Ordinal);
        var accountsByName = accounts.ToDictionary(a => a.Metadata.Name, a => (V1Alpha1CspAccountSpec)a.Spec, StringComparer.Ordinal);
        var clusterAccountsByName = (clusterAccounts ?? []).ToDictionary(a => a.Metadata.Name, a => (V1Alpha1CspAccountSpec)a.Spec, StringComparer.Ordinal);
        var stores = new List<ProxyKeyStoreModel>();
        var problems = new List<string>();
        var regions = new SortedSet<string>(StringComparer.Ordinal);
        var anyRegionUnknown = false;
        var keySetList = keySets.ToList();
        foreach (var keySet in keySetList.OrderBy(k => k.Metadata.Name, StringComparer.Ordinal))
        {
            if (KeySetNames.UriPathPrefixConflict(keySet, keySetList) is not null)
            {
                continue; // refused (the KeySet reports the Conflict): the KeySet that came first keeps its prefix
            }

            var credentialSecret = secretList.FirstOrDefault(s => s.Metadata.Name == KeySetNames.CredentialSecret(keySet));
            if (credentialSecret is null)
            {
                continue; // the KeySet has not made its credential yet; it waits for the proxy config to include it
            }

            if (!KeySetCredentialSecret.TryRead(credentialSecret, out var credentials, out var problem))
            {
                problems.Add($"KeySet {keySet.Metadata.Name}: {problem}");
                continue;
            }

            var reference = keySet.Spec.CspAccountRef;
            var region = KeySetNames.Region(keySet, (reference.Kind == V1Alpha1CspAccountKind.ClusterCspAccount ? clusterAccountsByName : accountsByName).GetValueOrDefault(reference.Name));
            if (region.Length == 0)
            {
                anyRegionUnknown = true;
            }
            else
            {
                regions.Add(region);
            }

            var keys = new List<ProxyKeyModel>();
            foreach (var material in secretList.Where(s => IsMaterialOf(s, keySet)).OrderBy(s => s.Metadata.Name, StringComparer.Ordinal))
            {
                if (!KeyMaterialSecret.TryRead(material, out var keyId, out var versions, out var materialBackend, out var materialProblem))
                {
                    problems.Add($"key material Secret {material.Metadata.Name}: {materialProblem}");
                    continue;
                }

                if (materialBackend != backend)
                {
                    // A Vault's backend was changed under existing keys: the proxy could not serve them anyway.
                    problems.Add($"key material Secret {material.Metadata.Name}: its versions are in the {materialBackend} backend, the Vault uses {backend}");
                    continue;
                }

                var owner = material.Metadata.Labels!.TryGetValue(VaultLabels.CloudKeyLabel, out var ownerName)
                    ? keysByName.GetValueOrDefault(ownerName)
                    : null;
                keys.Add(new ProxyKeyModel(keyId, BothUsages, IsEnabled(material, owner), Authorization(owner)) { Versions = versions });
            }

            stores.Add(new ProxyKeyStoreModel(
                KeySetNames.ProxyKeyStoreName(keySet),
                KeySetNames.UriPathPrefix(keySet),
                [.. credentials!.Accepted().Select(c => new ProxyCredentialModel(c.AccessKeyId, c.SecretAccessKey))],
                keys,
                keySet.Spec.Blocked));
        }

        return new ProxyKeyStoresResult(stores, anyRegionUnknown ? [] : [.. regions], problems);
    }

    private static bool IsMaterialOf(V1Secret secret, V1Alpha1KeySet keySet) =>
        secret.Metadata.Labels is { } labels
        && labels.TryGetValue(KeySetCredentialSecret.KeySetLabel, out var owner) && owner == keySet.Metadata.Name
        && labels.TryGetValue(VaultLabels.XksComponentLabel, out var component) && component == VaultLabels.KeyMaterialComponent;

    /// <summary>
    /// A live CloudKey: its spec.enabled, unless expired. No CloudKey: enabled unless it was released with deletionPolicy
    /// Delete (the KMS key is going away) — a retained key, or one whose CloudKey vanished unexpectedly, keeps serving.
    /// </summary>
    private static bool IsEnabled(V1Secret material, V1Alpha1CloudKey? owner)
    {
        var marks = KeyMaterialMarks.Of(material);
        if (marks.Expired)
        {
            return false;
        }

        if (owner is not null && owner.Metadata.DeletionTimestamp is null)
        {
            return owner.Spec.Enabled;
        }

        return !marks.ReleasedForDeletion;
    }

    private static ProxyKeyAuthorizationModel? Authorization(V1Alpha1CloudKey? owner) =>
        owner?.Spec.Authorization is { } a
            ? new ProxyKeyAuthorizationModel([.. a.Principals ?? []], [.. a.ViaServices ?? []], [.. a.SourceVpcs ?? []], [.. a.SourceVpces ?? []])
            : null;
}

/// <summary>The key stores and regions of a Vault's proxy config, and the Secrets that could not be used (named, never shown).</summary>
public sealed record ProxyKeyStoresResult(IReadOnlyList<ProxyKeyStoreModel> KeyStores, IReadOnlyList<string> Regions, IReadOnlyList<string> Problems);
