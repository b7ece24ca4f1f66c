using Amazon.Runtime;
using Amazon.Runtime.Internal;
using Amazon.Runtime.Internal.Auth;

namespace Xks.Proxy.Tests.Support;

/// <summary>
/// Signs requests with the AWS SDK for .NET's own SigV4 signer (AWSSDK.Core <c>AWS4Signer</c>), an implementation
/// independent of the proxy's verifier, for service <c>kms-xks-proxy</c> — as AWS KMS signs its XKS calls.
/// </summary>
public static class AwsSdkSigner
{
    public static void Sign(HttpRequestMessage message, byte[] body, string accessKeyId, string secret, string region = TestCredentials.Region, string contentType = "application/json")
    {
        var uri = message.RequestUri!;
        var request = new DefaultRequest(new XksSignedRequest(), "kms-xks-proxy")
        {
            HttpMethod = message.Method.Method,
            Endpoint = new Uri(uri.GetLeftPart(UriPartial.Authority)),
            ResourcePath = uri.AbsolutePath,
            Content = body,
            AuthenticationRegion = region,
        };
        request.Headers["Content-Type"] = contentType;
        var config = new XksClientConfig { AuthenticationRegion = region, AuthenticationServiceName = "kms-xks-proxy" };
        var result = new AWS4Signer().SignRequest(request, config, null, accessKeyId, secret);
        request.Headers["Authorization"] = result.ForAuthorizationHeader;
        foreach (var (name, value) in request.Headers)
        {
            if (name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase) || name.Equals("Host", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            message.Headers.TryAddWithoutValidation(name, value);
        }
    }

    private sealed class XksSignedRequest : AmazonWebServiceRequest;

    private sealed class XksClientConfig : ClientConfig
    {
        public XksClientConfig()
            : base(null)
        {
        }

        public override string RegionEndpointServiceName => "kms-xks-proxy";

        public override string ServiceVersion => "v1";

        public override string UserAgent => "xks-proxy-tests";

        public override Amazon.Runtime.Endpoints.Endpoint DetermineServiceOperationEndpoint(Amazon.Runtime.Endpoints.ServiceOperationEndpointParameters parameters) =>
            throw new NotSupportedException("the XKS test client sets the endpoint itself");
    }
}
