using Xks.Operator.Entities;

namespace Xks.Operator.Aws;

/// <summary>
/// One AWS account as the operator uses it, whichever kind declares it: a namespaced CspAccount, or a ClusterCspAccount
/// a platform team shares with the namespaces its selector selects. What differs between the two is here and nowhere
/// else: where the credentials Secret lives, which external ID the operator presents, and whether the operator's own
/// identity may be used (<see cref="AwsIdentityPolicy"/>).
/// </summary>
/// <param name="Namespace">The CspAccount's namespace; null for a ClusterCspAccount.</param>
/// <param name="Name">Its name.</param>
/// <param name="Uid">Its UID (empty for an object never stored, in tests).</param>
/// <param name="Generation">Its metadata.generation: a spec change gives a new AWS session.</param>
/// <param name="Spec">The account's spec (a ClusterCspAccount's is a CspAccount's plus its namespace selector).</param>
/// <param name="SecretNamespace">Where <c>spec.credentials.secretRef</c> is read: the CspAccount's namespace, or the operator's cluster resource namespace.</param>
/// <param name="Status">Its status (Ready, the verified account ID).</param>
public sealed record AwsAccount(string? Namespace, string Name, string Uid, long Generation, V1Alpha1CspAccountSpec Spec, string SecretNamespace, V1Alpha1CspAccountStatus? Status)
{
    /// <summary>A ClusterCspAccount (no namespace).</summary>
    public bool IsClusterScoped => Namespace is null;

    /// <summary>
    /// The external ID the operator presents when it assumes the account's role: <c>xks:&lt;namespace&gt;/&lt;name&gt;</c>
    /// for a CspAccount, <c>xks:cluster:&lt;name&gt;</c> for a ClusterCspAccount (no namespace contains a colon, and no
    /// cluster form a slash, so the two never meet). A role that trusts the operator requires exactly this value in its
    /// trust policy's <c>sts:ExternalId</c> condition.
    /// </summary>
    public string ExternalId => IsClusterScoped ? $"xks:cluster:{Name}" : $"xks:{Namespace}/{Name}";

    /// <summary>The kind and name, for messages: <c>CspAccount ns/name</c> or <c>ClusterCspAccount name</c>.</summary>
    public string Description => IsClusterScoped ? $"ClusterCspAccount {Name}" : $"CspAccount {Namespace}/{Name}";

    /// <summary>The cache key of the account's sessions: its UID, else its kind and name.</summary>
    public string Identity => Uid.Length > 0 ? Uid : Description;

    public static AwsAccount Of(V1Alpha1CspAccount account)
    {
        ArgumentNullException.ThrowIfNull(account);
        var ns = account.Metadata?.NamespaceProperty ?? "";
        return new AwsAccount(ns, account.Metadata?.Name ?? "", account.Metadata?.Uid ?? "", account.Metadata?.Generation ?? 0,
            account.Spec ?? new V1Alpha1CspAccountSpec(), ns, account.Status);
    }

    /// <param name="account">The ClusterCspAccount.</param>
    /// <param name="clusterResourceNamespace">The operator's namespace for the Secrets of cluster-scoped kinds (<c>--cluster-resource-namespace</c>).</param>
    public static AwsAccount Of(V1Alpha1ClusterCspAccount account, string clusterResourceNamespace)
    {
        ArgumentNullException.ThrowIfNull(account);
        return new AwsAccount(null, account.Metadata?.Name ?? "", account.Metadata?.Uid ?? "", account.Metadata?.Generation ?? 0,
            account.Spec ?? new V1Alpha1ClusterCspAccountSpec(), clusterResourceNamespace, account.Status);
    }
}
