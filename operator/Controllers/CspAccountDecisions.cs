using k8s.Models;
using Xks.Operator.Api;
using Xks.Operator.Entities;

namespace Xks.Operator.Controllers;

/// <summary>Whether a KeySet may use the account its <c>cspAccountRef</c> names (pure).</summary>
public static class CspAccountDecisions
{
    /// <summary>
    /// Why a KeySet in <paramref name="keySetNamespace"/> may not use <paramref name="account"/>; null when it may.
    /// It may when the account's <c>namespaceSelector</c> selects the namespace's labels. An unknown namespace (not yet
    /// in the cache) or an invalid selector refuses: a platform team's account is lent only where it says so.
    /// </summary>
    /// <param name="account">The ClusterCspAccount.</param>
    /// <param name="keySetNamespace">The KeySet's namespace.</param>
    /// <param name="keySetNamespaceObject">That Namespace, or null when it is not known.</param>
    public static string? ClusterAccountRefusal(V1Alpha1ClusterCspAccount account, string keySetNamespace, V1Namespace? keySetNamespaceObject)
    {
        ArgumentNullException.ThrowIfNull(account);
        var name = account.Metadata?.Name;
        if (keySetNamespaceObject is null)
        {
            return $"ClusterCspAccount {name}: namespace {keySetNamespace} is not known yet, so its labels cannot be checked against the account's namespaceSelector";
        }

        if (LabelSelectors.Matches(account.Spec?.NamespaceSelector, keySetNamespaceObject.Metadata?.Labels, out var problem))
        {
            return null;
        }

        return problem is null
            ? $"ClusterCspAccount {name}'s namespaceSelector does not select namespace {keySetNamespace}: its platform team has not shared the account with this namespace"
            : $"ClusterCspAccount {name}'s namespaceSelector is invalid ({problem}): it is shared with no namespace";
    }

    /// <summary>
    /// Whether a Namespace's change may give or take a ClusterCspAccount from its KeySets: only a change of its labels
    /// (the selectors' input), not its status or annotations.
    /// </summary>
    public static bool NamespaceChangeMatters(V1Namespace before, V1Namespace after)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        var a = before.Metadata?.Labels ?? new Dictionary<string, string>();
        var b = after.Metadata?.Labels ?? new Dictionary<string, string>();
        return a.Count != b.Count || a.Any(pair => !b.TryGetValue(pair.Key, out var value) || value != pair.Value);
    }
}
