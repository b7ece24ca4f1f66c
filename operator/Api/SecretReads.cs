using System.Net;
using System.Text;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Xks.Operator.Entities;
using Xks.Operator.Resources;
using Xks.Operator.Runtime;
using Xks.Operator.Runtime.Informers;

namespace Xks.Operator.Api;

/// <summary>
/// Reads of Secrets. Key material and credentials are read fresh from the API server (acting on a stale copy could
/// make a second version or lose a rotation); the served proxy config comes from the informer cache.
/// </summary>
public static class SecretReads
{
    // One parse per version of the config Secret: the informer replaces the object on every change, so the parse lives
    // exactly as long as the version it was made from. With 1,000 keys a parse is a 300 KB document.
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<V1Secret, ServedProxyConfig> Parsed = new();

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

    /// <summary>
    /// What the Vault's rendered proxy config serves, from the cache of the operator's labelled Secrets (nothing while
    /// the config Secret is missing). A cache behind the API only ever shows an older config, which makes a reconciler
    /// wait for one more event, never act early; the watch on the same cache brings that event.
    /// </summary>
    public static ServedProxyConfig ServedProxyConfig(this ResourceInformer<V1Secret> operatorSecrets, V1Alpha1Vault vault)
    {
        ArgumentNullException.ThrowIfNull(operatorSecrets);
        ArgumentNullException.ThrowIfNull(vault);
        return operatorSecrets.TryGet(new ResourceKey(vault.Metadata.NamespaceProperty, VaultNames.ConfigSecret(vault)), out var secret)
            ? Parsed.GetValue(secret, s => Resources.ServedProxyConfig.Parse(s.Data?.TryGetValue(ProxyLayout.ConfigKey, out var bytes) == true ? Encoding.UTF8.GetString(bytes) : null))
            : Resources.ServedProxyConfig.Empty;
    }
}
