using Amazon.Runtime;
using Amazon.SecurityToken;

namespace Xks.Operator.Aws;

/// <summary>
/// Clients of one account's endpoints signed with explicit long-term keys rather than the session's credentials:
/// IAM (always the IAM user's own keys, even when the session assumes a role) and STS to verify a key.
/// </summary>
internal sealed class AwsKeyClients(HttpClient http, string region, string? endpoint, AwsClientOptions options)
{
    public AwsClientOptions Options => options;

    public IamClient Iam(AwsSecretKeys keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var (url, signingRegion) = IamEndpoint.For(region, endpoint);
        return new IamClient(http, url, signingRegion, keys.AccessKeyId, keys.SecretAccessKey);
    }

    public AmazonSecurityTokenServiceClient Sts(AwsSecretKeys keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        return new AmazonSecurityTokenServiceClient(new BasicAWSCredentials(keys.AccessKeyId, keys.SecretAccessKey), AwsClientConfigs.Sts(region, endpoint, options));
    }
}
