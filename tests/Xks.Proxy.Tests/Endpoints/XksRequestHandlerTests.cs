using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using Xks.Proxy.Tests.Support;
using Xks.Testing;

namespace Xks.Proxy.Endpoints.Tests;

public sealed class XksRequestHandlerTests : ProxyTestBase
{
    protected override void Configure(ProxyConfigBuilder builder)
    {
        builder.Key("foo");
        builder.MetricsPort = TestPorts.GetFree();
    }

    [Theory]
    [InlineData("/other/prefix/kms/xks/v1/health")]
    [InlineData("/test/prefix/kms/xks/v1/keys/foo/sign")]
    [InlineData("/test/prefix/kms/xks/v2/health")]
    [InlineData("/test/prefix/kms/xks/v1/keys/fo%20o/encrypt")]
    [InlineData("/test/prefix/kms/xks/v1/keys//encrypt")]
    [InlineData("/")]
    [InlineData("/test/prefix/kms/xks/v1/health/extra")]
    [InlineData("/kms/xks/v1/health")]
    public async Task Post_PathThatIsNotAnXksRoute_ReturnsInvalidUriPath(string path)
    {
        var response = await Client.SendRawAsync(HttpMethod.Post, path, Encoding.UTF8.GetBytes("{}"));
        Assert.Equal(HttpStatusCode.NotFound, response.Status);
        Assert.Equal("InvalidUriPathException", response.ErrorName);
    }

    [Theory]
    [InlineData("health")]
    [InlineData("keys/foo/metadata")]
    [InlineData("keys/foo/encrypt")]
    [InlineData("keys/foo/decrypt")]
    public async Task Get_OnEachXksRoute_ReturnsMethodNotAllowed(string route)
    {
        using var http = new HttpClient();
        using var response = await http.GetAsync(new Uri(Server.BaseAddress, $"{TestCredentials.Prefix}/kms/xks/v1/{route}"));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Contains("POST", response.Content.Headers.Allow);
    }

    [Fact]
    public async Task Post_NonJsonBody_ReturnsValidationException()
    {
        var response = await Client.SendRawAsync(HttpMethod.Post, $"{TestCredentials.Prefix}/kms/xks/v1/keys/foo/encrypt", Encoding.UTF8.GetBytes("plaintext=abc"));
        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal("ValidationException", response.ErrorName);
    }

    [Fact]
    public async Task Post_DuplicateJsonProperty_ReturnsValidationException()
    {
        var body = "{\"requestMetadata\":{\"kmsRequestId\":\"1\",\"kmsOperation\":\"KmsHealthCheck\"},\"requestMetadata\":{}}";
        var response = await Client.SendRawAsync(HttpMethod.Post, $"{TestCredentials.Prefix}/kms/xks/v1/health", Encoding.UTF8.GetBytes(body));
        Assert.Equal("ValidationException", response.ErrorName);
    }

    [Fact]
    public async Task Post_TextPlainContentType_ReturnsValidationException()
    {
        var body = new JsonObject { ["requestMetadata"] = new JsonObject { ["kmsRequestId"] = "1", ["kmsOperation"] = "KmsHealthCheck" } };
        var response = await Client.SendRawAsync(HttpMethod.Post, $"{TestCredentials.Prefix}/kms/xks/v1/health", Encoding.UTF8.GetBytes(body.ToJsonString()), contentType: "text/plain");
        Assert.Equal("ValidationException", response.ErrorName);
    }

    [Fact]
    public async Task Post_WrongSecret_ReturnsAuthenticationFailedWithAGenericMessage()
    {
        Client.Secret = TestCredentials.SecondSecret;
        var response = await Client.MetadataAsync("foo", XksClient.Metadata("CreateKey", requestId: "bad-secret-7"));
        Assert.Equal(HttpStatusCode.Unauthorized, response.Status);
        Assert.Equal("AuthenticationFailedException", response.ErrorName);
        Assert.DoesNotContain("mismatch", response.Body, StringComparison.OrdinalIgnoreCase);
        Assert.Contains(Server.Logs.Lines, l => l.Contains("signature mismatch", StringComparison.Ordinal) && l.Contains("bad-secret-7", StringComparison.Ordinal));
        Assert.Contains(await Server.WaitForAuditAsync("bad-secret-7"), l => l.Contains("\"outcome\":\"AuthenticationFailedException\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Post_Unsigned_ReturnsAuthenticationFailed()
    {
        var response = await Client.SendRawAsync(HttpMethod.Post, $"{TestCredentials.Prefix}/kms/xks/v1/health", Encoding.UTF8.GetBytes("{}"), sign: false);
        Assert.Equal("AuthenticationFailedException", response.ErrorName);
    }

    [Fact]
    public async Task Post_BodyLargerThanTheLimit_ReturnsUnsupportedOperation()
    {
        var response = await Client.SendRawAsync(HttpMethod.Post, $"{TestCredentials.Prefix}/kms/xks/v1/keys/foo/encrypt", new byte[200_000]);
        Assert.Equal(HttpStatusCode.NotImplemented, response.Status);
        Assert.Equal("UnsupportedOperationException", response.ErrorName);
    }

    [Fact]
    public async Task Health_ReturnsEveryFieldTheSpecRequires()
    {
        var response = await Client.HealthAsync("CreateCustomKeyStore");
        Assert.Equal(HttpStatusCode.OK, response.Status);
        var json = response.Json!;
        Assert.Equal(2, json["xksProxyFleetSize"]!.GetValue<int>());
        Assert.False(string.IsNullOrEmpty(json["xksProxyVendor"]!.GetValue<string>()));
        Assert.Matches(@"\d+\.\d+\.\d+", json["xksProxyModel"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(json["ekmVendor"]!.GetValue<string>()));
        var fleet = json["ekmFleetDetails"]!.AsArray();
        Assert.InRange(fleet.Count, 1, 10);
        Assert.All(fleet, member =>
        {
            Assert.False(string.IsNullOrEmpty(member!["id"]!.GetValue<string>()));
            Assert.False(string.IsNullOrEmpty(member["model"]!.GetValue<string>()));
            Assert.Equal("ACTIVE", member["healthStatus"]!.GetValue<string>());
        });
    }

    [Fact]
    public async Task Health_WithoutRequestMetadata_ReturnsValidationException() =>
        Assert.Equal("ValidationException", (await Client.PostAsync("health", new JsonObject())).ErrorName);

    [Fact]
    public async Task Responses_AreCompactJson()
    {
        var response = await Client.HealthAsync();
        Assert.DoesNotContain("\n", response.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("\": ", response.Body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/ping", "pong")]
    [InlineData("/healthz", "ok")]
    [InlineData("/readyz", "ready")]
    public async Task Probe_UnauthenticatedGet_Answers200(string path, string text)
    {
        using var http = new HttpClient();
        var body = await http.GetStringAsync(new Uri(Server.BaseAddress, path));
        Assert.StartsWith(text, body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_OnTheirOwnPort_CountRequestsByOperationAndOutcome()
    {
        await Client.EncryptAsync("foo", RandomNumberGenerator.GetBytes(8));
        await Client.EncryptAsync("missing", RandomNumberGenerator.GetBytes(8));
        using var http = new HttpClient();
        var text = await http.GetStringAsync(new Uri($"http://127.0.0.1:{Server.Builder.MetricsPort}/metrics"));

        Assert.Matches("xks_requests_total\\{operation=\"Encrypt\",outcome=\"Success\"\\} [1-9]", text);
        Assert.Matches("xks_requests_total\\{operation=\"Encrypt\",outcome=\"KeyNotFoundException\"\\} [1-9]", text);
        Assert.Contains("xks_request_duration_seconds_bucket{operation=\"Encrypt\"", text, StringComparison.Ordinal);
        Assert.Contains("xks_health_ekm_members{status=\"ACTIVE\"} 1", text, StringComparison.Ordinal);
        // The Encrypt ran under a sub-key this process derived; no key version is used directly in software.
        Assert.Matches("xks_key_subkeys_derived_total [1-9]", text);
        Assert.Contains("xks_key_versions_used_directly 0", text, StringComparison.Ordinal);

        using var onApiPort = await http.GetAsync(new Uri(Server.BaseAddress, "/metrics"));
        Assert.Equal(HttpStatusCode.NotFound, onApiPort.StatusCode);
    }

    [Fact]
    public async Task Audit_OneJsonLinePerRequest_WithMetadataOutcomeAndLatency()
    {
        var metadata = XksClient.Metadata("Encrypt", requestId: "audit-me-42");
        metadata["kmsViaService"] = "ebs";
        metadata["awsSourceVpc"] = "vpc-123";
        await Client.EncryptAsync("foo", RandomNumberGenerator.GetBytes(8), metadata: metadata);

        var line = Assert.Single(await Server.WaitForAuditAsync("audit-me-42"), l => l.Contains("audit-me-42", StringComparison.Ordinal));
        var json = JsonNode.Parse(line)!;
        Assert.Equal("xks-audit", json["log"]!.GetValue<string>());
        Assert.Equal("Encrypt", json["operation"]!.GetValue<string>());
        Assert.Equal(TestCredentials.Principal, json["awsPrincipalArn"]!.GetValue<string>());
        Assert.Equal(TestCredentials.KeyArn, json["kmsKeyArn"]!.GetValue<string>());
        Assert.Equal("ebs", json["kmsViaService"]!.GetValue<string>());
        Assert.Equal("vpc-123", json["awsSourceVpc"]!.GetValue<string>());
        Assert.Equal("test", json["keyStore"]!.GetValue<string>());
        Assert.Equal("foo", json["keyId"]!.GetValue<string>());
        Assert.Equal(1, json["keyVersion"]!.GetValue<int>());
        Assert.Equal("Success", json["outcome"]!.GetValue<string>());
        Assert.True(json["latencyMs"]!.GetValue<double>() > 0);
        Assert.True(DateTimeOffset.UtcNow - json["time"]!.GetValue<DateTimeOffset>() < TimeSpan.FromMinutes(1));
    }

    [Fact]
    public async Task ErrorMessages_ArePrintableAsciiUnder512Characters()
    {
        var responses = new[]
        {
            await Client.EncryptAsync("missing", [1]),
            await Client.PostAsync("keys/foo/encrypt", new JsonObject()),
            await Client.SendRawAsync(HttpMethod.Post, "/nope", []),
        };
        Assert.All(responses, r =>
        {
            var message = r["errorMessage"]!;
            Assert.InRange(message.Length, 1, 511);
            Assert.All(message, c => Assert.InRange(c, (char)0x20, (char)0x7E));
        });
    }
}

public sealed class UnverifiedRequestIdTests
{
    [Theory]
    [InlineData("{\"requestMetadata\":{\"kmsRequestId\":\"abc-1\"}}", "abc-1")]
    [InlineData("{\"requestMetadata\":{\"kmsRequestId\":\"line\\nbreak\"}}", "line?break")]
    [InlineData("{\"requestMetadata\":{}}", null)]
    [InlineData("not json", null)]
    [InlineData("{\"requestMetadata\":{\"kmsRequestId\":7}}", null)]
    public void UnverifiedRequestId_Body_IsReadSafelyOrNotAtAll(string body, string? expected) =>
        Assert.Equal(expected, XksRequestHandler.UnverifiedRequestId(Encoding.UTF8.GetBytes(body)));

    [Fact]
    public void UnverifiedRequestId_VeryLongId_IsCutTo128Characters() =>
        Assert.Equal(128, XksRequestHandler.UnverifiedRequestId(Encoding.UTF8.GetBytes("{\"requestMetadata\":{\"kmsRequestId\":\"" + new string('x', 5000) + "\"}}"))!.Length);
}

public sealed class KeyStoreStateTests
{
    [Fact]
    public async Task BlockedKeyStore_RefusesEverythingButHealth()
    {
        await using var server = await ProxyServer.StartAsync(b =>
        {
            b.Key("foo");
            b.Blocked = true;
        });
        using var client = new XksClient(server.BaseAddress);

        Assert.Equal(HttpStatusCode.OK, (await client.HealthAsync()).Status);
        Assert.Equal("InvalidStateException", (await client.MetadataAsync("foo")).ErrorName);
        Assert.Equal("InvalidStateException", (await client.EncryptAsync("foo", [1, 2, 3])).ErrorName);
        Assert.Equal("InvalidStateException", (await client.EncryptAsync("unknown", [1, 2, 3])).ErrorName);

        // The refusal is audited with the KMS request id and the key, so it can be matched to the failed KMS call.
        await client.EncryptAsync("foo", [1, 2, 3], metadata: XksClient.Metadata("Encrypt", requestId: "blocked-req-9"));
        var line = Assert.Single(await server.WaitForAuditAsync("blocked-req-9"), l => l.Contains("blocked-req-9", StringComparison.Ordinal));
        Assert.Contains("\"keyId\":\"foo\"", line, StringComparison.Ordinal);
        Assert.Contains("\"outcome\":\"InvalidStateException\"", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClockSkewBeyondFiveMinutes_FailsAuthentication()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow.AddMinutes(6));
        await using var server = await ProxyServer.StartAsync(b => b.Key("foo"), time);
        using var client = new XksClient(server.BaseAddress);

        Assert.Equal("AuthenticationFailedException", (await client.HealthAsync()).ErrorName);
        Assert.Contains(server.Logs.Lines, l => l.Contains("away from the proxy's clock", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RequestsOverTheKeyStoreQuota_ReturnThrottling()
    {
        await using var server = await ProxyServer.StartAsync(b =>
        {
            b.Key("foo");
            b.RequestsPerSecond = 3;
        });
        using var client = new XksClient(server.BaseAddress);

        var outcomes = new List<string?>();
        for (var i = 0; i < 8; i++)
        {
            outcomes.Add((await client.HealthAsync()).ErrorName);
        }

        Assert.Contains(null, outcomes);
        Assert.Contains("ThrottlingException", outcomes);
    }

    [Fact]
    public async Task EmptyPathPrefix_ServesAtTheRoot()
    {
        await using var server = await ProxyServer.StartAsync(b =>
        {
            b.Key("foo");
            b.Prefix = "";
        });
        using var client = new XksClient(server.BaseAddress) { Prefix = "" };
        Assert.Equal(HttpStatusCode.OK, (await client.EncryptAsync("foo", [1])).Status);
    }
}
