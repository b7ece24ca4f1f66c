using System.Net;
using Xks.Contracts.ProxyConfig;
using Xks.Operator.Entities;

namespace Xks.Operator.Aws;

/// <summary>
/// Which AWS identities a namespaced CspAccount may use, set by the operator's flags — so that whoever may create a
/// CspAccount in one namespace cannot borrow the operator's own identity, a role nobody allowed, another tenant's
/// external ID, or send signed calls in clear (pure):
/// <list type="bullet">
/// <item><c>credentials.source: Default</c> without <c>assumeRole</c> is the operator's own identity (its IRSA or Pod
/// Identity role): ClusterCspAccounts (a platform team's, shared by namespace selector) and CspAccounts in
/// <see cref="AmbientNamespaces"/> may use it;</item>
/// <item><c>assumeRole.roleArn</c> must match one of <see cref="AllowedRoleArns"/> (<c>*</c> matches any run of
/// characters); the external ID is always the operator's, derived from the CspAccount's namespace and name
/// (<see cref="ExternalId"/>), so a tenant cannot present another tenant's — the confused deputy a role's trust policy
/// guards against with <c>sts:ExternalId</c> (<see cref="AwsAccount.ExternalId"/>);</item>
/// <item>an <c>http://</c> endpoint only for a loopback host (nothing leaves the operator's pod), or with
/// <see cref="AllowHttpEndpoints"/> (tests).</item>
/// </list>
/// </summary>
public sealed record AwsIdentityPolicy
{
    /// <summary>Namespaces whose CspAccounts may use the operator's own identity (credentials.source Default without assumeRole).</summary>
    public IReadOnlySet<string> AmbientNamespaces { get; init; } = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>Role ARNs a CspAccount may assume; <c>*</c> matches any run of characters. Default: any role.</summary>
    public IReadOnlyList<string> AllowedRoleArns { get; init; } = ["*"];

    /// <summary>Accept <c>http://</c> endpoints on any host (signed calls, session tokens included, in clear): tests only.</summary>
    public bool AllowHttpEndpoints { get; init; }

    /// <summary>The external ID the operator presents when it assumes <paramref name="account"/>'s role (<see cref="AwsAccount.ExternalId"/>).</summary>
    public static string ExternalId(V1Alpha1CspAccount account) => AwsAccount.Of(account).ExternalId;

    /// <summary>What in <paramref name="account"/>'s spec this policy does not allow; empty when all is allowed.</summary>
    public IReadOnlyList<string> Refusals(V1Alpha1CspAccount account) => Refusals(AwsAccount.Of(account));

    /// <summary>What in <paramref name="account"/>'s spec this policy does not allow; empty when all is allowed. Each names its field and the flag that decides.</summary>
    public IReadOnlyList<string> Refusals(AwsAccount account)
    {
        ArgumentNullException.ThrowIfNull(account);
        var spec = account.Spec;
        var ns = account.Namespace ?? "";
        var refusals = new List<string>();
        if (spec.Credentials?.Source == V1Alpha1CredentialsSource.Default && spec.AssumeRole is null && !account.IsClusterScoped && !AmbientNamespaces.Contains(ns))
        {
            refusals.Add($"spec.credentials.source Default would lend the operator's own AWS identity to namespace {ns}; only CspAccounts in "
                + (AmbientNamespaces.Count == 0 ? "no namespace" : "namespace " + string.Join(", ", AmbientNamespaces.Order(StringComparer.Ordinal)))
                + " may use it (operator flag --ambient-credentials-namespace). Use credentials from a Secret, assumeRole a role that trusts the operator, or a ClusterCspAccount your platform team shares with this namespace");
        }

        if (spec.AssumeRole is { RoleArn: { Length: > 0 } roleArn } role)
        {
            if (!AllowedRoleArns.Any(pattern => Wildcard.Matches(pattern, roleArn)))
            {
                refusals.Add($"spec.assumeRole.roleArn {roleArn} is not among the roles this operator may assume (operator flag --allowed-role-arn: {string.Join(", ", AllowedRoleArns)})");
            }

            if (!string.IsNullOrEmpty(role.ExternalId) && role.ExternalId != account.ExternalId)
            {
                refusals.Add($"spec.assumeRole.externalId is chosen by the operator, not the account: remove it, and have the role's trust policy require sts:ExternalId '{account.ExternalId}'");
            }
        }

        if (!AllowHttpEndpoints && Uri.TryCreate(spec.Endpoint, UriKind.Absolute, out var endpoint) && endpoint.Scheme == Uri.UriSchemeHttp && !IsLoopback(endpoint))
        {
            refusals.Add($"spec.endpoint {endpoint.GetLeftPart(UriPartial.Authority)} is plain http: signed requests and session tokens would cross the network in clear; use https (operator flag --allow-http-endpoints is for tests)");
        }

        return refusals;
    }

    private static bool IsLoopback(Uri uri) =>
        uri.IsLoopback || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));
}
