using k8s.Models;
using Xks.Operator.Resources;
using Xks.Operator.Runtime.Informers;

namespace Xks.Operator.Api;

/// <summary>
/// The Secrets users own that the operator reads — a CspAccount's AWS credentials, a Vault's HSM PIN — cached as
/// metadata only: name, namespace, labels and resourceVersion, never data and never annotations (kubectl's
/// last-applied-configuration annotation repeats the data). Their changes wake the reconcilers that use them; the one
/// Secret a reconciler needs is read with a GET, and only when its resourceVersion is new. So the operator holds no
/// user's secret in memory beyond the call that uses it, whatever else the cluster's Secrets contain.
/// </summary>
public static class UserSecrets
{
    /// <summary>What the cache keeps of a user's Secret (one delegate instance: the informer is shared).</summary>
    public static readonly Action<V1Secret> MetadataOnly = secret =>
    {
        secret.Data = null;
        secret.StringData = null;
        secret.Metadata.Annotations = null;
    };

    /// <summary>The shared, metadata-only informer of the Secrets the operator did not make (<see cref="VaultLabels.UnmanagedSelector"/>).</summary>
    public static ResourceInformer<V1Secret> Informer(InformerFactory informers)
    {
        ArgumentNullException.ThrowIfNull(informers);
        return informers.GetInformer(ResourceApi.For<V1Secret>(informers.Client, informers.Namespace), VaultLabels.UnmanagedSelector, transform: MetadataOnly);
    }
}
