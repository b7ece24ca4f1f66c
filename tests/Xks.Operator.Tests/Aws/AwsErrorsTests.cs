using System.Net;
using System.Net.Sockets;
using Amazon.KeyManagementService.Model;
using Amazon.Runtime;

namespace Xks.Operator.Aws.Tests;

public sealed class AwsErrorsTests
{
    public static TheoryData<string, string> Codes => new()
    {
        // Credentials AWS does not accept.
        { "UnrecognizedClientException", "InvalidCredentials" },
        { "InvalidClientTokenId", "InvalidCredentials" },
        { "InvalidSignatureException", "InvalidCredentials" },
        { "SignatureDoesNotMatch", "InvalidCredentials" },
        { "ExpiredToken", "InvalidCredentials" },
        { "ExpiredTokenException", "InvalidCredentials" },
        { "IncompleteSignature", "InvalidCredentials" },
        { "MissingAuthenticationToken", "InvalidCredentials" },
        // Credentials accepted, action refused.
        { "AccessDenied", "AccessDenied" },
        { "AccessDeniedException", "AccessDenied" },
        // Too fast.
        { "ThrottlingException", "Throttled" },
        { "Throttling", "Throttled" },
        { "LimitExceeded", "Throttled" },
        { "LimitExceededException", "Throttled" },
        // KMS service errors: the code without its Exception suffix.
        { "XksKeyNotFoundException", "XksKeyNotFound" },
        { "XksKeyInvalidConfigurationException", "XksKeyInvalidConfiguration" },
        { "CustomKeyStoreInvalidStateException", "CustomKeyStoreInvalidState" },
        { "KMSInvalidStateException", "KMSInvalidState" },
        { "NotFoundException", "NotFound" },
        { "KMSInternalException", "KMSInternal" },
        { "CustomKeyStoreNameInUseException", "CustomKeyStoreNameInUse" },
        // Odd shapes stay valid condition reasons.
        { "Sender.InvalidParameterValue", "InvalidParameterValue" },
        { "Weird-Code!", "WeirdCode" },
        { "Exception", "Exception" },
        { "123", "AwsError" },
    };

    [Theory]
    [MemberData(nameof(Codes))]
    public void Describe_ServiceErrorCode_MapsToReason(string code, string reason)
    {
        var error = new AmazonServiceException("refused", ErrorType.Sender, code, "req-1", HttpStatusCode.BadRequest);

        Assert.Equal(reason, AwsErrors.Describe(error).Reason);
        Assert.Equal(reason, AwsErrors.ReasonForCode(code));
    }

    [Fact]
    public void Describe_ModelledKmsException_UsesItsCodeAndMessage()
    {
        var error = new XksKeyNotFoundException("The external key store proxy rejected the request because it could not find the external key.")
        {
            ErrorCode = "XksKeyNotFoundException",
            StatusCode = HttpStatusCode.BadRequest,
            RequestId = "4112f4d6-db54-4af4-ae30-c55a22a8dfae",
        };

        var (reason, message) = AwsErrors.Describe(error);

        Assert.Equal("XksKeyNotFound", reason);
        Assert.Equal("XksKeyNotFoundException: The external key store proxy rejected the request because it could not find the external key.", message);
        Assert.DoesNotContain("4112f4d6", message, StringComparison.Ordinal); // stable across retries
    }

    [Fact]
    public void Describe_ConnectionRefused_IsEndpointUnreachable()
    {
        var refused = new HttpRequestException("Connection refused (127.0.0.1:1)", new SocketException((int)SocketError.ConnectionRefused));

        var (reason, message) = AwsErrors.Describe(new AmazonClientException("request failed", refused));

        Assert.Equal("EndpointUnreachable", reason);
        Assert.Contains("Connection refused (127.0.0.1:1)", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("socket")]
    [InlineData("timeout")]
    [InlineData("cancelled")]
    public void Describe_NetworkFailures_AreEndpointUnreachable(string kind)
    {
        Exception error = kind switch
        {
            "socket" => new SocketException((int)SocketError.HostNotFound),
            "timeout" => new TimeoutException("The operation has timed out."),
            _ => new TaskCanceledException("The request was canceled due to the configured HttpClient.Timeout", new TimeoutException()),
        };

        Assert.Equal("EndpointUnreachable", AwsErrors.Describe(error).Reason);
    }

    [Fact]
    public void Describe_AccountException_KeepsReasonAndMessage()
    {
        var error = new AwsAccountException("CredentialsSecretNotFound", "Secret team-a/aws (spec.credentials.secretRef) does not exist");

        Assert.Equal(("CredentialsSecretNotFound", "Secret team-a/aws (spec.credentials.secretRef) does not exist"), AwsErrors.Describe(error));
    }

    [Fact]
    public void Describe_AccountExceptionWrappedBySdk_IsFoundInside()
    {
        var inner = new AwsAccountException("AccessDenied", "sts:AssumeRole of arn:aws:iam::111122223333:role/x failed: AccessDenied: not allowed");

        Assert.Equal("AccessDenied", AwsErrors.Describe(new AmazonClientException("Error calling AssumeRole", inner)).Reason);
    }

    [Fact]
    public void Describe_ServiceMessageEchoingSecrets_RedactsThem()
    {
        const string secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
        var token = "IQoJb3JpZ2luX2VjEJr" + new string('A', 200) + "/Zw==";
        var error = new AmazonServiceException($"The request signature we calculated does not match. Key: {secret} Token: {token}", ErrorType.Sender, "SignatureDoesNotMatch", "r", HttpStatusCode.Forbidden);

        var (reason, message) = AwsErrors.Describe(error);

        Assert.Equal("InvalidCredentials", reason);
        Assert.DoesNotContain(secret, message, StringComparison.Ordinal);
        Assert.DoesNotContain("IQoJb3JpZ2luX2VjEJr", message, StringComparison.Ordinal);
        Assert.Contains("[redacted]", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Describe_LongMultilineMessage_IsOneShortLine()
    {
        var error = new AmazonServiceException("first line\n" + string.Join(" ", Enumerable.Repeat("canonical-request-part", 100)), ErrorType.Sender, "SignatureDoesNotMatch", "r", HttpStatusCode.Forbidden);

        var message = AwsErrors.Describe(error).Message;

        Assert.True(message.Length <= AwsErrors.MaxMessageLength, message);
        Assert.DoesNotContain('\n', message);
        Assert.EndsWith("...", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("arn:aws:iam::111122223333:role/xks-operator")]
    [InlineData("AKIAIOSFODNN7EXAMPLE")]
    [InlineData("User: arn:aws:sts::111122223333:assumed-role/xks/xks-operator is not authorized to perform: kms:CreateKey")]
    [InlineData("1234abcd-12ab-34cd-56ef-1234567890ab")]
    public void Scrub_IdentifiersAndArns_StayReadable(string text) =>
        Assert.Equal(text, AwsErrors.Scrub(text));

    [Theory]
    [InlineData("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")]
    [InlineData("secret=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY;")]
    public void Scrub_SecretAccessKey_IsRedacted(string text) =>
        Assert.DoesNotContain("wJalrXUtnFEMI", AwsErrors.Scrub(text), StringComparison.Ordinal);
}
