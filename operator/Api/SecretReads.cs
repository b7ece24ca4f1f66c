using System.Net;
using System.Text;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Xks.Operator.Entities;
using Xks.Operator.Resources;

namespace Xks.Operator.Api;

/// <summary>Reads of Secrets the reconcilers look at directly (always fresh from the API server, not a cache).</summary>
public static class SecretReads
{
    /// <summary>The Secret, or null when it does not exist.</summary>
    public static async Task<V1Secret?> ReadSecretOrNullAsync(this IKubernetes client, string @namespace, string name, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        try
        {
            return await client.CoreV1.ReadNamespacedSecretAsync(name, @namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException ex) when (ex.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    /// <summary>What the Vault's rendered proxy config serves right now (nothing while the config Secret is missing).</summary>
    public static async Task<ServedProxyConfig> ReadServedProxyConfigAsync(this IKubernetes client, V1Alpha1Vault vault, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(vault);
        var secret = await client.ReadSecretOrNullAsync(vault.Metadata.NamespaceProperty, VaultNames.ConfigSecret(vault), cancellationToken).ConfigureAwait(false);
        return ServedProxyConfig.Parse(secret?.Data?.TryGetValue(ProxyLayout.ConfigKey, out var bytes) == true ? Encoding.UTF8.GetString(bytes) : null);
    }
}
