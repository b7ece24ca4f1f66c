using System.Buffers;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;
using Xks.Proxy.Audit;
using Xks.Proxy.Authentication;
using Xks.Proxy.Authorization;
using Xks.Proxy.Contracts;
using Xks.Proxy.Errors;
using Xks.Proxy.Health;
using Xks.Proxy.Metrics;
using Xks.Proxy.Options;

namespace Xks.Proxy.Endpoints;

/// <summary>
/// The XKS request pipeline, in the order the checks run: path (404 InvalidUriPath) → method (405) → the SigV4
/// headers (401, before any body byte is read) → body size → SigV4 signature (401) → a configuration the API server
/// has not confirmed for too long (503 DependencyTimeoutException, <see cref="ConfigFreshness"/>) → blocked key store
/// (InvalidState) → per-prefix quota (429) → JSON and fields (400) → the operation.
/// It is also the one place that writes error bodies, records metrics and queues the audit line. Authentication
/// failures are logged within a budget (<see cref="AuthenticationFailureLogsPerSecond"/>); the rest are counted.
/// </summary>
public sealed partial class XksRequestHandler
{
    // Headroom over the binary limits for Base64 expansion and requestMetadata (ARNs up to 2048 characters each).
    private const int BodyOverheadBytes = 32 * 1024;

    /// <summary>Warnings per second about failed authentications; beyond it they are only counted.</summary>
    public const int AuthenticationFailureLogsPerSecond = 10;

    private readonly ProxyConfigurationHolder _configuration;
    private readonly SigV4Verifier _verifier;
    private readonly GetHealthStatusEndpoint _health;
    private readonly GetKeyMetadataEndpoint _metadata;
    private readonly EncryptEndpoint _encrypt;
    private readonly DecryptEndpoint _decrypt;
    private readonly AuditLog _audit;
    private readonly ProxyMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger<XksRequestHandler> _logger;
    private readonly RateBudget _authenticationFailureLogs;
    private readonly ConfigFreshness _freshness;

    public XksRequestHandler(
        ProxyConfigurationHolder configuration,
        SigV4Verifier verifier,
        GetHealthStatusEndpoint health,
        GetKeyMetadataEndpoint metadata,
        EncryptEndpoint encrypt,
        DecryptEndpoint decrypt,
        AuditLog audit,
        ProxyMetrics metrics,
        TimeProvider time,
        ConfigFreshness freshness,
        ILogger<XksRequestHandler> logger)
    {
        _freshness = freshness;
        _configuration = configuration;
        _verifier = verifier;
        _health = health;
        _metadata = metadata;
        _encrypt = encrypt;
        _decrypt = decrypt;
        _audit = audit;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _authenticationFailureLogs = new RateBudget(AuthenticationFailureLogsPerSecond, time);
    }

    public async Task HandleAsync(HttpContext context)
    {
        var started = Stopwatch.GetTimestamp();
        var rawTarget = context.Features.GetRequiredFeature<IHttpRequestFeature>().RawTarget;
        var queryAt = rawTarget.IndexOf('?', StringComparison.Ordinal);
        var pathLength = queryAt < 0 ? rawTarget.Length : queryAt;
        var configuration = _configuration.Current;

        if (!XksPath.TryParse(rawTarget.AsSpan(0, pathLength), out var prefixRange, out var operation, out var keyIdRange)
            || !configuration.TryGetKeyStore(rawTarget.AsSpan(0, pathLength)[prefixRange], out var keyStore))
        {
            _metrics.InvalidPath.Inc();
            Log.InvalidPath(_logger, context.Request.Method, SafeForLog(rawTarget.AsSpan(0, pathLength)));
            await WriteErrorAsync(context, XksErrorName.InvalidUriPathException, "The URI path is not a path of this XKS proxy.").ConfigureAwait(false);
            return;
        }

        if (!HttpMethods.IsPost(context.Request.Method))
        {
            _metrics.InvalidPath.Inc();
            context.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            context.Response.Headers.Allow = "POST";
            return;
        }

        var audit = new AuditRecord
        {
            Time = _time.GetUtcNow(),
            Operation = OperationName(operation),
            KeyStore = keyStore.Name,
            RemoteAddress = context.Connection.RemoteIpAddress?.ToString(),
        };
        var keyId = operation == XksOperation.GetHealthStatus ? "" : rawTarget.AsSpan(0, pathLength)[keyIdRange].ToString();
        XksErrorName? error = null;
        byte[]? body = null;
        var bodyLength = 0;
        try
        {
            // Who the request claims to be, checked before its body is read: a request that cannot authenticate costs
            // no body, no buffer and no JSON parse.
            _verifier.CheckHeaders(context.Request.Headers, keyStore, configuration);
            (body, bodyLength) = await ReadBodyAsync(context, configuration).ConfigureAwait(false);
            var credential = _verifier.Verify(
                context.Request.Method,
                rawTarget.AsSpan(0, pathLength),
                queryAt < 0 ? [] : rawTarget.AsSpan(queryAt + 1),
                context.Request.Headers,
                body.AsSpan(0, bodyLength),
                keyStore,
                configuration);
            audit.AccessKeyId = credential.AccessKeyId;

            if (_freshness.IsStale)
            {
                // Fail closed: a blocked store, a disabled key or a revoked credential may be waiting behind the partition.
                throw new XksException(XksErrorName.DependencyTimeoutException, "This proxy replica cannot confirm its configuration with the Kubernetes API server and refuses requests until it can.");
            }

            if (operation != XksOperation.GetHealthStatus && keyStore.Blocked)
            {
                throw new XksException(XksErrorName.InvalidStateException, "This key store is blocked.");
            }

            if (keyStore.RateLimiter is { } limiter)
            {
                using var lease = limiter.AttemptAcquire();
                if (!lease.IsAcquired)
                {
                    throw new XksException(XksErrorName.ThrottlingException, "The request rate of this key store is over its quota.");
                }
            }

            CheckContentType(context.Request);
            var call = new XksCall
            {
                Configuration = configuration,
                KeyStore = keyStore,
                Operation = operation,
                KeyId = keyId,
                Body = new ReadOnlyMemory<byte>(body, 0, bodyLength),
                Audit = audit,
            };

            var response = JsonResponse.Begin();
            switch (operation)
            {
                case XksOperation.GetHealthStatus:
                    _health.Handle(call, response);
                    break;
                case XksOperation.GetKeyMetadata:
                    _metadata.Handle(call, response);
                    break;
                case XksOperation.Encrypt:
                    _encrypt.Handle(call, response);
                    break;
                default:
                    _decrypt.Handle(call, response);
                    break;
            }

            await WriteJsonAsync(context, StatusCodes.Status200OK, response.Complete()).ConfigureAwait(false);
        }
        catch (XksException ex)
        {
            error = ex.Name;
            if (audit.KmsRequestId is null && body is not null)
            {
                // Refused before the operation parsed the body (bad signature, blocked key store, quota): the request id
                // still lets an operator find the failed KMS call (CloudTrail) in the logs — unverified only when the
                // signature was the problem.
                audit.KmsRequestId = UnverifiedRequestId(body.AsSpan(0, bodyLength));
            }

            if (audit.KeyId is null && keyId.Length > 0)
            {
                audit.KeyId = ErrorMessages.Sanitize(keyId);
            }

            LogFailure(ex, audit, keyId);
            await WriteErrorAsync(context, ex.Name, ex.PublicMessage).ConfigureAwait(false);
        }
        catch (Exception ex) when (!context.RequestAborted.IsCancellationRequested)
        {
            error = XksErrorName.InternalException;
            Log.InternalError(_logger, audit.KmsRequestId, OperationName(operation), ex);
            await WriteErrorAsync(context, XksErrorName.InternalException, "The proxy failed to process the request.").ConfigureAwait(false);
        }
        finally
        {
            if (body is not null)
            {
                ArrayPool<byte>.Shared.Return(body, clearArray: true);
            }

            var elapsed = Stopwatch.GetElapsedTime(started);
            _metrics.RecordRequest(operation, error, elapsed.TotalSeconds);
            if (_audit.Enabled)
            {
                audit.Outcome = error?.ToWireName() ?? "Success";
                audit.Status = error?.ToStatusCode() ?? StatusCodes.Status200OK;
                audit.LatencyMs = Math.Round(elapsed.TotalMilliseconds, 3);
                _audit.Write(audit);
            }
        }
    }

    private static string OperationName(XksOperation operation) => operation switch
    {
        XksOperation.GetHealthStatus => "GetHealthStatus",
        XksOperation.GetKeyMetadata => "GetKeyMetadata",
        XksOperation.Encrypt => "Encrypt",
        _ => "Decrypt",
    };

    private void LogFailure(XksException ex, AuditRecord audit, string keyId)
    {
        switch (ex.Name)
        {
            case XksErrorName.AuthenticationFailedException when _authenticationFailureLogs.TryTake():
                Log.AuthenticationFailed(_logger, audit.KmsRequestId, audit.KeyStore, ex.Message);
                break;
            case XksErrorName.AuthenticationFailedException:
                _metrics.AuthenticationFailuresNotLogged.Inc();
                break;
            case XksErrorName.AccessDeniedException:
                Log.AccessDenied(_logger, audit.KmsRequestId, audit.Operation, keyId, audit.DeniedBy, audit.AwsPrincipalArn);
                break;
            case XksErrorName.InternalException:
                Log.InternalError(_logger, audit.KmsRequestId, audit.Operation, ex);
                break;
            default:
                Log.RequestRefused(_logger, audit.KmsRequestId, audit.Operation, keyId, ex.Name.ToWireName(), ex.Message);
                break;
        }
    }

    private static void CheckContentType(HttpRequest request)
    {
        var contentType = request.ContentType;
        if (contentType is null)
        {
            return;
        }

        if (!MediaTypeHeaderValue.TryParse(contentType, out var media) || !media.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase))
        {
            throw XksException.Validation("Content-Type must be application/json.");
        }
    }

    private static async Task<(byte[] Buffer, int Length)> ReadBodyAsync(HttpContext context, ProxyConfiguration configuration)
    {
        var limit = ((configuration.Limits.MaxPlaintextBytes + configuration.Limits.MaxAadBytes + 64) / 3 * 4) + BodyOverheadBytes;
        var declared = context.Request.ContentLength;
        if (declared > limit)
        {
            throw new XksException(XksErrorName.UnsupportedOperationException, $"The request body is larger than this proxy's limit of {limit} bytes.");
        }

        var buffer = ArrayPool<byte>.Shared.Rent((int)(declared ?? 4096) + 1);
        var length = 0;
        var stream = context.Request.Body;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (length > limit)
                    {
                        throw new XksException(XksErrorName.UnsupportedOperationException, $"The request body is larger than this proxy's limit of {limit} bytes.");
                    }

                    var bigger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, length).CopyTo(bigger);
                    ArrayPool<byte>.Shared.Return(buffer, clearArray: true);
                    buffer = bigger;
                }

                var read = await stream.ReadAsync(buffer.AsMemory(length), context.RequestAborted).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                length += read;
            }

            if (length > limit)
            {
                throw new XksException(XksErrorName.UnsupportedOperationException, $"The request body is larger than this proxy's limit of {limit} bytes.");
            }

            return (buffer, length);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer, clearArray: true);
            throw;
        }
    }

    private static async Task WriteJsonAsync(HttpContext context, int status, (byte[] Array, int Length) body)
    {
        try
        {
            var response = context.Response;
            response.StatusCode = status;
            response.ContentType = "application/json";
            response.ContentLength = body.Length;
            await response.Body.WriteAsync(body.Array.AsMemory(0, body.Length), context.RequestAborted).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(body.Array, clearArray: true);
        }
    }

    /// <summary>The only writer of XKS error bodies: status from the one mapping, a sanitized errorMessage.</summary>
    internal static Task WriteErrorAsync(HttpContext context, XksErrorName name, string message)
    {
        if (context.Response.HasStarted)
        {
            return Task.CompletedTask;
        }

        var response = JsonResponse.Begin();
        JsonSerializer.Serialize(response.Writer,
            new ErrorResponse { ErrorName = name.ToWireName(), ErrorMessage = ErrorMessages.Sanitize(message) },
            XksJsonContext.Default.ErrorResponse);
        return WriteJsonAsync(context, name.ToStatusCode(), response.Complete());
    }

    /// <summary>requestMetadata.kmsRequestId of a body that failed authentication, made safe to log (printable ASCII, ≤ 128 chars).</summary>
    internal static string? UnverifiedRequestId(ReadOnlySpan<byte> body)
    {
        try
        {
            var id = JsonSerializer.Deserialize(body, XksJsonContext.Default.GetHealthStatusRequest)?.RequestMetadata?.KmsRequestId;
            return id is null ? null : ErrorMessages.Sanitize(id.Length > 128 ? id[..128] : id);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string SafeForLog(ReadOnlySpan<char> path) => ErrorMessages.Sanitize(path.Length > 300 ? path[..300].ToString() : path.ToString());

    private static partial class Log
    {
        [LoggerMessage(100, LogLevel.Debug, "Refused {Method} {Path}: not a path of this proxy", EventName = "InvalidPath")]
        public static partial void InvalidPath(ILogger logger, string method, string path);

        [LoggerMessage(101, LogLevel.Warning, "SigV4 authentication failed kmsRequestId={KmsRequestId} (unverified) key store {KeyStore}: {Reason}", EventName = "AuthenticationFailed")]
        public static partial void AuthenticationFailed(ILogger logger, string? kmsRequestId, string? keyStore, string reason);

        [LoggerMessage(102, LogLevel.Warning, "Access denied kmsRequestId={KmsRequestId} operation={Operation} key={KeyId}: secondary authorization rule '{Rule}' did not match principal {Principal}", EventName = "AccessDenied")]
        public static partial void AccessDenied(ILogger logger, string? kmsRequestId, string? operation, string keyId, string? rule, string? principal);

        [LoggerMessage(103, LogLevel.Information, "Refused kmsRequestId={KmsRequestId} operation={Operation} key={KeyId} with {ErrorName}: {Detail}", EventName = "RequestRefused")]
        public static partial void RequestRefused(ILogger logger, string? kmsRequestId, string? operation, string keyId, string errorName, string detail);

        [LoggerMessage(104, LogLevel.Error, "Internal error kmsRequestId={KmsRequestId} operation={Operation}", EventName = "InternalError")]
        public static partial void InternalError(ILogger logger, string? kmsRequestId, string? operation, Exception exception);
    }
}
