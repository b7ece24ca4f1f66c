using System.ComponentModel;
using System.Text.Json.Serialization;
using k8s.Models;

namespace Xks.Operator.Entities.CertManager;

/// <summary>
/// The parts of cert-manager's <c>Certificate</c> (cert-manager.io/v1) the operator writes and reads. Optional fields
/// are null so that they are left out of the JSON and cert-manager's defaults apply.
/// </summary>
[KubernetesEntity(Group = "cert-manager.io", ApiVersion = "v1", Kind = "Certificate", PluralName = "certificates")]
[Description("A cert-manager Certificate: a request for a certificate, kept issued and renewed in a Secret.")]
public sealed class V1Certificate : CustomResource<V1CertificateSpec, V1CertificateStatus>;

public sealed class V1CertificateList : CustomResourceList<V1Certificate>;

public sealed class V1CertificateSpec
{
    [JsonPropertyName("secretName")]
    [Description("Secret cert-manager writes the key pair to (kubernetes.io/tls).")]
    public string SecretName { get; set; } = "";

    [JsonPropertyName("commonName")]
    [Description("Common name of the certificate's subject. Null: none (cert-manager's default).")]
    public string? CommonName { get; set; }

    [JsonPropertyName("dnsNames")]
    [Description("DNS subject alternative names of the certificate.")]
    public IList<string> DnsNames { get; set; } = [];

    [JsonPropertyName("issuerRef")]
    [Description("Issuer that signs the certificate.")]
    public V1CertificateIssuerReference IssuerRef { get; set; } = new();

    [JsonPropertyName("duration")]
    [Description("Requested lifetime (Go duration). Null: cert-manager's default (2160h).")]
    public string? Duration { get; set; }

    [JsonPropertyName("renewBefore")]
    [Description("How long before expiry to renew (Go duration). Null: cert-manager's default.")]
    public string? RenewBefore { get; set; }

    [JsonPropertyName("privateKey")]
    [Description("Settings of the private key.")]
    public V1CertificatePrivateKey? PrivateKey { get; set; }
}

public sealed class V1CertificateIssuerReference
{
    [JsonPropertyName("name")]
    public string Name { get; set; } = "";

    [JsonPropertyName("kind")]
    [Description("Issuer or ClusterIssuer; null means Issuer.")]
    public string? Kind { get; set; }

    [JsonPropertyName("group")]
    [Description("API group of the issuer; null means cert-manager.io.")]
    public string? Group { get; set; }
}

public sealed class V1CertificatePrivateKey
{
    /// <summary>Values of <see cref="RotationPolicy"/>.</summary>
    public const string RotationPolicyAlways = "Always";

    public const string RotationPolicyNever = "Never";

    [JsonPropertyName("algorithm")]
    [Description("RSA, ECDSA or Ed25519.")]
    public string? Algorithm { get; set; }

    [JsonPropertyName("size")]
    [Description("Key size: RSA bits (2048, 4096, …) or ECDSA curve size (256, 384, 521).")]
    public int? Size { get; set; }

    [JsonPropertyName("rotationPolicy")]
    [Description("Always (a new key on every renewal) or Never.")]
    public string? RotationPolicy { get; set; }
}

public sealed class V1CertificateStatus
{
    [JsonPropertyName("conditions")]
    [Description("cert-manager's conditions; Ready=True once the Secret holds a valid certificate for the spec.")]
    public IList<V1CertificateCondition>? Conditions { get; set; }

    [JsonPropertyName("notAfter")]
    [Description("Expiry of the issued certificate.")]
    public DateTime? NotAfter { get; set; }

    [JsonPropertyName("renewalTime")]
    [Description("When cert-manager will renew the certificate.")]
    public DateTime? RenewalTime { get; set; }
}

public sealed class V1CertificateCondition
{
    [JsonPropertyName("type")]
    public string Type { get; set; } = "";

    [JsonPropertyName("status")]
    public string Status { get; set; } = "";

    [JsonPropertyName("reason")]
    public string? Reason { get; set; }

    [JsonPropertyName("message")]
    public string? Message { get; set; }

    [JsonPropertyName("lastTransitionTime")]
    public DateTime? LastTransitionTime { get; set; }

    [JsonPropertyName("observedGeneration")]
    public long? ObservedGeneration { get; set; }
}
