using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Threading.Channels;
using Xks.Contracts.ProxyConfig;
using Xks.Proxy.Contracts;
using Xks.Proxy.Metrics;
using Xks.Proxy.Options;

namespace Xks.Proxy.Audit;

/// <summary>
/// Writes audit lines off the hot path: requests enqueue a record (never blocking), a background writer
/// serialises each as one JSON line to standard output or a file; under load one write
/// carries every record queued since the last. If the queue overflows, records are counted
/// as dropped rather than slowing requests down. Records of requests that failed authentication (no verified access
/// key ID) have their own budget, <see cref="UnauthenticatedRecordsPerSecond"/>, so a flood of them never crowds out
/// the records of real requests.
/// </summary>
public sealed partial class AuditLog : BackgroundService
{
    private const int Capacity = 65536;

    /// <summary>Audit records per second of requests that did not authenticate; beyond it they are counted, not written.</summary>
    public const int UnauthenticatedRecordsPerSecond = 100;
    private readonly Channel<AuditRecord> _channel = Channel.CreateBounded<AuditRecord>(
        new BoundedChannelOptions(Capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.DropWrite });
    private readonly AuditOptions _options;
    private readonly ProxyMetrics _metrics;
    private readonly ILogger<AuditLog> _logger;
    private readonly RateBudget _unauthenticated;

    public AuditLog(ProxyConfigurationHolder configuration, ProxyMetrics metrics, TimeProvider time, ILogger<AuditLog> logger)
    {
        _options = configuration.Current.Options.Audit;
        _metrics = metrics;
        _logger = logger;
        _unauthenticated = new RateBudget(UnauthenticatedRecordsPerSecond, time);
    }

    public bool Enabled => _options.Enabled;

    public void Write(AuditRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (!_options.Enabled)
        {
            return;
        }

        if (record.AccessKeyId is null && record.Status == StatusCodes.Status401Unauthorized && !_unauthenticated.TryTake())
        {
            _metrics.AuditUnauthenticatedDropped.Inc();
            return;
        }

        if (!_channel.Writer.TryWrite(record))
        {
            _metrics.AuditDropped.Inc();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.Enabled)
        {
            return;
        }

        // Standard output is shared with the console logger: lines go through Console.Out, whose lock the logger
        // takes for each whole message too, so an audit line and a log line never interleave (a log message is more
        // than one write(2) to the pipe; bytes written past Console.Out could land between them).
        var file = string.IsNullOrEmpty(_options.File) ? null : new FileStream(_options.File, FileMode.Append, FileAccess.Write, FileShare.Read);
        try
        {
            var batch = new ArrayBufferWriter<byte>(BatchBytes);
            using var writer = new Utf8JsonWriter(batch, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
            var reader = _channel.Reader;
            try
            {
                while (await reader.WaitToReadAsync(stoppingToken).ConfigureAwait(false))
                {
                    await DrainAsync(reader, writer, batch, file).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                // Shutting down: write what is queued.
            }

            await DrainAsync(reader, writer, batch, file).ConfigureAwait(false);
        }
        finally
        {
            if (file is not null)
            {
                await file.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private const int BatchBytes = 64 * 1024;

    /// <summary>Writes every queued record, in batches of whole lines (about 64 KB each).</summary>
    private async Task DrainAsync(ChannelReader<AuditRecord> reader, Utf8JsonWriter writer, ArrayBufferWriter<byte> batch, FileStream? file)
    {
        try
        {
            while (reader.TryRead(out var record))
            {
                JsonSerializer.Serialize(writer, record, XksJsonContext.Default.AuditRecord);
                writer.Flush();
                writer.Reset();
                batch.GetSpan(1)[0] = (byte)'\n';
                batch.Advance(1);
                if (batch.WrittenCount >= BatchBytes)
                {
                    await EmitAsync(batch, file).ConfigureAwait(false);
                }
            }

            await EmitAsync(batch, file).ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            batch.ResetWrittenCount();
            Log.AuditWriteFailed(_logger, ex.Message);
        }
    }

    private static async Task EmitAsync(ArrayBufferWriter<byte> batch, FileStream? file)
    {
        if (batch.WrittenCount == 0)
        {
            return;
        }

        if (file is not null)
        {
            await file.WriteAsync(batch.WrittenMemory).ConfigureAwait(false);
            await file.FlushAsync().ConfigureAwait(false);
        }
        else
        {
            Console.Out.Write(Encoding.UTF8.GetString(batch.WrittenSpan));
            Console.Out.Flush();
        }

        batch.ResetWrittenCount();
    }

    private static partial class Log
    {
        [LoggerMessage(400, LogLevel.Error, "Writing the audit log failed: {Problem}", EventName = "AuditWriteFailed")]
        public static partial void AuditWriteFailed(ILogger logger, string problem);
    }
}
