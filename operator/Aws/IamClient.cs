using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Xml.Linq;
using Amazon.Runtime;
using Amazon.Runtime.Internal;
using Amazon.Runtime.Internal.Auth;
using Amazon.SecurityToken;

namespace Xks.Operator.Aws;

/// <summary>One access key of an IAM user as ListAccessKeys reports it (no secret).</summary>
public sealed record IamAccessKey(string AccessKeyId, bool Active, DateTimeOffset CreateDate);

/// <summary>A key CreateAccessKey just made: the only time IAM returns its secret. Never logged (ToString hides it).</summary>
internal sealed record IamNewAccessKey(string AccessKeyId, string SecretAccessKey, DateTimeOffset CreateDate)
{
    public override string ToString() => $"IamNewAccessKey {{ AccessKeyId = {AccessKeyId}, SecretAccessKey = ***, CreateDate = {CreateDate:O} }}";
}

/// <summary>
/// An IAM error response (<c>&lt;ErrorResponse&gt;&lt;Error&gt;&lt;Code&gt;</c>): LimitExceeded, NoSuchEntity,
/// AccessDenied, Throttling, InvalidClientTokenId… An <see cref="AmazonServiceException"/>, so <see cref="AwsErrors"/>
/// gives it the same reasons as the SDK's errors (AccessDenied, Throttled, InvalidCredentials).
/// </summary>
public sealed class IamException(string code, string message, string requestId, HttpStatusCode status)
    : AmazonServiceException(message, ErrorType.Sender, code, requestId, status);

/// <summary>Where IAM is: its one global endpoint per partition and the region its signatures are scoped to (pure).</summary>
public static class IamEndpoint
{
    /// <summary>
    /// <paramref name="endpointOverride"/> (a CspAccount's spec.endpoint: a test double or a proxy that serves IAM
    /// too) with the account's region; else the partition's endpoint: aws-cn <c>iam.cn-north-1.amazonaws.com.cn</c>
    /// (cn-north-1), aws-us-gov <c>iam.us-gov.amazonaws.com</c> (us-gov-west-1), aws <c>iam.amazonaws.com</c> (us-east-1).
    /// </summary>
    public static (Uri Url, string SigningRegion) For(string region, string? endpointOverride)
    {
        ArgumentNullException.ThrowIfNull(region);
        if (!string.IsNullOrEmpty(endpointOverride))
        {
            return (new Uri(endpointOverride), region);
        }

        if (region.StartsWith("cn-", StringComparison.Ordinal))
        {
            return (new Uri("https://iam.cn-north-1.amazonaws.com.cn/"), "cn-north-1");
        }

        return region.StartsWith("us-gov-", StringComparison.Ordinal)
            ? (new Uri("https://iam.us-gov.amazonaws.com/"), "us-gov-west-1")
            : (new Uri("https://iam.amazonaws.com/"), "us-east-1");
    }
}

/// <summary>
/// IAM over its query protocol (AWSSDK.IdentityManagement is not a dependency): a form POST
/// <c>Action=…&amp;Version=2010-05-08</c>, SigV4-signed for service <c>iam</c> by AWSSDK.Core's
/// <see cref="AWS4Signer"/>, XML answers. The four calls of access-key rotation, always without <c>UserName</c>:
/// IAM then acts on the user whose key signed the call, so the key in the Secret can only ever touch its own user's
/// keys, and the policy it needs names only that user. No retries here: every call goes through
/// <see cref="AwsSession.CallIamAsync{T}"/> (the account's rate limit and metrics), and a failure (Throttling
/// included) fails the step, which the reconcile's backoff retries.
/// </summary>
public sealed class IamClient
{
    public const string Version = "2010-05-08";
    public static readonly XNamespace Ns = "https://iam.amazonaws.com/doc/2010-05-08/";

    private readonly HttpClient _http;
    private readonly Uri _endpoint;
    private readonly string _signingRegion;
    private readonly string _accessKeyId;
    private readonly string _secretAccessKey;

    internal IamClient(HttpClient http, Uri endpoint, string signingRegion, string accessKeyId, string secretAccessKey)
    {
        _http = http ?? throw new ArgumentNullException(nameof(http));
        _endpoint = endpoint ?? throw new ArgumentNullException(nameof(endpoint));
        _signingRegion = signingRegion;
        _accessKeyId = accessKeyId;
        _secretAccessKey = secretAccessKey;
    }

    /// <summary>The access key ID this client signs with (the user it acts on).</summary>
    public string AccessKeyId => _accessKeyId;

    internal async Task<IamNewAccessKey> CreateAccessKeyAsync(CancellationToken cancellationToken)
    {
        var result = await SendAsync("CreateAccessKey", [], cancellationToken).ConfigureAwait(false);
        var key = Child(result, "AccessKey");
        return new IamNewAccessKey(Text(key, "AccessKeyId"), Text(key, "SecretAccessKey"), Date(Text(key, "CreateDate")));
    }

    public async Task<IReadOnlyList<IamAccessKey>> ListAccessKeysAsync(CancellationToken cancellationToken)
    {
        var keys = new List<IamAccessKey>();
        string? marker = null;
        do
        {
            var parameters = marker is null ? new List<(string, string)>() : [("Marker", marker)];
            var result = await SendAsync("ListAccessKeys", parameters, cancellationToken).ConfigureAwait(false);
            foreach (var member in Child(result, "AccessKeyMetadata").Elements().Where(e => e.Name.LocalName == "member"))
            {
                keys.Add(new IamAccessKey(Text(member, "AccessKeyId"), Text(member, "Status") == "Active", Date(Text(member, "CreateDate"))));
            }

            marker = result.Elements().FirstOrDefault(e => e.Name.LocalName == "IsTruncated")?.Value == "true"
                ? result.Elements().FirstOrDefault(e => e.Name.LocalName == "Marker")?.Value
                : null;
        }
        while (marker is not null);

        return keys;
    }

    /// <summary>Sets a key Active or Inactive (idempotent).</summary>
    public Task UpdateAccessKeyAsync(string accessKeyId, bool active, CancellationToken cancellationToken) =>
        SendAsync("UpdateAccessKey", [("AccessKeyId", accessKeyId), ("Status", active ? "Active" : "Inactive")], cancellationToken);

    public Task DeleteAccessKeyAsync(string accessKeyId, CancellationToken cancellationToken) =>
        SendAsync("DeleteAccessKey", [("AccessKeyId", accessKeyId)], cancellationToken);

    /// <summary>The form body of a call, parameters in the given order after Action and Version (pure).</summary>
    internal static string FormBody(string action, IEnumerable<(string Name, string Value)> parameters) =>
        string.Join('&', new[] { ("Action", action), ("Version", Version) }.Concat(parameters)
            .Select(p => $"{Uri.EscapeDataString(p.Item1)}={Uri.EscapeDataString(p.Item2)}"));

    private async Task<XElement> SendAsync(string action, IEnumerable<(string Name, string Value)> parameters, CancellationToken cancellationToken)
    {
        var body = Encoding.UTF8.GetBytes(FormBody(action, parameters));
        using var message = Sign(body);
        using var response = await _http.SendAsync(message, cancellationToken).ConfigureAwait(false);
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        XElement? root = null;
        try
        {
            root = XElement.Parse(text);
        }
        catch (System.Xml.XmlException)
        {
            // Not XML (e.g. a proxy's HTML page): an error below.
        }

        if (!response.IsSuccessStatusCode || root is null || root.Name.LocalName == "ErrorResponse")
        {
            var error = root?.Descendants().FirstOrDefault(e => e.Name.LocalName == "Error");
            var code = error?.Elements().FirstOrDefault(e => e.Name.LocalName == "Code")?.Value;
            var detail = error?.Elements().FirstOrDefault(e => e.Name.LocalName == "Message")?.Value;
            var requestId = root?.Descendants().FirstOrDefault(e => e.Name.LocalName == "RequestId")?.Value ?? "";
            throw new IamException(
                string.IsNullOrEmpty(code) ? (response.IsSuccessStatusCode ? "MalformedResponse" : $"Http{(int)response.StatusCode}") : code,
                AwsErrors.Scrub($"IAM {action}: {detail ?? response.ReasonPhrase ?? "no message"}"),
                requestId,
                response.StatusCode);
        }

        return root.Elements().FirstOrDefault(e => e.Name.LocalName == action + "Result") ?? new XElement(Ns + (action + "Result"));
    }

    private HttpRequestMessage Sign(byte[] body)
    {
        var request = new DefaultRequest(new IamQueryRequest(), "IAM")
        {
            HttpMethod = "POST",
            Endpoint = new Uri(_endpoint.GetLeftPart(UriPartial.Authority)),
            ResourcePath = _endpoint.AbsolutePath,
            Content = body,
            AuthenticationRegion = _signingRegion,
            OverrideSigningServiceName = "iam",
        };
        request.Headers["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8";

        // The signer reads the region and service from the config as well; STS's config is only the carrier here.
        var config = new AmazonSecurityTokenServiceConfig { ServiceURL = _endpoint.ToString(), AuthenticationRegion = _signingRegion, AuthenticationServiceName = "iam" };
        var signature = new AWS4Signer().SignRequest(request, config, null, _accessKeyId, _secretAccessKey);
        request.Headers["Authorization"] = signature.ForAuthorizationHeader;

        var message = new HttpRequestMessage(HttpMethod.Post, _endpoint) { Content = new ByteArrayContent(body) };
        foreach (var (name, value) in request.Headers)
        {
            if (name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase))
            {
                message.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(value);
            }
            else if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                message.Content.Headers.ContentLength = long.Parse(value, CultureInfo.InvariantCulture);
            }
            else if (name.Equals("Host", StringComparison.OrdinalIgnoreCase))
            {
                message.Headers.Host = value;
            }
            else
            {
                message.Headers.TryAddWithoutValidation(name, value);
            }
        }

        return message;
    }

    private static XElement Child(XElement parent, string name) =>
        parent.Elements().FirstOrDefault(e => e.Name.LocalName == name)
        ?? throw new IamException("MalformedResponse", $"IAM answer without {name}", "", HttpStatusCode.OK);

    private static string Text(XElement parent, string name) => Child(parent, name).Value;

    private static DateTimeOffset Date(string text) =>
        DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

    private sealed class IamQueryRequest : AmazonWebServiceRequest;
}
