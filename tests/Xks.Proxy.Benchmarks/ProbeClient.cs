using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;

namespace Xks.Proxy.Benchmarks;

/// <summary>The answer to a single probe request.</summary>
internal sealed record ProbeResponse(HttpStatusCode Status, string? ContentType, byte[] Body)
{
    public bool IsJsonOk => Status == HttpStatusCode.OK && ContentType == "application/json";

    public string BodyText => System.Text.Encoding.UTF8.GetString(Body);
}

/// <summary>
/// Single requests to the servers: readiness, and the check before each wrk run that the replayed request really
/// succeeds. Over TLS it trusts exactly the benchmark's own certificate.
/// </summary>
internal sealed class ProbeClient : IDisposable
{
    private readonly HttpClient _http;

    public ProbeClient(string certificateSha256)
    {
        var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
            certificate is not null && certificate.GetCertHashString(HashAlgorithmName.SHA256) == certificateSha256;
        _http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(10) };
    }

    public async Task<bool> IsReadyAsync(Uri url, CancellationToken cancellation)
    {
        try
        {
            using var response = await _http.GetAsync(url, cancellation).ConfigureAwait(false);
            return response.StatusCode == HttpStatusCode.OK;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    public async Task<ProbeResponse> SendAsync(PreparedRequest request, CancellationToken cancellation)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, request.Url) { Content = new ByteArrayContent(request.Body) };
        foreach (var (name, value) in request.Headers)
        {
            if (PreparedRequest.IsHost(name))
            {
                // HttpClient derives Host from the URL; it must be what was signed.
                if (value != request.Url.Authority)
                {
                    throw new BenchmarkException($"Host '{value}' does not match {request.Url}");
                }
            }
            else if (PreparedRequest.IsContentType(name))
            {
                message.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(value);
            }
            else
            {
                message.Headers.TryAddWithoutValidation(name, value);
            }
        }

        using var response = await _http.SendAsync(message, cancellation).ConfigureAwait(false);
        var body = await response.Content.ReadAsByteArrayAsync(cancellation).ConfigureAwait(false);
        return new ProbeResponse(response.StatusCode, response.Content.Headers.ContentType?.MediaType, body);
    }

    public void Dispose() => _http.Dispose();
}
