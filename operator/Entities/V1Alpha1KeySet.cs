using System.ComponentModel;
using System.Text.Json.Serialization;
using k8s.Models;
using Xks.Operator.Entities.Attributes;

namespace Xks.Operator.Entities;

[KubernetesEntity(Group = "xks.dev", ApiVersion = "v1alpha1", Kind = "KeySet", PluralName = "keysets")]
[ShortName("ks")]
[Categories("xks")]
[PrinterColumn("Vault", "string", ".spec.vaultRef.name", Description = "Vault serving the key store")]
[PrinterColumn("KeyStore", "string", ".status.customKeyStoreId", Description = "ID of the custom key store in AWS KMS")]
[PrinterColumn("State", "string", ".status.connectionState", Description = "Connection state of the custom key store")]
[PrinterColumn("Ready", "string", ".status.conditions[?(@.type==\"Ready\")].status", Description = "Whether the key store is connected")]
[PrinterColumn("Reason", "string", ".status.conditions[?(@.type==\"Ready\")].reason", 1, Description = "Why the resource is or is not ready")]
[PrinterColumn("Age", "date", ".metadata.creationTimestamp")]
[Description("A KeySet is an AWS KMS external key store (XKS custom key store) served by a Vault: the operator creates the key store in the CspAccount's AWS account, gives the proxy its URI path and SigV4 credentials, rotates them, and connects the store. CloudKeys live in a KeySet.")]
public sealed class V1Alpha1KeySet : CustomResource<V1Alpha1KeySetSpec, V1Alpha1KeySetStatus>;

public sealed class V1Alpha1KeySetList : CustomResourceList<V1Alpha1KeySet>;

[Description("Desired state of the KeySet.")]
public sealed class V1Alpha1KeySetSpec
{
    [JsonPropertyName("vaultRef")]
    [Required]
    [Description("The Vault (same namespace) whose proxy serves this key store.")]
    public V1Alpha1LocalObjectReference VaultRef { get; set; } = new();

    [JsonPropertyName("cspAccountRef")]
    [Required]
    [Description("The account the key store is created in: a CspAccount in the same namespace (default), or a ClusterCspAccount whose namespaceSelector selects this namespace.")]
    public V1Alpha1CspAccountReference CspAccountRef { get; set; } = new();

    [JsonPropertyName("region")]
    [Pattern(Patterns.AwsRegion)]
    [Description("AWS region of the key store. Default: the CspAccount's region.")]
    public string? Region { get; set; }

    [JsonPropertyName("externalKeyStore")]
    [DefaultValue("{}")]
    [Description("Settings of the custom key store in AWS KMS.")]
    public V1Alpha1ExternalKeyStore ExternalKeyStore { get; set; } = new();

    [JsonPropertyName("uriPathPrefix")]
    [Length(0, 64)]
    [Pattern(Patterns.UriPathPrefix)]
    [Description("Path prefix of the key store on the proxy; KMS calls <prefix>/kms/xks/v1/…. Unset: /<namespace>/<name>. \"/\" (or \"\"): no prefix, KMS calls /kms/xks/v1/… — only when this KeySet is the only one of its Vault (another KeySet of the Vault, with any prefix, is a Conflict for whichever of the two came second). At most 64 characters, segments of letters, digits, '.', '_' and '-'.")]
    public string? UriPathPrefix { get; set; }

    [JsonPropertyName("defaults")]
    [Description("Settings the KeySet's CloudKeys inherit when they do not set their own.")]
    public V1Alpha1KeySetDefaults? Defaults { get; set; }

    [JsonPropertyName("credentialRotation")]
    [Description("Rotation of the SigV4 credential KMS uses to call the proxy: the new credential is added to the proxy, given to KMS with UpdateCustomKeyStore, and the old one dropped after a grace period, so no request fails. Unset: never rotated automatically. Rotate now by setting the annotation xks.dev/rotate-credential to a new value.")]
    public V1Alpha1Rotation? CredentialRotation { get; set; }

    [JsonPropertyName("blocked")]
    [DefaultValue(false)]
    [Description("When true the proxy refuses every request for this key store (the HYOK kill switch): all its keys become unusable in AWS until set back to false. Default false.")]
    public bool Blocked { get; set; }

    [JsonPropertyName("deletionPolicy")]
    [DefaultValue(V1Alpha1DeletionPolicy.Retain)]
    [Description("What deleting the KeySet does to the custom key store in AWS: Retain (default) disconnects and leaves it; Delete disconnects and deletes it (only possible once it holds no KMS keys).")]
    public V1Alpha1DeletionPolicy DeletionPolicy { get; set; } = V1Alpha1DeletionPolicy.Retain;

    [JsonPropertyName("adopt")]
    [Description("Take over an existing custom key store instead of creating one.")]
    public V1Alpha1KeySetAdopt? Adopt { get; set; }
}

[Description("Settings the KeySet's CloudKeys inherit.")]
public sealed class V1Alpha1KeySetDefaults
{
    [JsonPropertyName("rotation")]
    [Description("Rotation of the key material of every CloudKey of this KeySet without its own spec.rotation. Changing it applies to those keys at once.")]
    public V1Alpha1Rotation? Rotation { get; set; }
}

[Description("Settings of the custom key store in AWS KMS.")]
public sealed class V1Alpha1ExternalKeyStore
{
    [JsonPropertyName("name")]
    [Length(1, 256)]
    [Description("Name of the custom key store in KMS, unique in the account and region. Default <namespace>-<name>.")]
    public string? Name { get; set; }

    [JsonPropertyName("connectivity")]
    [DefaultValue(V1Alpha1Connectivity.PublicEndpoint)]
    [Description("How KMS reaches the proxy: PublicEndpoint (default, over the internet at the Vault's endpoint) or VpcEndpointService (through an Amazon VPC endpoint service).")]
    public V1Alpha1Connectivity Connectivity { get; set; } = V1Alpha1Connectivity.PublicEndpoint;

    [JsonPropertyName("vpcEndpointServiceName")]
    [Description("Name of the VPC endpoint service, e.g. com.amazonaws.vpce.eu-west-1.vpce-svc-0123456789abcdef0. Required with connectivity VpcEndpointService.")]
    public string? VpcEndpointServiceName { get; set; }
}

[JsonConverter(typeof(JsonStringEnumConverter<V1Alpha1Connectivity>))]
public enum V1Alpha1Connectivity
{
    PublicEndpoint,
    VpcEndpointService,
}

[Description("An existing custom key store to take over.")]
public sealed class V1Alpha1KeySetAdopt
{
    [JsonPropertyName("customKeyStoreId")]
    [Required]
    [Pattern("^cks-[a-z0-9]+$")]
    [Description("ID of the custom key store, e.g. cks-1234567890abcdef0.")]
    public string CustomKeyStoreId { get; set; } = "";
}

[Description("Observed state of the KeySet.")]
public sealed class V1Alpha1KeySetStatus : V1Alpha1Status
{
    [JsonPropertyName("customKeyStoreId")]
    [Description("ID of the custom key store in AWS KMS.")]
    public string? CustomKeyStoreId { get; set; }

    [JsonPropertyName("connectionState")]
    [Description("Connection state KMS reports: CONNECTED, CONNECTING, DISCONNECTED, DISCONNECTING or FAILED.")]
    public string? ConnectionState { get; set; }

    [JsonPropertyName("connectionErrorCode")]
    [Description("Why the last connection attempt failed, as KMS reports it (e.g. XKS_PROXY_NOT_REACHABLE).")]
    public string? ConnectionErrorCode { get; set; }

    [JsonPropertyName("uriPath")]
    [Description("Full URI path KMS calls: <uriPathPrefix>/kms/xks/v1.")]
    public string? UriPath { get; set; }

    [JsonPropertyName("credentialSecretName")]
    [Description("Secret holding the current SigV4 credential of the key store.")]
    public string? CredentialSecretName { get; set; }

    [JsonPropertyName("lastRotationTime")]
    [Description("When the SigV4 credential was last rotated.")]
    public DateTime? LastRotationTime { get; set; }
}

[Description("A reference to a CspAccount in the same namespace or to a ClusterCspAccount.")]
public sealed class V1Alpha1CspAccountReference
{
    [JsonPropertyName("kind")]
    [DefaultValue(V1Alpha1CspAccountKind.CspAccount)]
    [Description("CspAccount (default; in the KeySet's namespace) or ClusterCspAccount (cluster-scoped; its namespaceSelector must select the KeySet's namespace).")]
    public V1Alpha1CspAccountKind Kind { get; set; } = V1Alpha1CspAccountKind.CspAccount;

    [JsonPropertyName("name")]
    [Required]
    [Length(1, 253)]
    [Description("Name of the CspAccount or ClusterCspAccount.")]
    public string Name { get; set; } = "";
}

[JsonConverter(typeof(JsonStringEnumConverter<V1Alpha1CspAccountKind>))]
public enum V1Alpha1CspAccountKind
{
    CspAccount,
    ClusterCspAccount,
}
