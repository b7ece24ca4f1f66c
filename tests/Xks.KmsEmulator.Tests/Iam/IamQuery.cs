using System.Text;
using System.Xml.Linq;
using Xks.KmsEmulator.Auth;

namespace Xks.KmsEmulator.Tests.Iam;

/// <summary>An IAM query-protocol call signed with SigV4 for service iam (the emulator's own signer), and its XML answer.</summary>
internal static class IamQuery
{
    public static readonly XNamespace Ns = "https://iam.amazonaws.com/doc/2010-05-08/";

    public static async Task<(int Status, XElement Body)> SendAsync(Uri url, string accessKeyId, string secret, string region, string action, params (string Name, string Value)[] parameters)
    {
        var form = string.Join('&', new[] { ("Action", action), ("Version", "2010-05-08") }.Concat(parameters).Select(p => $"{p.Item1}={Uri.EscapeDataString(p.Item2)}"));
        var body = Encoding.UTF8.GetBytes(form);
        var now = DateTimeOffset.UtcNow;
        var amzDate = SigV4.FormatAmzDate(now);
        var host = url.Authority;
        const string contentType = "application/x-www-form-urlencoded; charset=utf-8";
        var headers = new List<KeyValuePair<string, string>> { new("content-type", contentType), new("host", host), new("x-amz-date", amzDate) };
        var scope = $"{amzDate[..8]}/{region}/iam/aws4_request";
        var canonical = SigV4.CanonicalRequest("POST", "/", "", headers, SigV4.HexSha256(body));
        var signature = SigV4.Signature(secret, amzDate[..8], region, "iam", SigV4.StringToSign(amzDate, scope, canonical));

        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        request.Headers.TryAddWithoutValidation("X-Amz-Date", amzDate);
        request.Headers.TryAddWithoutValidation("Authorization", SigV4.AuthorizationHeader(accessKeyId, scope, headers.Select(h => h.Key), signature));
        using var response = await http.SendAsync(request);
        return ((int)response.StatusCode, XElement.Parse(await response.Content.ReadAsStringAsync()));
    }

    public static string ErrorCode(XElement body) => body.Descendants(Ns + "Code").Single().Value;
}
