using System.Threading.RateLimiting;
using Amazon.KeyManagementService;
using Amazon.Runtime;
using Amazon.SecurityToken;
using Amazon.SecurityToken.Model;

namespace Xks.Operator.Aws;

/// <summary>Identifies a session: which account object, which spec generation, which Secret version, which region.</summary>
internal readonly record struct AwsSessionKey(string Account, long Generation, string SecretVersion, string Region);

/// <summary>
/// KMS and STS clients of one CspAccount in one region, with the account's credentials (assumed role included).
/// Every call goes through <see cref="CallAsync{T}"/> / <see cref="CallStsAsync{T}"/>: first a token from the
/// account's client-side bucket (waiting, not failing), then the call with the SDK's standard retry mode; each call
/// is counted in <see cref="AwsMetrics"/> and logged at Debug (operation, duration, outcome, AWS request id).
/// Obtained from <see cref="AwsClients.ForAccountAsync(AwsAccount, string?, CancellationToken)"/>; do not keep it across reconciles (a changed spec or
/// Secret gives a new session, and the old one is disposed after a grace period).
/// </summary>
public sealed partial class AwsSession : IDisposable
{
    private readonly RateLimiter _limiter;
    private readonly AwsMetrics _metrics;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly IDisposable[] _owned;
    private int _disposed;

    internal AwsSession(
        AwsSessionKey key,
        IAmazonKeyManagementService kms,
        IAmazonSecurityTokenService sts,
        RateLimiter limiter,
        AwsMetrics metrics,
        TimeProvider timeProvider,
        ILogger logger,
        params IDisposable[] owned)
    {
        Key = key;
        Kms = kms;
        Sts = sts;
        _limiter = limiter;
        _metrics = metrics;
        _timeProvider = timeProvider;
        _logger = logger;
        _owned = owned;
    }

    public string Region => Key.Region;

    public IAmazonKeyManagementService Kms { get; }

    /// <summary>STS with the same credentials and endpoint (GetCallerIdentity verifies an account).</summary>
    public IAmazonSecurityTokenService Sts { get; }

    internal AwsSessionKey Key { get; }

    /// <summary>Clients signed with given long-term keys (IAM, and STS to verify a key): set for accounts whose Secret holds long-term keys.</summary>
    internal AwsKeyClients? KeyClients { get; init; }

    internal bool IsDisposed => Volatile.Read(ref _disposed) == 1;

    /// <summary>A KMS call, rate-limited, measured and logged. <paramref name="operation"/> is the API name, e.g. CreateKey.</summary>
    public Task<T> CallAsync<T>(string operation, Func<IAmazonKeyManagementService, CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(call);
        return InvokeAsync("kms", operation, token => call(Kms, token), cancellationToken);
    }

    /// <summary>An STS call, rate-limited, measured and logged like <see cref="CallAsync{T}"/>.</summary>
    public Task<T> CallStsAsync<T>(string operation, Func<IAmazonSecurityTokenService, CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(call);
        return InvokeAsync("sts", operation, token => call(Sts, token), cancellationToken);
    }

    /// <summary>An IAM call (<see cref="IamClient"/>), rate-limited, measured and logged like <see cref="CallAsync{T}"/>.</summary>
    public Task<T> CallIamAsync<T>(string operation, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(call);
        return InvokeAsync("iam", operation, call, cancellationToken);
    }

    /// <summary>IAM signed with <paramref name="keys"/> (the key in the Secret, or a new one), at the account's IAM endpoint.</summary>
    internal IamClient IamFor(AwsSecretKeys keys) =>
        (KeyClients ?? throw new InvalidOperationException("this session has no long-term keys")).Iam(keys);

    /// <summary>sts:GetCallerIdentity signed with <paramref name="keys"/> themselves (not the assumed role): whose keys they are.</summary>
    internal async Task<GetCallerIdentityResponse> IdentityOfAsync(AwsSecretKeys keys, CancellationToken cancellationToken)
    {
        using var sts = (KeyClients ?? throw new InvalidOperationException("this session has no long-term keys")).Sts(keys);
        return await InvokeAsync("sts", "GetCallerIdentity", token => sts.GetCallerIdentityAsync(new GetCallerIdentityRequest(), token), cancellationToken).ConfigureAwait(false);
    }

    private async Task<T> InvokeAsync<T>(string service, string operation, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(operation);
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        var waitStarted = _timeProvider.GetTimestamp();
        using var lease = await _limiter.AcquireAsync(1, cancellationToken).ConfigureAwait(false);
        var waited = _timeProvider.GetElapsedTime(waitStarted);
        _metrics.RecordWait(service, waited);
        if (!lease.IsAcquired)
        {
            _metrics.RecordCall(service, operation, Controllers.Reasons.Throttled, TimeSpan.Zero);
            throw new AwsAccountException(Controllers.Reasons.Throttled, $"client-side rate limit of the account in {Region}: too many calls waiting; retrying later");
        }

        if (waited >= TimeSpan.FromMilliseconds(500))
        {
            Log.RateLimited(_logger, service, operation, waited);
        }

        var started = _timeProvider.GetTimestamp();
        try
        {
            var result = await call(cancellationToken).ConfigureAwait(false);
            var elapsed = _timeProvider.GetElapsedTime(started);
            _metrics.RecordCall(service, operation, AwsMetrics.Success, elapsed);
            Log.Call(_logger, service, operation, elapsed, AwsMetrics.Success, (result as AmazonWebServiceResponse)?.ResponseMetadata?.RequestId ?? "-");
            return result;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            var elapsed = _timeProvider.GetElapsedTime(started);
            _metrics.RecordCall(service, operation, "Cancelled", elapsed);
            Log.Call(_logger, service, operation, elapsed, "Cancelled", "-");
            throw;
        }
        catch (Exception ex)
        {
            var elapsed = _timeProvider.GetElapsedTime(started);
            var (reason, message) = AwsErrors.Describe(ex);
            _metrics.RecordCall(service, operation, reason, elapsed);
            Log.CallFailed(_logger, service, operation, elapsed, reason, (ex as AmazonServiceException)?.RequestId ?? "-", message);
            throw;
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        Kms.Dispose();
        Sts.Dispose();
        foreach (var owned in _owned)
        {
            owned.Dispose();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(4000, LogLevel.Debug, "AWS {Service} {Operation}: {Outcome} in {Elapsed} (request id {RequestId})", EventName = "AwsCall")]
        public static partial void Call(ILogger logger, string service, string operation, TimeSpan elapsed, string outcome, string requestId);

        [LoggerMessage(4001, LogLevel.Debug, "AWS {Service} {Operation}: {Outcome} in {Elapsed} (request id {RequestId}): {Message}", EventName = "AwsCallFailed")]
        public static partial void CallFailed(ILogger logger, string service, string operation, TimeSpan elapsed, string outcome, string requestId, string message);

        [LoggerMessage(4002, LogLevel.Debug, "AWS {Service} {Operation} waited {Waited} for the client-side rate limit", EventName = "AwsRateLimited")]
        public static partial void RateLimited(ILogger logger, string service, string operation, TimeSpan waited);
    }
}
