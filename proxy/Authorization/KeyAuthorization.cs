using Xks.Contracts.ProxyConfig;
using Xks.Proxy.Contracts;

namespace Xks.Proxy.Authorization;

/// <summary>Which XKS operation a request asks for (health is never subject to secondary authorization).</summary>
public enum XksOperation
{
    GetHealthStatus,
    GetKeyMetadata,
    Encrypt,
    Decrypt,
}

/// <summary>
/// Secondary authorization of one key: allowed principal ARNs (with '*' wildcards), kmsViaService values and
/// source VPCs / VPC endpoints. Each non-empty rule must match; the first rule that fails is named in the denial.
/// </summary>
public sealed class KeyAuthorization
{
    private readonly string[] _principals;
    private readonly string[] _viaServices;
    private readonly string[] _sourceVpcs;
    private readonly string[] _sourceVpces;

    public KeyAuthorization(AuthorizationOptions options)
    {
        _principals = [.. options.Principals];
        _viaServices = [.. options.ViaServices];
        _sourceVpcs = [.. options.SourceVpcs];
        _sourceVpces = [.. options.SourceVpces];
    }

    /// <summary>Returns null when allowed, otherwise the rule that denied the request (e.g. "principals").</summary>
    public string? Evaluate(XksOperation operation, RequestMetadata metadata)
    {
        if (_principals.Length > 0 && !_principals.Any(p => Wildcard.Matches(p, metadata.AwsPrincipalArn ?? "")))
        {
            return "principals";
        }

        // GetKeyMetadata carries no kmsViaService (spec 1.0.3), so that rule applies to crypto only.
        if (_viaServices.Length > 0 && operation is XksOperation.Encrypt or XksOperation.Decrypt
            && (metadata.KmsViaService is not { } via || !_viaServices.Contains(via, StringComparer.Ordinal)))
        {
            return "viaServices";
        }

        if (_sourceVpcs.Length > 0 && (metadata.AwsSourceVpc is not { } vpc || !_sourceVpcs.Contains(vpc, StringComparer.Ordinal)))
        {
            return "sourceVpcs";
        }

        if (_sourceVpces.Length > 0 && (metadata.AwsSourceVpce is not { } vpce || !_sourceVpces.Contains(vpce, StringComparer.Ordinal)))
        {
            return "sourceVpces";
        }

        return null;
    }
}
