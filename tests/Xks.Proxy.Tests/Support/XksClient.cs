using System.Buffers.Binary;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Xks.Proxy.Tests.Support;

/// <summary>The answer of the proxy: status, raw body and parsed JSON (when the body is JSON).</summary>
public sealed record XksResponse(HttpStatusCode Status, string Body, JsonNode? Json, Version? Version = null)
{
    public string? ErrorName => Json?["errorName"]?.GetValue<string>();

    public string? this[string field] => Json?[field]?.GetValue<string>();

    public byte[] Bytes(string field) => Convert.FromBase64String(this[field]!);

    /// <summary>
    /// ciphertextMetadata as "format F, version V, N bytes" (format 2's salt is random per process and sub-key, so it
    /// is left out), or null when there is none.
    /// </summary>
    public string? MetadataSummary => this["ciphertextMetadata"] is { } text && Convert.FromBase64String(text) is { Length: >= 5 } m
        ? $"format {m[0]}, version {BinaryPrimitives.ReadUInt32BigEndian(m.AsSpan(1))}, {m.Length} bytes"
        : null;
}

/// <summary>An XKS caller like AWS KMS: JSON bodies, signed with the AWS SDK's SigV4 signer.</summary>
public sealed class XksClient : IDisposable
{
    private readonly HttpClient _http;

    public XksClient(Uri baseAddress, HttpMessageHandler? handler = null)
    {
        _http = handler is null ? new HttpClient() : new HttpClient(handler);
        _http.BaseAddress = baseAddress;
    }

    public string Prefix { get; set; } = TestCredentials.Prefix;

    public string AccessKeyId { get; set; } = TestCredentials.AccessKeyId;

    public string Secret { get; set; } = TestCredentials.Secret;

    public string Region { get; set; } = TestCredentials.Region;

    /// <summary>HTTP version to ask for (exactly: no fallback), 1.1 by default.</summary>
    public Version Version { get; set; } = HttpVersion.Version11;

    public static JsonObject Metadata(string operation, string? principal = TestCredentials.Principal, string? keyArn = TestCredentials.KeyArn, string? requestId = null)
    {
        var metadata = new JsonObject
        {
            ["kmsRequestId"] = requestId ?? Guid.NewGuid().ToString(),
            ["kmsOperation"] = operation,
        };
        if (principal is not null)
        {
            metadata["awsPrincipalArn"] = principal;
        }

        if (keyArn is not null)
        {
            metadata["kmsKeyArn"] = keyArn;
        }

        return metadata;
    }

    public Task<XksResponse> HealthAsync(string operation = "KmsHealthCheck") =>
        PostAsync("health", new JsonObject { ["requestMetadata"] = new JsonObject { ["kmsRequestId"] = Guid.NewGuid().ToString(), ["kmsOperation"] = operation } });

    public Task<XksResponse> MetadataAsync(string keyId, JsonObject? metadata = null) =>
        PostAsync($"keys/{keyId}/metadata", new JsonObject { ["requestMetadata"] = metadata ?? Metadata("CreateKey", keyArn: null) });

    public Task<XksResponse> EncryptAsync(string keyId, byte[] plaintext, byte[]? aad = null, bool cdiv = true, JsonObject? metadata = null)
    {
        var body = new JsonObject
        {
            ["requestMetadata"] = metadata ?? Metadata("Encrypt"),
            ["plaintext"] = Convert.ToBase64String(plaintext),
            ["encryptionAlgorithm"] = "AES_GCM",
        };
        if (aad is not null)
        {
            body["additionalAuthenticatedData"] = Convert.ToBase64String(aad);
        }

        if (cdiv)
        {
            body["ciphertextDataIntegrityValueAlgorithm"] = "SHA_256";
        }

        return PostAsync($"keys/{keyId}/encrypt", body);
    }

    /// <summary>Decrypts what an Encrypt returned; the optional transform may tamper with any field first.</summary>
    public Task<XksResponse> DecryptAsync(string keyId, XksResponse encrypted, byte[]? aad = null, Action<JsonObject>? transform = null, JsonObject? metadata = null)
    {
        var body = new JsonObject
        {
            ["requestMetadata"] = metadata ?? Metadata("Decrypt"),
            ["ciphertext"] = encrypted["ciphertext"],
            ["encryptionAlgorithm"] = "AES_GCM",
            ["initializationVector"] = encrypted["initializationVector"],
            ["authenticationTag"] = encrypted["authenticationTag"],
        };
        if (encrypted["ciphertextMetadata"] is { } m)
        {
            body["ciphertextMetadata"] = m;
        }

        if (aad is not null)
        {
            body["additionalAuthenticatedData"] = Convert.ToBase64String(aad);
        }

        transform?.Invoke(body);
        return PostAsync($"keys/{keyId}/decrypt", body);
    }

    public Task<XksResponse> PostAsync(string relativePath, JsonNode body) =>
        SendRawAsync(HttpMethod.Post, $"{Prefix}/kms/xks/v1/{relativePath}", Encoding.UTF8.GetBytes(body.ToJsonString()));

    public async Task<XksResponse> SendRawAsync(HttpMethod method, string path, byte[] body, bool sign = true, string contentType = "application/json")
    {
        using var message = new HttpRequestMessage(method, new Uri(_http.BaseAddress!, path))
        {
            Version = Version,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        if (method != HttpMethod.Get)
        {
            message.Content = new ByteArrayContent(body);
            message.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }

        if (sign)
        {
            AwsSdkSigner.Sign(message, body, AccessKeyId, Secret, Region, contentType);
        }

        using var response = await _http.SendAsync(message);
        var text = await response.Content.ReadAsStringAsync();
        JsonNode? json = null;
        if (response.Content.Headers.ContentType?.MediaType == "application/json")
        {
            json = JsonNode.Parse(text);
        }

        return new XksResponse(response.StatusCode, text, json, response.Version);
    }

    public void Dispose() => _http.Dispose();
}
