using System.Text.RegularExpressions;
using Xks.Operator.Entities;

namespace Xks.Operator.Controllers;

/// <summary>
/// A KeySet with connectivity VpcEndpointService, checked before any AWS call (pure): the service name's shape
/// (com.amazonaws.vpce.&lt;region&gt;.vpce-svc-&lt;17 hex digits&gt;) and its region, which must be the key store's.
/// The rest of AWS's rules live in EC2, which the operator does not read: the endpoint service's verified private DNS
/// name must be the Vault's hostname (the store's XksProxyUriEndpoint is https://&lt;hostname&gt;), its allowed
/// principals must include cks.kms.&lt;region&gt;.amazonaws.com, it must not require acceptance, and no other key
/// store in the account may use it. KMS refuses each with an exception, which <see cref="Hint"/> turns into advice.
/// </summary>
public static partial class VpcEndpointServiceChecks
{
    /// <summary>Problems with the name alone, or none. Null or empty names are KeySetController.Validate's concern.</summary>
    public static IReadOnlyList<string> NameProblems(string? serviceName)
    {
        if (string.IsNullOrEmpty(serviceName) || ServiceName().IsMatch(serviceName))
        {
            return [];
        }

        return [$"spec.externalKeyStore.vpcEndpointServiceName '{serviceName}' is not a VPC endpoint service name: it must be com.amazonaws.vpce.<region>.vpce-svc-<17 lowercase hex digits>, e.g. com.amazonaws.vpce.eu-west-1.vpce-svc-0123456789abcdef0"];
    }

    /// <summary>
    /// Why the service cannot serve a key store in <paramref name="region"/> (a VPC endpoint service is regional, and
    /// KMS reaches only one in the store's own region), or null.
    /// </summary>
    public static string? RegionProblem(string? serviceName, string region)
    {
        ArgumentNullException.ThrowIfNull(region);
        if (serviceName is null || ServiceName().Match(serviceName) is not { Success: true } match)
        {
            return null;
        }

        var serviceRegion = match.Groups["region"].Value;
        return serviceRegion == region
            ? null
            : $"VPC endpoint service {serviceName} is in region {serviceRegion}, but the key store is in {region} (the CspAccount's region, or spec.region): KMS connects only to an endpoint service in the key store's region";
    }

    /// <summary>The rule the operator cannot check itself, for messages: the private DNS name the endpoint service must have.</summary>
    public static string DnsRule(string serviceName, V1Alpha1Vault vault)
    {
        ArgumentNullException.ThrowIfNull(vault);
        return $"VPC endpoint service {serviceName} must have the verified private DNS name {vault.Spec.Hostname} (the Vault's hostname; the key store's endpoint is https://{vault.Spec.Hostname}), allow the principal cks.kms.<region>.amazonaws.com, not require acceptance, and serve no other key store";
    }

    /// <summary>
    /// Advice to append to a KMS failure's message for the KMS reason <paramref name="reason"/> (AwsErrors.ReasonForCode),
    /// or null when the reason is not about a VPC endpoint service.
    /// </summary>
    public static string? Hint(string reason, V1Alpha1KeySet keySet, V1Alpha1Vault? vault)
    {
        ArgumentNullException.ThrowIfNull(reason);
        ArgumentNullException.ThrowIfNull(keySet);
        var service = keySet.Spec.ExternalKeyStore.VpcEndpointServiceName ?? "(none)";
        var hostname = vault?.Spec.Hostname ?? "the Vault's hostname";
        return reason switch
        {
            Reasons.XksProxyVpcEndpointServiceNotFound =>
                $"KMS finds no VPC endpoint service {service} in the key store's region: check the name in spec.externalKeyStore.vpcEndpointServiceName and that the service exists in this account",
            Reasons.XksProxyVpcEndpointServiceInvalidConfiguration =>
                $"KMS refuses VPC endpoint service {service}: its private DNS name must be {hostname} and verified, its allowed principals must include cks.kms.<region>.amazonaws.com, and it must not require acceptance",
            Reasons.XksProxyVpcEndpointServiceInUse =>
                $"VPC endpoint service {service} already serves another custom key store in this account; each key store needs its own endpoint service (and so its own Vault hostname)",
            _ => null,
        };
    }

    [GeneratedRegex(@"^com\.amazonaws\.vpce\.(?<region>[a-z]{2}(-[a-z]+)+-\d{1,2})\.vpce-svc-[0-9a-f]{17}$")]
    private static partial Regex ServiceName();
}
