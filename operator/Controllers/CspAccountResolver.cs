using k8s.Models;
using Xks.Operator.Aws;
using Xks.Operator.Entities;
using Xks.Operator.Options;
using Xks.Operator.Runtime;
using Xks.Operator.Runtime.Informers;

namespace Xks.Operator.Controllers;

/// <summary>What <see cref="CspAccountResolver"/> found: the account, or why the KeySet cannot use one (a Ready reason and message).</summary>
internal sealed record AccountLookup(AwsAccount? Account, string Reason, string Message)
{
    public static AccountLookup Found(AwsAccount account) => new(account, "", "");
}

/// <summary>
/// The account a KeySet's <c>cspAccountRef</c> names, for the KeySet and CloudKey reconcilers alike (one place): a
/// CspAccount in the KeySet's namespace, or a ClusterCspAccount whose namespace selector selects that namespace
/// (<see cref="CspAccountDecisions.ClusterAccountRefusal"/>, re-checked on every reconcile, so relabelling a
/// namespace or narrowing the selector takes the account away at once). From the informers' caches: no API call.
/// An operator that watches one namespace serves no cluster-scoped kinds unless told to (<see cref="OperatorOptions.ServesClusterKinds"/>).
/// </summary>
internal sealed class CspAccountResolver
{
    private readonly ResourceInformer<V1Alpha1CspAccount> _accounts;
    private readonly ResourceInformer<V1Alpha1ClusterCspAccount>? _clusterAccounts;
    private readonly ResourceInformer<V1Namespace>? _namespaces;
    private readonly string _clusterResourceNamespace;

    public CspAccountResolver(InformerFactory informers, OperatorOptions options)
    {
        ArgumentNullException.ThrowIfNull(informers);
        ArgumentNullException.ThrowIfNull(options);
        _accounts = informers.GetInformer<V1Alpha1CspAccount>();
        if (options.ServesClusterKinds)
        {
            _clusterAccounts = informers.GetInformer<V1Alpha1ClusterCspAccount>();
            _namespaces = informers.GetInformer<V1Namespace>();
        }

        _clusterResourceNamespace = options.ClusterResourceNamespace;
    }

    public async Task<AccountLookup> ResolveAsync(V1Alpha1KeySet keySet, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keySet);
        var ns = keySet.Metadata.NamespaceProperty ?? "";
        var reference = keySet.Spec.CspAccountRef;
        if (reference.Kind == V1Alpha1CspAccountKind.CspAccount)
        {
            await _accounts.WaitForSyncAsync(cancellationToken).ConfigureAwait(false);
            return _accounts.TryGet(new(ns, reference.Name), out var account)
                ? AccountLookup.Found(AwsAccount.Of(account))
                : new AccountLookup(null, Reasons.CspAccountNotFound, $"CspAccount {reference.Name} does not exist in namespace {ns}");
        }

        if (_clusterAccounts is null || _namespaces is null)
        {
            return new AccountLookup(null, Reasons.NotAllowed, $"cspAccountRef names ClusterCspAccount {reference.Name}, but this operator serves no cluster-scoped kinds (a namespaced install; --serve-cluster-kinds): use a CspAccount in {ns}");
        }

        await Task.WhenAll(_clusterAccounts.WaitForSyncAsync(cancellationToken), _namespaces.WaitForSyncAsync(cancellationToken)).ConfigureAwait(false);
        if (!_clusterAccounts.TryGet(new(string.Empty, reference.Name), out var clusterAccount))
        {
            return new AccountLookup(null, Reasons.CspAccountNotFound, $"ClusterCspAccount {reference.Name} does not exist");
        }

        _namespaces.TryGet(new(string.Empty, ns), out var keySetNamespace);
        return CspAccountDecisions.ClusterAccountRefusal(clusterAccount, ns, keySetNamespace) is { } refusal
            ? new AccountLookup(null, Reasons.NotAllowed, refusal)
            : AccountLookup.Found(AwsAccount.Of(clusterAccount, _clusterResourceNamespace));
    }

    /// <summary>The KeySets (any namespace) whose cspAccountRef names ClusterCspAccount <paramref name="name"/>.</summary>
    public static IEnumerable<ResourceKey> KeySetsUsingClusterAccount(IEnumerable<V1Alpha1KeySet> keySets, string name) =>
        keySets.Where(k => k.Spec?.CspAccountRef is { Kind: V1Alpha1CspAccountKind.ClusterCspAccount } reference && reference.Name == name)
            .Select(ResourceKey.From)
            .ToList();

    /// <summary>The KeySets (of one namespace) that use a ClusterCspAccount (a label change may give or take it).</summary>
    public static IEnumerable<ResourceKey> KeySetsOfNamespaceUsingClusterAccounts(IEnumerable<V1Alpha1KeySet> keySetsOfNamespace) =>
        keySetsOfNamespace.Where(k => k.Spec?.CspAccountRef is { Kind: V1Alpha1CspAccountKind.ClusterCspAccount })
            .Select(ResourceKey.From)
            .ToList();
}
