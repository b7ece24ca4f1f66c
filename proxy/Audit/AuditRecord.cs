using System.Text.Json.Serialization;

namespace Xks.Proxy.Audit;

/// <summary>
/// One line of the audit log per XKS request. Holds request metadata and the outcome only: never plaintext,
/// AAD, ciphertext, key material or secrets.
/// </summary>
public sealed class AuditRecord
{
    [JsonPropertyName("time")]
    public DateTimeOffset Time { get; set; }

    [JsonPropertyName("log")]
    public string Log { get; set; } = "xks-audit";

    [JsonPropertyName("kmsRequestId")]
    public string? KmsRequestId { get; set; }

    [JsonPropertyName("operation")]
    public string? Operation { get; set; }

    [JsonPropertyName("kmsOperation")]
    public string? KmsOperation { get; set; }

    [JsonPropertyName("awsPrincipalArn")]
    public string? AwsPrincipalArn { get; set; }

    [JsonPropertyName("kmsKeyArn")]
    public string? KmsKeyArn { get; set; }

    [JsonPropertyName("kmsViaService")]
    public string? KmsViaService { get; set; }

    [JsonPropertyName("awsSourceVpc")]
    public string? AwsSourceVpc { get; set; }

    [JsonPropertyName("awsSourceVpce")]
    public string? AwsSourceVpce { get; set; }

    [JsonPropertyName("keyStore")]
    public string? KeyStore { get; set; }

    [JsonPropertyName("accessKeyId")]
    public string? AccessKeyId { get; set; }

    [JsonPropertyName("keyId")]
    public string? KeyId { get; set; }

    [JsonPropertyName("keyVersion")]
    public int? KeyVersion { get; set; }

    /// <summary>"Success" or the XKS error name.</summary>
    [JsonPropertyName("outcome")]
    public string Outcome { get; set; } = "Success";

    [JsonPropertyName("status")]
    public int Status { get; set; }

    /// <summary>Secondary-authorization rule that denied the request, if any.</summary>
    [JsonPropertyName("deniedBy")]
    public string? DeniedBy { get; set; }

    [JsonPropertyName("latencyMs")]
    public double LatencyMs { get; set; }

    [JsonPropertyName("remoteAddress")]
    public string? RemoteAddress { get; set; }
}
