using Amazon.Runtime;
using Amazon.Runtime.Internal;
using Amazon.Runtime.Internal.Auth;

namespace Xks.Proxy.Benchmarks;

/// <summary>
/// Signs XKS requests with the AWS SDK for .NET's own SigV4 signer (AWSSDK.Core <c>AWS4Signer</c>) for service
/// <c>kms-xks-proxy</c>, as AWS KMS signs its calls. A signature stays valid for the proxy's ±5 minute clock skew,
/// so one signed request can be replayed for a whole wrk run.
/// </summary>
internal sealed class SdkRequestSigner(BenchCredentials credentials)
{
    private const string Service = "kms-xks-proxy";

    public PreparedRequest Sign(Uri url, byte[] body)
    {
        var request = new DefaultRequest(new XksSignedRequest(), Service)
        {
            HttpMethod = "POST",
            Endpoint = new Uri(url.GetLeftPart(UriPartial.Authority)),
            ResourcePath = url.AbsolutePath,
            Content = body,
            AuthenticationRegion = BenchCredentials.Region,
        };
        request.Headers["Content-Type"] = "application/json";
        var config = new XksClientConfig { AuthenticationRegion = BenchCredentials.Region, AuthenticationServiceName = Service };
        var result = new AWS4Signer().SignRequest(request, config, null, credentials.AccessKeyId, credentials.Secret);
        request.Headers["Authorization"] = result.ForAuthorizationHeader;
        return new PreparedRequest(url, [.. request.Headers], body);
    }

    private sealed class XksSignedRequest : AmazonWebServiceRequest;

    private sealed class XksClientConfig : ClientConfig
    {
        public XksClientConfig()
            : base(null)
        {
        }

        public override string RegionEndpointServiceName => Service;

        public override string ServiceVersion => "v1";

        public override string UserAgent => "xks-proxy-benchmark";

        public override Amazon.Runtime.Endpoints.Endpoint DetermineServiceOperationEndpoint(Amazon.Runtime.Endpoints.ServiceOperationEndpointParameters parameters) =>
            throw new NotSupportedException("the benchmark sets the endpoint itself");
    }
}
