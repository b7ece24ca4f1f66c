using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Xks.Proxy.Endpoints;

/// <summary>
/// A per-thread JSON writer for response bodies. Endpoints write synchronously into it; the handler copies the
/// bytes out before its first await, so the buffer is never shared between requests. Cleared after each use,
/// since Decrypt writes plaintext through it.
/// </summary>
internal sealed class JsonResponse
{
    [ThreadStatic]
    private static JsonResponse? t_current;

    private readonly ArrayBufferWriter<byte> _buffer = new(1024);

    private JsonResponse() => Writer = new Utf8JsonWriter(_buffer, new JsonWriterOptions { SkipValidation = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });

    public Utf8JsonWriter Writer { get; }

    public static JsonResponse Begin()
    {
        var response = t_current ??= new JsonResponse();
        response._buffer.ResetWrittenCount();
        response.Writer.Reset(response._buffer);
        return response;
    }

    /// <summary>Flushes the writer and copies the body into a pooled array (return it with <see cref="ArrayPool{T}.Shared"/>).</summary>
    public (byte[] Array, int Length) Complete()
    {
        Writer.Flush();
        var written = _buffer.WrittenSpan;
        var array = ArrayPool<byte>.Shared.Rent(written.Length);
        written.CopyTo(array);
        _buffer.Clear();
        return (array, written.Length);
    }
}
