using System.Text;
using Xks.Operator.Entities;

namespace Xks.Operator.Resources;

/// <summary>Names a KeySet gives to what it makes: its credential Secret, its path on the proxy, its key store in KMS.</summary>
public static class KeySetNames
{
    /// <summary>The XKS API suffix KMS appends to the path prefix.</summary>
    public const string XksApiPath = "/kms/xks/v1";

    public static string CredentialSecret(V1Alpha1KeySet keySet) => Name(keySet) + "-xks-credential";

    /// <summary>spec.uriPathPrefix, or /&lt;namespace&gt;/&lt;name&gt;.</summary>
    public static string UriPathPrefix(V1Alpha1KeySet keySet)
    {
        ArgumentNullException.ThrowIfNull(keySet);
        return keySet.Spec.UriPathPrefix is { Length: > 0 } prefix ? prefix : $"/{keySet.Metadata.NamespaceProperty}/{Name(keySet)}";
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
