using Xks.Operator.Entities;

namespace Xks.Operator.Resources;

/// <summary>Labels and annotation keys the operator puts on a Vault's children.</summary>
public static class VaultLabels
{
    public const string NameLabel = "app.kubernetes.io/name";
    public const string InstanceLabel = "app.kubernetes.io/instance";
    public const string ComponentLabel = "app.kubernetes.io/component";
    public const string ManagedByLabel = "app.kubernetes.io/managed-by";
    public const string VaultLabel = "xks.dev/vault";

    /// <summary>On a key-material Secret: the CloudKey whose versions it holds.</summary>
    public const string CloudKeyLabel = "xks.dev/cloudkey";

    /// <summary>The operator's own component label (besides <see cref="ComponentLabel"/>), e.g. on key-material Secrets.</summary>
    public const string XksComponentLabel = "xks.dev/component";

    /// <summary>Component value of a CloudKey's key-material Secret.</summary>
    public const string KeyMaterialComponent = "key-material";

    public const string AppName = "xks-proxy";
    public const string Component = "proxy";
    public const string ManagedBy = "xks-operator";

    /// <summary>Selects what the operator made (every child of a Vault, key-material and credential Secrets).</summary>
    public const string ManagedSelector = ManagedByLabel + "=" + ManagedBy;

    /// <summary>
    /// Selects what the operator did not make, such as a user's AWS credentials or HSM PIN Secret. Its informer and
    /// the <see cref="ManagedSelector"/> one together see every Secret once: the managed Secrets (one per CloudKey, and
    /// each Vault's config of up to hundreds of KB) are not cached twice.
    /// </summary>
    public const string UnmanagedSelector = ManagedByLabel + "!=" + ManagedBy;

    /// <summary>On the config Secret: hash of the whole rendered config (which config the proxies are serving).</summary>
    public const string ConfigHashAnnotation = "xks.dev/config-hash";

    /// <summary>On the pod template: hash of the start-up-only config sections; changing it rolls the pods.</summary>
    public const string StartupConfigHashAnnotation = "xks.dev/startup-config-hash";

    /// <summary>On the master-key Secret: deleting it destroys every key of the Vault.</summary>
    public const string NeverDeleteAnnotation = "xks.dev/never-delete-while-keys-exist";

    /// <summary>All labels of every child of the Vault.</summary>
    public static Dictionary<string, string> For(V1Alpha1Vault vault)
    {
        var labels = SelectorFor(vault);
        labels[ComponentLabel] = Component;
        labels[ManagedByLabel] = ManagedBy;
        return Annotations.Sorted(labels);
    }

    /// <summary>
    /// Pod selector of the Deployment, Services and PodDisruptionBudget: a subset of <see cref="For"/> that never
    /// changes for a Vault (a Deployment's selector is immutable).
    /// </summary>
    public static Dictionary<string, string> SelectorFor(V1Alpha1Vault vault)
    {
        ArgumentNullException.ThrowIfNull(vault);
        var name = vault.Metadata?.Name ?? throw new ArgumentException("The Vault has no metadata.name.", nameof(vault));
        return Annotations.Sorted(new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [NameLabel] = AppName,
            [InstanceLabel] = name,
            [VaultLabel] = name,
        });
    }
}
