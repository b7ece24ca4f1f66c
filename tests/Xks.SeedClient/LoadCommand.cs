using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using Amazon.KeyManagementService;
using Amazon.KeyManagementService.Model;

namespace Xks.SeedClient;

/// <summary>
/// <c>xks-seed-client load</c>: a steady GenerateDataKey + Decrypt load against KMS (the emulator, which calls the XKS
/// proxy for each), bounded in count and time: <c>--rate</c> pairs per second for <c>--seconds</c>, at most
/// <c>--max-in-flight</c> pairs at once (one request of a pair is in flight at a time). No retries: every failure
/// counts; a pair whose GenerateDataKey failed sends no Decrypt. A line per second on stdout; the summary
/// (sent, failed, each failure's time and error) as JSON in <c>--out</c> when the time is up or <c>--stop-file</c>
/// appears.
/// </summary>
internal sealed class LoadCommand(IAmazonKeyManagementService kms, string keyId, double ratePerSecond, TimeSpan duration, int maxInFlight, string? stopFile)
{
    private readonly ConcurrentQueue<LoadFailure> _failures = new();
    private long _pairs;
    private long _requests;
    private long _succeeded;
    private long _inFlight;
    private long _maxInFlight;

    public async Task<LoadSummary> RunAsync(CancellationToken cancellationToken)
    {
        using var gate = new SemaphoreSlim(maxInFlight);
        var clock = Stopwatch.StartNew();
        var tasks = new List<Task>();
        var interval = TimeSpan.FromSeconds(1 / ratePerSecond);
        var nextReport = TimeSpan.FromSeconds(1);
        for (long i = 0; clock.Elapsed < duration && !cancellationToken.IsCancellationRequested; i++)
        {
            if (stopFile is not null && File.Exists(stopFile))
            {
                break;
            }

            var due = interval * i;
            var wait = due - clock.Elapsed;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
            }

            if (clock.Elapsed >= nextReport)
            {
                Report(clock.Elapsed);
                nextReport += TimeSpan.FromSeconds(1);
            }

            await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            Interlocked.Increment(ref _pairs);
            var inFlight = Interlocked.Increment(ref _inFlight);
            if (inFlight > Interlocked.Read(ref _maxInFlight))
            {
                Interlocked.Exchange(ref _maxInFlight, inFlight);
            }

            tasks.Add(PairAsync(clock, gate, cancellationToken));
            tasks.RemoveAll(t => t.IsCompleted);
        }

        await Task.WhenAll(tasks).ConfigureAwait(false);
        Report(clock.Elapsed);
        var failures = _failures.OrderBy(f => f.AtMilliseconds).ToList();
        var requests = Interlocked.Read(ref _requests);
        return new LoadSummary(
            requests,
            Interlocked.Read(ref _succeeded),
            failures.Count,
            Interlocked.Read(ref _maxInFlight),
            Math.Round(clock.Elapsed.TotalSeconds, 3),
            Math.Round(requests / clock.Elapsed.TotalSeconds, 1),
            failures);
    }

    private void Report(TimeSpan elapsed) =>
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"t={elapsed.TotalSeconds:F0}s requests={Interlocked.Read(ref _requests)} ok={Interlocked.Read(ref _succeeded)} failed={_failures.Count} in-flight={Interlocked.Read(ref _inFlight)}"));

    private async Task PairAsync(Stopwatch clock, SemaphoreSlim gate, CancellationToken cancellationToken)
    {
        try
        {
            var context = new Dictionary<string, string>(StringComparer.Ordinal) { ["load"] = "pods" };
            GenerateDataKeyResponse dataKey;
            try
            {
                Interlocked.Increment(ref _requests);
                dataKey = await kms.GenerateDataKeyAsync(
                    new GenerateDataKeyRequest { KeyId = keyId, KeySpec = DataKeySpec.AES_256, EncryptionContext = context },
                    cancellationToken).ConfigureAwait(false);
                Interlocked.Increment(ref _succeeded);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                Fail(clock, "GenerateDataKey", ex);
                return;
            }

            var expected = dataKey.Plaintext.ToArray();
            try
            {
                Interlocked.Increment(ref _requests);
                var opened = await kms.DecryptAsync(
                    new DecryptRequest { CiphertextBlob = dataKey.CiphertextBlob, EncryptionContext = context },
                    cancellationToken).ConfigureAwait(false);
                if (CryptographicOperations.FixedTimeEquals(opened.Plaintext.ToArray(), expected))
                {
                    Interlocked.Increment(ref _succeeded);
                }
                else
                {
                    Fail(clock, "Decrypt", new InvalidDataException("the data key decrypted to different bytes"));
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                Fail(clock, "Decrypt", ex);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(expected);
            }
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
            gate.Release();
        }
    }

    private void Fail(Stopwatch clock, string operation, Exception ex)
    {
        var error = ex is AmazonKeyManagementServiceException kmsError ? kmsError.ErrorCode ?? ex.GetType().Name : ex.GetType().Name;
        _failures.Enqueue(new LoadFailure((long)clock.Elapsed.TotalMilliseconds, operation, error, ex.Message));
    }
}

internal sealed record LoadFailure(
    [property: JsonPropertyName("atMilliseconds")] long AtMilliseconds,
    [property: JsonPropertyName("operation")] string Operation,
    [property: JsonPropertyName("error")] string Error,
    [property: JsonPropertyName("message")] string Message);

internal sealed record LoadSummary(
    [property: JsonPropertyName("requests")] long Requests,
    [property: JsonPropertyName("succeeded")] long Succeeded,
    [property: JsonPropertyName("failed")] int Failed,
    [property: JsonPropertyName("maxPairsInFlight")] long MaxPairsInFlight,
    [property: JsonPropertyName("seconds")] double Seconds,
    [property: JsonPropertyName("requestsPerSecond")] double RequestsPerSecond,
    [property: JsonPropertyName("failures")] IReadOnlyList<LoadFailure> Failures)
{
    private static readonly JsonSerializerOptions Options = new() { WriteIndented = true };

    public string ToJson() => JsonSerializer.Serialize(this, Options);
}
