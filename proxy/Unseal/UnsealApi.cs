using System.Buffers;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Xks.Proxy.Unseal;

/// <summary>
/// The unseal API of a proxy in Shamir mode, served only on its own listener, plain HTTP on 127.0.0.1:adminPort
/// (<see cref="Hosting.ProxyApplication"/>). Nothing outside the pod can reach that address: custodians come in through
/// <c>kubectl port-forward</c>, so Kubernetes RBAC on <c>pods/portforward</c> in the Vault's namespace decides who may
/// unseal, and the share travels inside the API server's authenticated, encrypted tunnel.
/// <list type="bullet">
/// <item><c>POST /admin/v1/unseal</c> <c>{"share":"xks-share-v1.…"}</c>: 200 with the seal status while collecting
/// and once unsealed (<c>{"sealed":false}</c> alone when it already was: the share is not used), 400 for a share that
/// cannot count (<c>MalformedShare</c>, with its precise problem), 422 when the threshold of shares do not reconstruct
/// the Vault's unseal key (<c>WrongShares</c>; progress reset) or its keyring does not open (<c>KeyringUnusable</c>).</item>
/// <item><c>GET /admin/v1/seal-status</c>: <c>{"sealed":…,"threshold":…,"progress":…,"rootVersions":[…]}</c>.</item>
/// </list>
/// Bodies never echo a share; the request buffer is zeroed after reading.
/// </summary>
public sealed class UnsealApi(ShamirUnsealer unsealer)
{
    public const string UnsealPath = "/admin/v1/unseal";

    public const string StatusPath = "/admin/v1/seal-status";

    /// <summary>Largest request body read; a share is at most a few hundred characters.</summary>
    public const int MaxBodyBytes = 16 * 1024;

    /// <summary>Answers one request that arrived on the admin listener.</summary>
    public async Task HandleAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Response.Headers.CacheControl = "no-store";
        var path = context.Request.Path;
        var method = context.Request.Method;
        if (path.Equals(UnsealPath, StringComparison.Ordinal))
        {
            if (!HttpMethods.IsPost(method))
            {
                context.Response.Headers.Allow = "POST";
                await WriteErrorAsync(context, StatusCodes.Status405MethodNotAllowed, "MethodNotAllowed", $"{UnsealPath} takes POST").ConfigureAwait(false);
                return;
            }

            await UnsealAsync(context).ConfigureAwait(false);
            return;
        }

        if (path.Equals(StatusPath, StringComparison.Ordinal))
        {
            if (!HttpMethods.IsGet(method))
            {
                context.Response.Headers.Allow = "GET";
                await WriteErrorAsync(context, StatusCodes.Status405MethodNotAllowed, "MethodNotAllowed", $"{StatusPath} takes GET").ConfigureAwait(false);
                return;
            }

            await WriteAsync(context, StatusCodes.Status200OK, ToResponse(unsealer.Status()), UnsealJsonContext.Default.SealStatusResponse).ConfigureAwait(false);
            return;
        }

        await WriteErrorAsync(context, StatusCodes.Status404NotFound, "NotFound", $"the admin port serves POST {UnsealPath} and GET {StatusPath} only").ConfigureAwait(false);
    }

    private async Task UnsealAsync(HttpContext context)
    {
        UnsealRequest? request;
        var buffer = ArrayPool<byte>.Shared.Rent(MaxBodyBytes + 1);
        var length = 0;
        try
        {
            int read;
            while ((read = await context.Request.Body.ReadAsync(buffer.AsMemory(length, MaxBodyBytes + 1 - length), context.RequestAborted).ConfigureAwait(false)) > 0)
            {
                length += read;
                if (length > MaxBodyBytes)
                {
                    await WriteErrorAsync(context, StatusCodes.Status413PayloadTooLarge, "BadRequest", $"the body is larger than {MaxBodyBytes} bytes: send one share").ConfigureAwait(false);
                    return;
                }
            }

            request = JsonSerializer.Deserialize(buffer.AsSpan(0, length), UnsealJsonContext.Default.UnsealRequest);
        }
        catch (JsonException)
        {
            // The exception's message may quote part of the body: never passed on.
            request = null;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(buffer.AsSpan(0, Math.Min(length, buffer.Length)));
            ArrayPool<byte>.Shared.Return(buffer);
        }

        if (request is null)
        {
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest, "BadRequest", "the body must be JSON {\"share\":\"xks-share-v1.…\"}").ConfigureAwait(false);
            return;
        }

        var answer = unsealer.Submit(request.Share);
        var task = answer.Kind switch
        {
            UnsealAnswerKind.Progress or UnsealAnswerKind.Unsealed =>
                WriteAsync(context, StatusCodes.Status200OK, ToResponse(answer.Status), UnsealJsonContext.Default.SealStatusResponse),
            UnsealAnswerKind.AlreadyUnsealed =>
                WriteAsync(context, StatusCodes.Status200OK, new SealStatusResponse { Sealed = false }, UnsealJsonContext.Default.SealStatusResponse),
            UnsealAnswerKind.MalformedShare => WriteErrorAsync(context, StatusCodes.Status400BadRequest, "MalformedShare", answer.Problem!),
            UnsealAnswerKind.WrongShares => WriteErrorAsync(context, StatusCodes.Status422UnprocessableEntity, "WrongShares", answer.Problem!),
            UnsealAnswerKind.KeyringUnusable => WriteErrorAsync(context, StatusCodes.Status422UnprocessableEntity, "KeyringUnusable", answer.Problem!),
            _ => WriteErrorAsync(context, StatusCodes.Status503ServiceUnavailable, "NotReady", answer.Problem ?? "not ready"),
        };
        await task.ConfigureAwait(false);
    }

    private static SealStatusResponse ToResponse(SealStatus status) => new()
    {
        Sealed = status.Sealed,
        Threshold = status.Threshold,
        Progress = status.Progress,
        RootVersions = [.. status.RootVersions],
    };

    private static Task WriteErrorAsync(HttpContext context, int statusCode, string error, string message) =>
        WriteAsync(context, statusCode, new UnsealErrorResponse { Error = error, Message = message }, UnsealJsonContext.Default.UnsealErrorResponse);

    private static Task WriteAsync<T>(HttpContext context, int statusCode, T body, JsonTypeInfo<T> typeInfo)
    {
        context.Response.StatusCode = statusCode;
        context.Response.ContentType = "application/json";
        return JsonSerializer.SerializeAsync(context.Response.Body, body, typeInfo, context.RequestAborted);
    }
}
