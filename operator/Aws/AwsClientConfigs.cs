using Amazon;
using Amazon.KeyManagementService;
using Amazon.Runtime;
using Amazon.SecurityToken;

namespace Xks.Operator.Aws;

/// <summary>
/// The SDK client configurations of a session (pure): the region's public endpoint, or <c>spec.endpoint</c> as the
/// ServiceURL of both KMS and STS with the region as signing region; standard retry mode with a bounded retry count;
/// timeouts.
/// </summary>
internal static class AwsClientConfigs
{
    public static AmazonKeyManagementServiceConfig Kms(string region, string? endpoint, AwsClientOptions options) =>
        Configure(new AmazonKeyManagementServiceConfig(), region, endpoint, options);

    public static AmazonSecurityTokenServiceConfig Sts(string region, string? endpoint, AwsClientOptions options) =>
        Configure(new AmazonSecurityTokenServiceConfig(), region, endpoint, options);

    private static T Configure<T>(T config, string region, string? endpoint, AwsClientOptions options)
        where T : ClientConfig
    {
        if (string.IsNullOrEmpty(endpoint))
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(region);
        }
        else
        {
            config.ServiceURL = endpoint;
            config.AuthenticationRegion = region;
        }

        config.RetryMode = RequestRetryMode.Standard;
        config.MaxErrorRetry = options.MaxErrorRetry;
        config.Timeout = options.Timeout;
        config.ConnectTimeout = options.ConnectTimeout;
        return config;
    }
}
