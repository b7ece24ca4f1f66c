namespace Xks.Operator.Aws;

/// <summary>How the operator talks to AWS: client-side rate limit, SDK retries and timeouts, assumed-role sessions.</summary>
public sealed record AwsClientOptions
{
    /// <summary>Sustained calls per second per CspAccount and region (all sessions of the account share the bucket).</summary>
    public double RequestsPerSecond { get; init; } = 10;

    /// <summary>Calls that may go at once after a quiet period (the bucket's size).</summary>
    public int Burst { get; init; } = 20;

    /// <summary>Calls that may wait for a token; beyond that a call fails with reason Throttled instead of queueing.</summary>
    public int QueueLimit { get; init; } = 1000;

    /// <summary>Retries of the SDK's standard retry mode (throttling and transient errors, with jittered backoff).</summary>
    public int MaxErrorRetry { get; init; } = 3;

    /// <summary>Timeout of one HTTP attempt.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Timeout of establishing a connection.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Lifetime asked for an assumed-role session.</summary>
    public TimeSpan AssumeRoleDuration { get; init; } = TimeSpan.FromHours(1);

    /// <summary>
    /// Assumed-role credentials are renewed in the background this long before the SDK considers them expired (it
    /// does so 1 minute before their real expiry); a call never waits for a renewal unless they did expire.
    /// </summary>
    public TimeSpan RefreshBeforeExpiry { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Which identities, roles and endpoints a CspAccount may use (the operator's flags).</summary>
    public AwsIdentityPolicy Identity { get; init; } = new();

    /// <summary>
    /// Access-key rotation: how long the previous key stays active after the Secret holds the new one, so the
    /// informer sees the new Secret and sessions still signing with the old key wind down (longer than
    /// <see cref="RetiredSessionGrace"/>).
    /// </summary>
    public TimeSpan AccessKeySettle { get; init; } = TimeSpan.FromMinutes(3);

    /// <summary>Access-key rotation: how long a new key may be refused (IAM is eventually consistent) before the rotation gives up on it.</summary>
    public TimeSpan NewKeyPropagation { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>A session replaced by a newer one (spec or Secret changed) is disposed after this delay, so calls still using it can finish.</summary>
    public TimeSpan RetiredSessionGrace { get; init; } = TimeSpan.FromMinutes(2);
}
