using System.Text;
using Xks.KmsEmulator.Auth;
using Xks.KmsEmulator.Xks;

namespace Xks.KmsEmulator.Tests.Unit;

public sealed class SigV4Tests
{
    [Fact]
    public void Signature_AwsDocumentationExample_MatchesPublishedSignature()
    {
        // The IAM ListUsers example of the AWS SigV4 documentation ("Create a signed AWS API request").
        var headers = new List<KeyValuePair<string, string>>
        {
            new("content-type", "application/x-www-form-urlencoded; charset=utf-8"),
            new("host", "iam.amazonaws.com"),
            new("x-amz-date", "20150830T123600Z"),
        };
        var canonical = SigV4.CanonicalRequest("GET", "/", SigV4.CanonicalQueryString("Action=ListUsers&Version=2010-05-08"), headers, SigV4.HexSha256([]));
        Assert.Equal("f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59", SigV4.HexSha256(Encoding.UTF8.GetBytes(canonical)));
        var signature = SigV4.Signature("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20150830", "us-east-1", "iam",
            SigV4.StringToSign("20150830T123600Z", "20150830/us-east-1/iam/aws4_request", canonical));
        Assert.Equal("5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7", signature);
    }

    [Fact]
    public void XksSign_Request_SignsHostAndDateForKmsXksProxy()
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, "https://xks.example.test/team-a/kms/xks/v1/health");
        XksClient.Sign(message, "{}"u8.ToArray(), "EMULATORTESTACCESSKEY234", "secret-secret-secret-secret-secret-secret-42", "eu-west-1",
            new DateTimeOffset(2026, 11, 28, 19, 0, 0, TimeSpan.Zero));
        Assert.Equal("xks.example.test", message.Headers.Host);
        Assert.Equal("20261128T190000Z", message.Headers.GetValues("X-Amz-Date").Single());
        var authorization = message.Headers.GetValues("Authorization").Single();
        Assert.True(SigV4.TryParseAuthorization(authorization, out var parsed));
        Assert.Equal("EMULATORTESTACCESSKEY234", parsed.AccessKeyId);
        Assert.Equal("20261128/eu-west-1/kms-xks-proxy/aws4_request", parsed.Scope);
        Assert.Equal(["host", "x-amz-date"], parsed.SignedHeaders);
        Assert.Matches("^[0-9a-f]{64}$", parsed.Signature);
    }

    [Theory]
    [InlineData("AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/kms/aws4_request, SignedHeaders=host;x-amz-date, Signature=ab", true)]
    [InlineData("AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/kms, SignedHeaders=host, Signature=ab", false)]
    [InlineData("AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/kms/aws4_request, SignedHeaders=host", false)]
    [InlineData("Basic dXNlcjpwYXNz", false)]
    public void TryParseAuthorization_Header_AcceptsOnlyCompleteSigV4(string header, bool valid) =>
        Assert.Equal(valid, SigV4.TryParseAuthorization(header, out _));
}
