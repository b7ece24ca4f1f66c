using System.Net;
using k8s.Models;

namespace Xks.Operator.Resources;

/// <summary>Checks of a NetworkPolicyPeer shared by the operator's flags and the Vault's spec.networkPolicy.</summary>
public static class NetworkPolicyPeers
{
    /// <summary>
    /// Why the API server (or a CNI) would refuse <paramref name="peer"/>, as the end of a sentence; null when it is
    /// fine. A peer names pods, namespaces or an ipBlock; an empty one is refused rather than guessed at.
    /// </summary>
    public static string? Problem(V1NetworkPolicyPeer? peer)
    {
        if (peer is null || (peer.PodSelector is null && peer.NamespaceSelector is null && peer.IpBlock is null))
        {
            return "names no source: set podSelector, namespaceSelector or ipBlock";
        }

        if (peer.IpBlock is { } block)
        {
            if (peer.PodSelector is not null || peer.NamespaceSelector is not null)
            {
                return "sets ipBlock together with a selector; use one or the other";
            }

            if (!IPNetwork.TryParse(block.Cidr ?? "", out _))
            {
                return $"has ipBlock.cidr '{block.Cidr}', which is not a CIDR such as 10.0.0.0/8";
            }

            foreach (var except in block.Except ?? [])
            {
                if (!IPNetwork.TryParse(except ?? "", out _))
                {
                    return $"has ipBlock.except '{except}', which is not a CIDR such as 10.1.0.0/16";
                }
            }
        }

        return null;
    }
}
