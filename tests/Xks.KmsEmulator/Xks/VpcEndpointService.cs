namespace Xks.KmsEmulator.Xks;

/// <summary>
/// An Amazon VPC endpoint service of the emulated account, as an external key store with connectivity
/// VPC_ENDPOINT_SERVICE sees it (AWS KMS developer guide, "Configure VPC endpoint service connectivity"): its private
/// DNS name must be verified and equal the store's XksProxyUriEndpoint host, its allowed principals must include
/// cks.kms.&lt;region&gt;.amazonaws.com, it must not require acceptance of endpoint connections, and it serves one key
/// store of the account. KMS dials it through its own interface endpoint; the emulator dials <see cref="Target"/>.
/// </summary>
public sealed class VpcEndpointService
{
    /// <summary>The private DNS name (e.g. xks.example.com); null: none.</summary>
    public string? PrivateDnsName { get; set; }

    /// <summary>Whether the owner proved the private DNS name (the TXT record); AWS uses only a verified name.</summary>
    public bool PrivateDnsVerified { get; set; } = true;

    /// <summary>Principals allowed to create interface endpoints to the service, e.g. cks.kms.us-east-1.amazonaws.com.</summary>
    public IList<string> AllowedPrincipals { get; } = new List<string>();

    /// <summary>Whether endpoint connections must be accepted by hand (KMS requires false).</summary>
    public bool AcceptanceRequired { get; set; }

    /// <summary>"127.0.0.1:18443": where the service's network load balancer forwards, i.e. where the emulator dials for it.</summary>
    public string? Target { get; set; }

    /// <summary>The KMS service principal of <paramref name="region"/> that must be allowed.</summary>
    public static string KmsPrincipal(string region) => $"cks.kms.{region}.amazonaws.com";

    /// <summary>A correctly configured service for a proxy at <paramref name="privateDnsName"/>, reached at <paramref name="target"/>.</summary>
    public static VpcEndpointService For(string privateDnsName, string region, string target)
    {
        var service = new VpcEndpointService { PrivateDnsName = privateDnsName, Target = target };
        service.AllowedPrincipals.Add(KmsPrincipal(region));
        return service;
    }

    /// <summary>
    /// Why KMS cannot use this service for a store whose endpoint is <paramref name="uriEndpoint"/> in
    /// <paramref name="region"/> (XksProxyVpcEndpointServiceInvalidConfigurationException), or null.
    /// </summary>
    internal string? ConfigurationProblem(string serviceName, string uriEndpoint, string region)
    {
        var host = Uri.TryCreate(uriEndpoint, UriKind.Absolute, out var uri) ? uri.Host : uriEndpoint;
        if (string.IsNullOrEmpty(PrivateDnsName) || !string.Equals(PrivateDnsName.TrimEnd('.'), host, StringComparison.OrdinalIgnoreCase))
        {
            return $"The private DNS name of VPC endpoint service '{serviceName}' ({PrivateDnsName ?? "none"}) must be the host of the XksProxyUriEndpoint ({host}).";
        }

        if (!PrivateDnsVerified)
        {
            return $"The private DNS name '{PrivateDnsName}' of VPC endpoint service '{serviceName}' is not verified.";
        }

        if (!AllowedPrincipals.Contains(KmsPrincipal(region), StringComparer.Ordinal))
        {
            return $"VPC endpoint service '{serviceName}' does not allow the principal {KmsPrincipal(region)}.";
        }

        return AcceptanceRequired ? $"VPC endpoint service '{serviceName}' requires acceptance of endpoint connections; KMS requires it not to." : null;
    }
}
