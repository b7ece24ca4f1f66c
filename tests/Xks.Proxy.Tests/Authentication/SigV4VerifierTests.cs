using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Time.Testing;
using Xks.Proxy.Errors;
using Xks.Proxy.Options;
using Xks.Proxy.Tests.Support;

namespace Xks.Proxy.Authentication.Tests;

public sealed class SigV4VerifierTests
{
    private const string Path = TestCredentials.Prefix + "/kms/xks/v1/keys/foo/encrypt";
    private static readonly byte[] Body = Encoding.UTF8.GetBytes("{\"requestMetadata\":{}}");

    private readonly ProxyConfiguration _configuration = Load(new ProxyConfigBuilder().Credential(TestCredentials.SecondAccessKeyId, TestCredentials.SecondSecret));

    private KeyStore Store => _configuration.KeyStores[0];

    [Fact]
    public void Verify_RequestSignedByTheAwsSdk_ReturnsTheSigningCredential()
    {
        var (headers, time) = SignWithSdk(TestCredentials.AccessKeyId, TestCredentials.Secret, Body);
        var credential = new SigV4Verifier(time).Verify("POST", Path, "", headers, Body, Store, _configuration);
        Assert.Equal(TestCredentials.AccessKeyId, credential.AccessKeyId);
    }

    [Fact]
    public void Verify_SecondCredentialOfTheKeyStore_IsAcceptedToo()
    {
        var (headers, time) = SignWithSdk(TestCredentials.SecondAccessKeyId, TestCredentials.SecondSecret, Body);
        var credential = new SigV4Verifier(time).Verify("POST", Path, "", headers, Body, Store, _configuration);
        Assert.Equal(TestCredentials.SecondAccessKeyId, credential.AccessKeyId);
    }

    public static TheoryData<string, Action<IHeaderDictionary>> TamperedRequests => new()
    {
        { "wrong signature", h => h.Authorization = h.Authorization.ToString()[..^4] + "0000" },
        { "no Authorization header", h => h.Remove("Authorization") },
        { "other algorithm", h => h.Authorization = h.Authorization.ToString().Replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512", StringComparison.Ordinal) },
        { "unknown access key id", h => h.Authorization = h.Authorization.ToString().Replace(TestCredentials.AccessKeyId, "AKIDUNKNOWNUNKNOWNUNKNOWN", StringComparison.Ordinal) },
        { "other service in scope", h => h.Authorization = h.Authorization.ToString().Replace("kms-xks-proxy", "kms", StringComparison.Ordinal) },
        { "other region in scope", h => h.Authorization = h.Authorization.ToString().Replace("us-east-1", "eu-west-1", StringComparison.Ordinal) },
        { "host not signed", h => h.Authorization = h.Authorization.ToString().Replace("host;", "", StringComparison.Ordinal) },
        { "host changed", h => h.Host = "evil.example.com" },
        { "date changed", h => h["X-Amz-Date"] = "20261128T120001Z" },
        { "no date", h => h.Remove("X-Amz-Date") },
    };

    [Theory]
    [MemberData(nameof(TamperedRequests))]
    public void Verify_TamperedRequest_FailsAuthenticationWithoutSayingWhy(string scenario, Action<IHeaderDictionary> tamper)
    {
        var (headers, time) = SignWithSdk(TestCredentials.AccessKeyId, TestCredentials.Secret, Body);
        tamper(headers);
        var ex = Assert.Throws<XksException>(() => new SigV4Verifier(time).Verify("POST", Path, "", headers, Body, Store, _configuration));
        Assert.True(ex.Name == XksErrorName.AuthenticationFailedException, $"{scenario}: {ex.Name}");
        Assert.Equal(XksException.AuthenticationFailed("").PublicMessage, ex.PublicMessage);
    }

    [Fact]
    public void Verify_BodyChangedAfterSigning_Fails()
    {
        var (headers, time) = SignWithSdk(TestCredentials.AccessKeyId, TestCredentials.Secret, Body);
        var changed = Encoding.UTF8.GetBytes("{\"requestMetadata\":{ }}");
        Assert.Throws<XksException>(() => new SigV4Verifier(time).Verify("POST", Path, "", headers, changed, Store, _configuration));
    }

    [Fact]
    public void Verify_PathChangedAfterSigning_Fails()
    {
        var (headers, time) = SignWithSdk(TestCredentials.AccessKeyId, TestCredentials.Secret, Body);
        Assert.Throws<XksException>(() => new SigV4Verifier(time).Verify("POST", Path.Replace("foo", "bar", StringComparison.Ordinal), "", headers, Body, Store, _configuration));
    }

    [Theory]
    [InlineData(-299, true)]
    [InlineData(299, true)]
    [InlineData(-301, false)]
    [InlineData(301, false)]
    public void Verify_ClockSkew_IsAcceptedWithinFiveMinutes(int skewSeconds, bool accepted)
    {
        var (headers, time) = SignWithSdk(TestCredentials.AccessKeyId, TestCredentials.Secret, Body);
        var verifier = new SigV4Verifier(new FakeTimeProvider(time.GetUtcNow().AddSeconds(skewSeconds)));
        if (accepted)
        {
            verifier.Verify("POST", Path, "", headers, Body, Store, _configuration);
        }
        else
        {
            Assert.Throws<XksException>(() => verifier.Verify("POST", Path, "", headers, Body, Store, _configuration));
        }
    }

    [Fact]
    public void Verify_AnyRegionConfigured_AcceptsOtherRegions()
    {
        var configuration = Load(new ProxyConfigBuilder { Regions = "[]" });
        var (headers, time) = SignWithSdk(TestCredentials.AccessKeyId, TestCredentials.Secret, Body, region: "ap-southeast-2");
        new SigV4Verifier(time).Verify("POST", Path, "", headers, Body, configuration.KeyStores[0], configuration);
    }

    [Fact]
    public void BuildCanonicalRequest_AwsTestSuiteGetVanilla_MatchesTheSuite()
    {
        // aws-sig-v4-test-suite "get-vanilla".
        var headers = new HeaderDictionary { ["Host"] = "example.amazonaws.com", ["X-Amz-Date"] = "20150830T123600Z" };
        var buffer = new AsciiBuffer(256);
        try
        {
            Assert.True(SigV4Verifier.BuildCanonicalRequest(ref buffer, "GET", "/", "", headers, "host;x-amz-date", []));
            Assert.Equal(
                "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                Encoding.ASCII.GetString(buffer.Written));
        }
        finally
        {
            buffer.Dispose();
        }
    }

    [Fact]
    public void BuildCanonicalRequest_HeaderValueWithRunsOfSpaces_IsTrimmedAndCollapsed()
    {
        // aws-sig-v4-test-suite "get-header-value-trim" (value part).
        var headers = new HeaderDictionary { ["Host"] = "h", ["My-Header1"] = " value1 ", ["My-Header2"] = "\"a   b   c\"", ["X-Amz-Date"] = "20150830T123600Z" };
        var buffer = new AsciiBuffer(256);
        try
        {
            SigV4Verifier.BuildCanonicalRequest(ref buffer, "POST", "/", "", headers, "host;my-header1;my-header2;x-amz-date", []);
            var text = Encoding.ASCII.GetString(buffer.Written);
            Assert.Contains("\nmy-header1:value1\nmy-header2:\"a b c\"\n", text, StringComparison.Ordinal);
        }
        finally
        {
            buffer.Dispose();
        }
    }

    [Fact]
    public void CanonicalQueryString_UnsortedEncodedQuery_IsSortedAndReencoded() =>
        Assert.Equal("a=1&b=x%20y&c=%2F", SigV4Verifier.CanonicalQueryString("c=%2f&b=x+y&a=1"));

    [Fact]
    public void Derive_AwsDocumentationExample_GivesTheDocumentedSigningKey()
    {
        // AWS General Reference, "Examples of how to derive a signing key for Signature Version 4".
        var key = SigningKeyCache.Derive(Encoding.ASCII.GetBytes("AWS4wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"), "20150830", "us-east-1", "iam");
        Assert.Equal("c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9", Convert.ToHexStringLower(key));
    }

    [Fact]
    public void SigningKeyCache_SameDayAndRegion_ReturnsTheCachedKeyThatDeriveGives()
    {
        var seed = "AWS4wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"u8.ToArray();
        var cache = new SigningKeyCache(seed);

        var first = cache.Get("20150830", "us-east-1", SigV4Verifier.Service);
        Assert.Same(first, cache.Get("20150830", "us-east-1", SigV4Verifier.Service));
        Assert.Equal(SigningKeyCache.Derive(seed, "20150830", "us-east-1", SigV4Verifier.Service), first);
        Assert.NotEqual(first, cache.Get("20150831", "us-east-1", SigV4Verifier.Service));
        Assert.NotEqual(first, cache.Get("20150830", "eu-west-1", SigV4Verifier.Service));
    }

    private static (IHeaderDictionary Headers, FakeTimeProvider Time) SignWithSdk(string accessKeyId, string secret, byte[] body, string region = TestCredentials.Region)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, new Uri("http://127.0.0.1:8443" + Path));
        AwsSdkSigner.Sign(message, body, accessKeyId, secret, region);
        IHeaderDictionary headers = new HeaderDictionary { ["Host"] = "127.0.0.1:8443", ["Content-Type"] = "application/json" };
        foreach (var (name, values) in message.Headers)
        {
            headers[name] = values.ToArray();
        }

        SigV4Verifier.TryParseAmzDate(headers["X-Amz-Date"], out var signedAt);
        return (headers, new FakeTimeProvider(signedAt));
    }

    private static ProxyConfiguration Load(ProxyConfigBuilder builder)
    {
        var result = ProxyConfigurationLoader.LoadText(builder.Key("foo").Build(8443, "/tmp/unused", "/tmp/unused.log"), "/tmp");
        Assert.True(result.Succeeded, string.Join("; ", result.Problems));
        return result.Configuration!;
    }
}
