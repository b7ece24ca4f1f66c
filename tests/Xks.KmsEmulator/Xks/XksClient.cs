using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Xks.KmsEmulator.Auth;

namespace Xks.KmsEmulator.Xks;

/// <summary>
/// Calls XKS proxies like AWS KMS does: HTTPS POST, SigV4 (service <c>kms-xks-proxy</c>, the emulator's region, the
/// key store's credential, signed headers <c>host;x-amz-date</c>), one timeout per call. Host overrides change only
/// where the socket connects: the URI, TLS SNI and the signed Host header keep the real host name.
/// </summary>
internal sealed class XksClient : IDisposable
{
    public const string Service = "kms-xks-proxy";
    private readonly HttpClient _http;
    private readonly string _region;
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _time;

    public XksClient(KmsEmulatorOptions options, TimeProvider time)
    {
        _region = options.Region;
        _timeout = options.XksTimeout;
        _time = time;
        var overrides = new Dictionary<string, string>(options.HostOverrides, StringComparer.OrdinalIgnoreCase);
        var trust = new CertificateTrust(options.TrustedCaFile);
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(1),
            ConnectCallback = (context, cancellationToken) => ConnectAsync(DialTarget(options.VpcEndpointServices, overrides, context.DnsEndPoint.Host), context.DnsEndPoint.Host, context.DnsEndPoint.Port, cancellationToken),
        };
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, chain, errors) => trust.Validate(certificate, chain, errors);
        _http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
    }

    public async Task<XksHealthResponse> HealthAsync(XksEndpoint endpoint, string kmsOperation, string requestId, CancellationToken cancellationToken)
    {
        var request = new XksMetadataOnlyRequest { RequestMetadata = new XksRequestMetadata { KmsOperation = kmsOperation, KmsRequestId = requestId } };
        var health = await PostAsync(endpoint, "/health", request, XksJsonContext.Default.XksMetadataOnlyRequest, XksJsonContext.Default.XksHealthResponse, cancellationToken).ConfigureAwait(false);
        if (health.XksProxyFleetSize <= 0 || string.IsNullOrEmpty(health.XksProxyVendor) || string.IsNullOrEmpty(health.XksProxyModel)
            || string.IsNullOrEmpty(health.EkmVendor) || health.EkmFleetDetails is not { Count: >= 1 and <= 10 })
        {
            throw new XksFailure(XksFailureKind.InvalidResponse, "The external key store proxy's health status response is incomplete or out of range.");
        }

        if (health.EkmFleetDetails.All(m => m.HealthStatus == "UNAVAILABLE"))
        {
            throw new XksFailure(XksFailureKind.Unreachable, "The external key store proxy reports that all external key manager instances are unavailable.");
        }

        return health;
    }

    public Task<XksKeyMetadataResponse> GetKeyMetadataAsync(XksEndpoint endpoint, string keyId, XksRequestMetadata metadata, CancellationToken cancellationToken) =>
        PostAsync(endpoint, $"/keys/{keyId}/metadata", new XksMetadataOnlyRequest { RequestMetadata = metadata },
            XksJsonContext.Default.XksMetadataOnlyRequest, XksJsonContext.Default.XksKeyMetadataResponse, cancellationToken);

    public Task<XksEncryptResponse> EncryptAsync(XksEndpoint endpoint, string keyId, XksEncryptRequest request, CancellationToken cancellationToken) =>
        PostAsync(endpoint, $"/keys/{keyId}/encrypt", request, XksJsonContext.Default.XksEncryptRequest, XksJsonContext.Default.XksEncryptResponse, cancellationToken);

    public Task<XksDecryptResponse> DecryptAsync(XksEndpoint endpoint, string keyId, XksDecryptRequest request, CancellationToken cancellationToken) =>
        PostAsync(endpoint, $"/keys/{keyId}/decrypt", request, XksJsonContext.Default.XksDecryptRequest, XksJsonContext.Default.XksDecryptResponse, cancellationToken);

    public void Dispose() => _http.Dispose();

    /// <summary>Signs an XKS request as KMS does. Pure apart from the clock value passed in.</summary>
    internal static void Sign(HttpRequestMessage message, byte[] body, string accessKeyId, string secret, string region, DateTimeOffset now)
    {
        var uri = message.RequestUri!;
        var amzDate = SigV4.FormatAmzDate(now);
        var host = uri.IsDefaultPort ? uri.IdnHost : $"{uri.IdnHost}:{uri.Port.ToString(CultureInfo.InvariantCulture)}";
        message.Headers.Host = host;
        message.Headers.Add("X-Amz-Date", amzDate);
        var headers = new List<KeyValuePair<string, string>> { new("host", host), new("x-amz-date", amzDate) };
        var scope = $"{amzDate[..8]}/{region}/{Service}/aws4_request";
        var canonical = SigV4.CanonicalRequest("POST", uri.AbsolutePath, "", headers, SigV4.HexSha256(body));
        var signature = SigV4.Signature(secret, amzDate[..8], region, Service, SigV4.StringToSign(amzDate, scope, canonical));
        message.Headers.TryAddWithoutValidation("Authorization", SigV4.AuthorizationHeader(accessKeyId, scope, headers.Select(h => h.Key), signature));
    }

    private async Task<TResponse> PostAsync<TRequest, TResponse>(
        XksEndpoint endpoint,
        string relativePath,
        TRequest request,
        JsonTypeInfo<TRequest> requestType,
        JsonTypeInfo<TResponse> responseType,
        CancellationToken cancellationToken)
        where TResponse : class
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(request, requestType);
        using var message = new HttpRequestMessage(HttpMethod.Post, endpoint.Uri(relativePath)) { Content = new ByteArrayContent(body) };
        message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        Sign(message, body, endpoint.AccessKeyId, endpoint.SecretAccessKey, _region, _time.GetUtcNow());

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_timeout);
        try
        {
            using var response = await _http.SendAsync(message, timeout.Token).ConfigureAwait(false);
            var payload = await response.Content.ReadAsByteArrayAsync(timeout.Token).ConfigureAwait(false);
            if (response.IsSuccessStatusCode)
            {
                return Deserialize(payload, responseType)
                    ?? throw new XksFailure(XksFailureKind.InvalidResponse, "The external key store proxy returned an empty response.");
            }

            var error = Deserialize(payload, XksJsonContext.Default.XksErrorResponse);
            if (string.IsNullOrEmpty(error?.ErrorName))
            {
                throw new XksFailure(XksFailureKind.InvalidResponse, $"The external key store proxy returned HTTP {(int)response.StatusCode} without an XKS error body.");
            }

            throw new XksFailure(XksFailureKind.ProxyError, $"The external key store proxy rejected the request with {error.ErrorName} (HTTP {(int)response.StatusCode}).", error.ErrorName);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new XksFailure(XksFailureKind.TimedOut, $"The external key store proxy did not respond within {_timeout.TotalMilliseconds:F0} ms.");
        }
        catch (HttpRequestException ex)
        {
            throw ex.HttpRequestError switch
            {
                HttpRequestError.SecureConnectionError => new XksFailure(XksFailureKind.TlsFailure, "The TLS connection to the external key store proxy failed: " + ex.InnerException?.Message),
                HttpRequestError.InvalidResponse or HttpRequestError.ResponseEnded => new XksFailure(XksFailureKind.InvalidResponse, "The external key store proxy sent an invalid HTTP response: " + Detail(ex)),
                _ => new XksFailure(XksFailureKind.Unreachable, "The external key store proxy cannot be reached: " + ex.Message),
            };
        }
    }

    private static string Detail(Exception ex) => ex.InnerException is { } inner ? $"{ex.Message} ({inner.GetType().Name}: {inner.Message})" : ex.Message;

    private static T? Deserialize<T>(byte[] payload, JsonTypeInfo<T> type)
        where T : class
    {
        try
        {
            return payload.Length == 0 ? null : JsonSerializer.Deserialize(payload, type);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// Where to dial for <paramref name="host"/>: the target of the VPC endpoint service whose private DNS name it is
    /// (inside the VPC that name resolves to the interface endpoint), else its host override, else null (DNS). Decided
    /// by host, as connections are pooled by host: a public-endpoint store on a registered private DNS name is dialed
    /// through the service too (AWS would resolve the public name), which no test relies on.
    /// </summary>
    internal static string? DialTarget(IDictionary<string, VpcEndpointService> services, IReadOnlyDictionary<string, string> overrides, string host)
    {
        foreach (var service in services.Values)
        {
            if (service.Target is { Length: > 0 } target && string.Equals(service.PrivateDnsName?.TrimEnd('.'), host, StringComparison.OrdinalIgnoreCase))
            {
                return target;
            }
        }

        return overrides.TryGetValue(host, out var overridden) ? overridden : null;
    }

    private static async ValueTask<Stream> ConnectAsync(string? target, string host, int port, CancellationToken cancellationToken)
    {
        if (target is not null)
        {
            var colon = target.LastIndexOf(':');
            if (colon > 0 && int.TryParse(target.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var overridePort))
            {
                host = target[..colon];
                port = overridePort;
            }
            else
            {
                host = target;
            }
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(host, port, cancellationToken).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
