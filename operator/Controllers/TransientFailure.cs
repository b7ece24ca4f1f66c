using Amazon.Runtime;
using Xks.Operator.Aws;
using Xks.Operator.Hsm;

namespace Xks.Operator.Controllers;

/// <summary>
/// A failure the AWS reconcilers report (Ready=False with <see cref="Reason"/>, a Warning Event) and retry after a
/// bounded pause rather than the runtime's growing backoff: the SDK has already retried, and an outage of AWS, the
/// HSM or a CspAccount must not push the next attempt out by minutes. Anything else is a bug or an API failure and
/// goes to the runtime's backoff.
/// </summary>
public sealed record TransientFailure(string Reason, string Message, TimeSpan RetryAfter)
{
    public static readonly TimeSpan ConflictRetry = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan AccountRetry = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan HsmRetry = TimeSpan.FromSeconds(15);
    public static readonly TimeSpan AwsRetry = TimeSpan.FromSeconds(10);

    /// <summary>The failure <paramref name="exception"/> stands for, or null when it is not a transient one.</summary>
    /// <param name="exception">What the reconcile threw.</param>
    /// <param name="account">How messages name the CspAccount in use, e.g. "CspAccount aws-prod".</param>
    /// <param name="stopping">The operator is stopping: a cancelled call is then no failure.</param>
    public static TransientFailure? Classify(Exception exception, string account, bool stopping)
    {
        ArgumentNullException.ThrowIfNull(exception);
        switch (exception)
        {
            case ChildConflictException conflict:
                return new(Reasons.Conflict, conflict.Message, ConflictRetry);
            case AwsAccountException accountFailure:
                return new(accountFailure.Reason, $"cannot use {account}: {accountFailure.Message}", AccountRetry);
            case HsmException hsm:
                return new(hsm.Reason, $"cannot generate the key material in the Vault's HSM, retrying in {HsmRetry.TotalSeconds:0} s: {hsm.Message}", HsmRetry);
            case AmazonServiceException or AmazonClientException or HttpRequestException or TaskCanceledException when !stopping:
                var (reason, message) = AwsErrors.Describe(exception);
                return new(reason, $"AWS KMS call failed, retrying in {AwsRetry.TotalSeconds:0} s: {message}", AwsRetry);
            default:
                return null;
        }
    }
}
