using System.Net;
using Amazon.KeyManagementService.Model;
using Amazon.Runtime;
using Xks.Operator.Aws;
using Xks.Operator.Hsm;

namespace Xks.Operator.Controllers.Tests;

public class TransientFailureTests
{
    public static TheoryData<string, Exception, bool, string?, string?, double?> Cases => new()
    {
        { "a child owned by someone else waits 30 s as a Conflict", new ChildConflictException("Secret x belongs to another KeySet"), false, Reasons.Conflict, "Secret x belongs to another KeySet", 30 },
        { "an unusable CspAccount names the account and its reason", new AwsAccountException("CredentialsSecretNotFound", "Secret creds is missing"), false, "CredentialsSecretNotFound", "cannot use CspAccount prod: Secret creds is missing", 10 },
        { "an HSM outage retries in 15 s", new HsmException(HsmException.HsmUnavailable, "token xks not present"), false, HsmException.HsmUnavailable, "cannot generate the key material in the Vault's HSM, retrying in 15 s: token xks not present", 15 },
        { "a KMS error keeps its error code as the reason", new KMSInvalidStateException("key pending deletion") { ErrorCode = "KMSInvalidStateException", StatusCode = HttpStatusCode.BadRequest }, false, null, "AWS KMS call failed, retrying in 10 s:", 10 },
        { "a network failure is transient", new HttpRequestException("connection refused"), false, null, "AWS KMS call failed, retrying in 10 s:", 10 },
        { "an SDK client failure is transient", new AmazonClientException("no response"), false, null, "AWS KMS call failed, retrying in 10 s:", 10 },
        { "a timeout is transient while running", new TaskCanceledException("timed out"), false, null, "AWS KMS call failed, retrying in 10 s:", 10 },
        { "a cancellation while stopping is no failure", new TaskCanceledException("stopping"), true, null, null, null },
        { "a bug goes to the runtime's backoff", new InvalidOperationException("bug"), false, null, null, null },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Classify_Exception_DecidesReasonMessageAndPause(string scenario, Exception exception, bool stopping, string? reason, string? messageStart, double? retrySeconds)
    {
        var failure = TransientFailure.Classify(exception, "CspAccount prod", stopping);

        if (retrySeconds is null)
        {
            Assert.True(failure is null, $"{scenario}: classified as {failure}");
            return;
        }

        Assert.NotNull(failure);
        Assert.Equal(TimeSpan.FromSeconds(retrySeconds.Value), failure.RetryAfter);
        Assert.StartsWith(messageStart!, failure.Message, StringComparison.Ordinal);
        Assert.Equal(reason ?? AwsErrors.Describe(exception).Reason, failure.Reason);
        Assert.False(string.IsNullOrEmpty(failure.Reason), scenario);
    }
}
