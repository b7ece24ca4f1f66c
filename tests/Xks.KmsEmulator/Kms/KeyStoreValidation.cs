using System.Text.RegularExpressions;

namespace Xks.KmsEmulator.Kms;

/// <summary>The model's constraints on external key store settings (botocore kms/2014-11-01: patterns and lengths).</summary>
internal static partial class KeyStoreValidation
{
    public static void Name(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > 256)
        {
            throw Invalid("customKeyStoreName", "Member must have length between 1 and 256");
        }
    }

    public static void Connectivity(string? connectivity, string? vpcEndpointServiceName)
    {
        if (connectivity is not ("PUBLIC_ENDPOINT" or "VPC_ENDPOINT_SERVICE"))
        {
            throw Invalid("xksProxyConnectivity", "Member must satisfy enum value set: [PUBLIC_ENDPOINT, VPC_ENDPOINT_SERVICE]");
        }

        if (connectivity == "VPC_ENDPOINT_SERVICE" && (vpcEndpointServiceName is null || !VpcEndpointServicePattern().IsMatch(vpcEndpointServiceName)))
        {
            throw Invalid("xksProxyVpcEndpointServiceName", "Member is required for VPC_ENDPOINT_SERVICE and must satisfy pattern com.amazonaws.vpce.<region>.vpce-svc-<id>");
        }
    }

    public static void UriEndpoint(string? endpoint)
    {
        if (endpoint is null || endpoint.Length is < 10 or > 128 || !UriEndpointPattern().IsMatch(endpoint))
        {
            throw Invalid("xksProxyUriEndpoint", "Member must be https://<host name> without a port or path, 10 to 128 characters");
        }
    }

    public static void UriPath(string? path)
    {
        if (path is null || path.Length is < 10 or > 128 || !UriPathPattern().IsMatch(path))
        {
            throw Invalid("xksProxyUriPath", "Member must be [/<prefix>]/kms/xks/v<n> of a-z A-Z 0-9 / - _, 10 to 128 characters");
        }
    }

    public static void Credential(XksProxyAuthenticationCredential? credential)
    {
        if (credential?.AccessKeyId is not { } id || id.Length is < 20 or > 30 || !AccessKeyIdPattern().IsMatch(id))
        {
            throw Invalid("xksProxyAuthenticationCredential.accessKeyId", "Member must have length between 20 and 30 and satisfy pattern ^[A-Z2-7]+$");
        }

        if (credential.RawSecretAccessKey is not { } secret || secret.Length is < 43 or > 64 || !SecretPattern().IsMatch(secret))
        {
            // Never echo the value.
            throw Invalid("xksProxyAuthenticationCredential.rawSecretAccessKey", "Member must have length between 43 and 64 and satisfy pattern ^[a-zA-Z0-9\\/+=]+$");
        }
    }

    private static KmsException Invalid(string member, string constraint) =>
        KmsException.Validation($"1 validation error detected: Value at '{member}' failed to satisfy constraint: {constraint}");

    [GeneratedRegex("^https://[a-zA-Z0-9.-]+$")]
    private static partial Regex UriEndpointPattern();

    [GeneratedRegex(@"^(/[a-zA-Z0-9/_-]+/kms/xks/v\d{1,2})$|^(/kms/xks/v\d{1,2})$")]
    private static partial Regex UriPathPattern();

    [GeneratedRegex("^[A-Z2-7]+$")]
    private static partial Regex AccessKeyIdPattern();

    [GeneratedRegex("^[a-zA-Z0-9/+=]+$")]
    private static partial Regex SecretPattern();

    [GeneratedRegex(@"^com\.amazonaws\.vpce\.([a-z]+-){2,3}\d+\.vpce-svc-[0-9a-z]+$")]
    private static partial Regex VpcEndpointServicePattern();
}
