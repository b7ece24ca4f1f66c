using System.Text;
using Xks.Operator.Entities;

namespace Xks.Operator.Resources;

/// <summary>Names a KeySet gives to what it makes: its credential Secret, its path on the proxy, its key store in KMS.</summary>
public static class KeySetNames
{
    /// <summary>The XKS API suffix KMS appends to the path prefix.</summary>
    public const string XksApiPath = "/kms/xks/v1";

    public static string CredentialSecret(V1Alpha1KeySet keySet) => Name(keySet) + "-xks-credential";

    /// <summary>
    /// spec.uriPathPrefix, or /&lt;namespace&gt;/&lt;name&gt; when unset. "/" (the root) and "" both mean no prefix: KMS calls
    /// /kms/xks/v1 ("/" is there because some API servers and templating tools turn an empty string into null).
    /// </summary>
    public static string UriPathPrefix(V1Alpha1KeySet keySet)
    {
        ArgumentNullException.ThrowIfNull(keySet);
        return keySet.Spec.UriPathPrefix switch
        {
            null => $"/{keySet.Metadata.NamespaceProperty}/{Name(keySet)}",
            "/" => "",
            var prefix => prefix,
        };
    }

    /// <summary>
    /// Why <paramref name="keySet"/> may not be served under its path prefix by its Vault, or null when it may: an empty
    /// prefix only when the Vault serves no other KeySet, and no prefix twice. Of two that clash, the one that came first
    /// (creationTimestamp, then name) keeps serving and the other is refused, naming it.
    /// </summary>
    /// <param name="keySet">The KeySet.</param>
    /// <param name="vaultKeySets">Every KeySet of the same Vault (it may be among them).</param>
    public static string? UriPathPrefixConflict(V1Alpha1KeySet keySet, IEnumerable<V1Alpha1KeySet> vaultKeySets)
    {
        ArgumentNullException.ThrowIfNull(keySet);
        ArgumentNullException.ThrowIfNull(vaultKeySets);
        var prefix = UriPathPrefix(keySet);
        foreach (var other in vaultKeySets.Where(k => k.Metadata.Name != keySet.Metadata.Name && k.Spec.VaultRef.Name == keySet.Spec.VaultRef.Name && ComesBefore(k, keySet)).OrderBy(k => k.Metadata.CreationTimestamp ?? DateTime.MaxValue).ThenBy(k => k.Metadata.Name, StringComparer.Ordinal))
        {
            var theirs = UriPathPrefix(other);
            if (prefix.Length == 0)
            {
                return $"spec.uriPathPrefix is the root (\"/\" or \"\") but Vault {keySet.Spec.VaultRef.Name} already serves KeySet {other.Metadata.Name} (prefix {(theirs.Length == 0 ? "/, none" : theirs)}): an empty prefix needs a Vault of its own — set a prefix, or move one KeySet to another Vault";
            }

            if (theirs.Length == 0)
            {
                return $"Vault {keySet.Spec.VaultRef.Name} serves KeySet {other.Metadata.Name} with the empty uriPathPrefix, which it can share with no other KeySet — give {other.Metadata.Name} a prefix, or use another Vault";
            }

            if (theirs == prefix)
            {
                return $"uriPathPrefix {prefix} is already KeySet {other.Metadata.Name}'s on Vault {keySet.Spec.VaultRef.Name}; choose another";
            }
        }

        return null;
    }

    private static bool ComesBefore(V1Alpha1KeySet a, V1Alpha1KeySet b)
    {
        var (at, bt) = (a.Metadata.CreationTimestamp ?? DateTime.MaxValue, b.Metadata.CreationTimestamp ?? DateTime.MaxValue);
        return at != bt ? at < bt : string.CompareOrdinal(a.Metadata.Name, b.Metadata.Name) < 0;
    }

    /// <summary>XksProxyUriPath: the prefix followed by /kms/xks/v1.</summary>
    public static string UriPath(V1Alpha1KeySet keySet) => UriPathPrefix(keySet) + XksApiPath;

    /// <summary>CustomKeyStoreName in KMS: spec.externalKeyStore.name, or &lt;namespace&gt;-&lt;name&gt;.</summary>
    public static string KeyStoreName(V1Alpha1KeySet keySet)
    {
        ArgumentNullException.ThrowIfNull(keySet);
        return keySet.Spec.ExternalKeyStore?.Name is { Length: > 0 } name ? name : $"{keySet.Metadata.NamespaceProperty}-{Name(keySet)}";
    }

    /// <summary>Name of the key store inside the proxy config: 1–63 characters of a-z 0-9 '-' (used in logs and metrics).</summary>
    public static string ProxyKeyStoreName(V1Alpha1KeySet keySet)
    {
        var builder = new StringBuilder();
        foreach (var c in Name(keySet).ToLowerInvariant())
        {
            builder.Append(char.IsAsciiLetterOrDigit(c) ? c : '-');
        }

        var name = builder.ToString().Trim('-');
        return name.Length switch
        {
            0 => "keyset",
            > 63 => name[..63].TrimEnd('-'),
            _ => name,
        };
    }

    /// <summary>The region the key store lives in: spec.region, or its account's (a CspAccount's or ClusterCspAccount's spec).</summary>
    public static string Region(V1Alpha1KeySet keySet, V1Alpha1CspAccountSpec? account) =>
        keySet.Spec.Region is { Length: > 0 } region ? region : account?.Region ?? "";

    private static string Name(V1Alpha1KeySet keySet)
    {
        ArgumentNullException.ThrowIfNull(keySet);
        return keySet.Metadata?.Name is { Length: > 0 } name ? name : throw new ArgumentException("The KeySet has no metadata.name.", nameof(keySet));
    }
}
