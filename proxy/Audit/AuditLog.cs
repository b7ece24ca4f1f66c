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

        Stream output = string.IsNullOrEmpty(_options.File)
            ? Console.OpenStandardOutput()
            : new FileStream(_options.File, FileMode.Append, FileAccess.Write, FileShare.Read);
        await using (output.ConfigureAwait(false))
        {
            var buffer = new BufferedStream(output, 64 * 1024);
            await using (buffer.ConfigureAwait(false))
            {
                using var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
                var reader = _channel.Reader;
                try
                {
                    while (await reader.WaitToReadAsync(stoppingToken).ConfigureAwait(false))
                    {
                        await DrainAsync(reader, writer, buffer).ConfigureAwait(false);
                    }
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    // Shutting down: write what is queued.
                }

                await DrainAsync(reader, writer, buffer).ConfigureAwait(false);
            }
        }
    }

    private async Task DrainAsync(ChannelReader<AuditRecord> reader, Utf8JsonWriter writer, Stream buffer)
    {
        try
        {
            while (reader.TryRead(out var record))
            {
                JsonSerializer.Serialize(writer, record, XksJsonContext.Default.AuditRecord);
                writer.Flush();
                writer.Reset();
                buffer.WriteByte((byte)'\n');
            }

            await buffer.FlushAsync().ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            Log.AuditWriteFailed(_logger, ex.Message);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(400, LogLevel.Error, "Writing the audit log failed: {Problem}", EventName = "AuditWriteFailed")]
        public static partial void AuditWriteFailed(ILogger logger, string problem);
    }
}
