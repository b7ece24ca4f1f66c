using System.ComponentModel;
using System.Text.Json.Serialization;
using k8s.Models;
using Xks.Operator.Entities.Attributes;

namespace Xks.Operator.Entities;

[KubernetesEntity(Group = "xks.dev", ApiVersion = "v1alpha1", Kind = "CloudKey", PluralName = "cloudkeys")]
[ShortName("ck")]
[Categories("xks")]
[PrinterColumn("Alias", "string", ".status.alias", Description = "KMS alias in effect (with alias/)")]
[PrinterColumn("Enabled", "boolean", ".spec.enabled", Description = "Whether the key is enabled")]
[PrinterColumn("KeyId", "string", ".status.keyId", Description = "KMS key ID")]
[PrinterColumn("State", "string", ".status.keyState", Description = "KMS key state")]
[PrinterColumn("Ready", "string", ".status.conditions[?(@.type==\"Ready\")].status", Description = "Whether the key is usable")]
[PrinterColumn("Reason", "string", ".status.conditions[?(@.type==\"Ready\")].reason", 1, Description = "Why the resource is or is not ready")]
[PrinterColumn("ARN", "string", ".status.arn", 1, Description = "ARN of the KMS key")]
[PrinterColumn("Version", "string", ".status.currentVersion", 1, Description = "Key version new encryptions use")]
[PrinterColumn("Next Rotation", "string", ".status.nextRotationTime", 1, Description = "When the next key version is due (a timestamp: kubectl shows future dates as <invalid> in a date column)")]
[PrinterColumn("Age", "date", ".metadata.creationTimestamp")]
[Description("A CloudKey is an AWS KMS key in a KeySet's external key store: the key material is generated and kept by the Vault's proxy and never leaves it; AWS only holds a reference. The operator creates the KMS key, its alias and key policy.")]
public sealed class V1Alpha1CloudKey : CustomResource<V1Alpha1CloudKeySpec, V1Alpha1CloudKeyStatus>;

public sealed class V1Alpha1CloudKeyList : CustomResourceList<V1Alpha1CloudKey>;

[Description("Desired state of the CloudKey.")]
public sealed class V1Alpha1CloudKeySpec
{
    [JsonPropertyName("keySetRef")]
    [Required]
    [Description("The KeySet (same namespace) the key lives in.")]
    public V1Alpha1LocalObjectReference KeySetRef { get; set; } = new();

    [JsonPropertyName("alias")]
    [Length(0, 250)]
    [Pattern(Patterns.KmsAlias)]
    [Description("KMS alias of the key without the alias/ prefix, e.g. payments/db. Letters, digits, '/', '_' and '-'; must not start with aws/. Unset: alias/<metadata.name> (refused if the name is not a valid alias, e.g. it has a '.'). \"\" (empty): no alias. Aliases are unique per AWS account and region: one that names another CloudKey's key is a Conflict.")]
    public string? Alias { get; set; }

    [JsonPropertyName("createAlias")]
    [DefaultValue(true)]
    [Description("Whether the KMS key gets an alias (spec.alias, or alias/<metadata.name> when that is unset). Default true; false: no alias (spec.alias must then be unset) — the same as spec.alias: \"\", for tools and API servers that turn an empty string into null.")]
    public bool CreateAlias { get; set; } = true;

    [JsonPropertyName("description")]
    [Length(0, 8192)]
    [Description("Description of the KMS key, kept in sync (UpdateKeyDescription). Unset: CloudKey <namespace>/<name> (xks-operator).")]
    public string? Description { get; set; }

    [JsonPropertyName("tags")]
    [Description("Tags of the KMS key (TagResource/UntagResource). Keys 1-128 characters, values 0-256, of letters, digits, spaces and _ . : / = + - @; keys must not start with aws: (AWS) or xks.dev/ (the operator's own tags); at most 47 (AWS allows 50 per key, the operator sets 3). Removing a key here untags it; tags added to the key in AWS by hand are left alone (only keys in status.tagKeys are ever removed).")]
    public IDictionary<string, string>? Tags { get; set; }

    [JsonPropertyName("enabled")]
    [DefaultValue(true)]
    [Description("Whether the key can be used in AWS. Default true; false disables the KMS key.")]
    public bool Enabled { get; set; } = true;

    [JsonPropertyName("administrators")]
    [Description("IAM ARNs (users, roles, account roots) allowed to manage the key in its key policy.")]
    public IList<string>? Administrators { get; set; }

    [JsonPropertyName("users")]
    [Description("IAM ARNs allowed to use the key for cryptographic operations in its key policy.")]
    public IList<string>? Users { get; set; }

    [JsonPropertyName("keyPolicy")]
    [Description("Conditions on the users' statements of the generated key policy (AWS's default key policy shape otherwise). Unset: no conditions, and AWS services may create grants for the users.")]
    public V1Alpha1KeyPolicyConditions? KeyPolicy { get; set; }

    [JsonPropertyName("rotation")]
    [Description("Rotation of the key material in the proxy (a new version for new encryptions; old versions still decrypt). Unset: the KeySet's spec.defaults.rotation, or no automatic rotation. Add a version now by setting the annotation xks.dev/rotate-key to a new value.")]
    public V1Alpha1Rotation? Rotation { get; set; }

    [JsonPropertyName("expiration")]
    [Description("Expiry of the key. Unset: the key does not expire. Reversible: moving at later or removing expiration clears the expiry and re-enables a key that only the expiry disabled (a deletion the expiry scheduled is cancelled; AWS leaves such a key Disabled, the operator then enables it if spec.enabled).")]
    public V1Alpha1KeyExpiration? Expiration { get; set; }

    [JsonPropertyName("deletionPolicy")]
    [DefaultValue(V1Alpha1DeletionPolicy.Retain)]
    [Description("What deleting the CloudKey does: Retain (default) leaves the KMS key and its material; Delete schedules deletion of the KMS key after pendingWindowDays, then deletes the material.")]
    public V1Alpha1DeletionPolicy DeletionPolicy { get; set; } = V1Alpha1DeletionPolicy.Retain;

    [JsonPropertyName("pendingWindowDays")]
    [Range(7, 30)]
    [DefaultValue(30)]
    [Description("Waiting period in days before KMS deletes the key (deletionPolicy Delete or expiration action ScheduleDeletion). Between 7 and 30, default 30.")]
    public int PendingWindowDays { get; set; } = 30;

    [JsonPropertyName("authorization")]
    [Description("Conditions the proxy enforces on every request for this key, on top of the KMS key policy.")]
    public V1Alpha1KeyAuthorization? Authorization { get; set; }

    [JsonPropertyName("adopt")]
    [Description("Take over an existing KMS key of the key store instead of creating one.")]
    public V1Alpha1CloudKeyAdopt? Adopt { get; set; }
}

[Description("Expiry of a key.")]
public sealed class V1Alpha1KeyExpiration
{
    [JsonPropertyName("at")]
    [Required]
    [Description("When the key expires (RFC 3339, e.g. 2027-01-01T00:00:00Z).")]
    public DateTime At { get; set; }

    [JsonPropertyName("action")]
    [DefaultValue(V1Alpha1ExpirationAction.Disable)]
    [Description("What happens at that time: Disable (default) disables the KMS key; ScheduleDeletion schedules its deletion after pendingWindowDays.")]
    public V1Alpha1ExpirationAction Action { get; set; } = V1Alpha1ExpirationAction.Disable;
}

[JsonConverter(typeof(JsonStringEnumConverter<V1Alpha1ExpirationAction>))]
public enum V1Alpha1ExpirationAction
{
    Disable,
    ScheduleDeletion,
}

[Description("Request conditions the proxy enforces for a key (empty lists allow everything).")]
public sealed class V1Alpha1KeyAuthorization
{
    [JsonPropertyName("principals")]
    [Description("IAM principal ARNs allowed to cause a request (KMS passes the caller in the request metadata).")]
    public IList<string>? Principals { get; set; }

    [JsonPropertyName("viaServices")]
    [Description("AWS services allowed to call on a principal's behalf, e.g. s3.eu-west-1.amazonaws.com.")]
    public IList<string>? ViaServices { get; set; }

    [JsonPropertyName("sourceVpcs")]
    [Description("VPC IDs requests may come from, e.g. vpc-0123456789abcdef0.")]
    public IList<string>? SourceVpcs { get; set; }

    [JsonPropertyName("sourceVpces")]
    [Description("VPC endpoint IDs requests may come through, e.g. vpce-0123456789abcdef0.")]
    public IList<string>? SourceVpces { get; set; }
}

[Description("Conditions the generated key policy puts on the users' statements (AWS evaluates them; the proxy does not).")]
public sealed class V1Alpha1KeyPolicyConditions
{
    [JsonPropertyName("viaServices")]
    [Description("The users may use the key only through these AWS services (condition kms:ViaService), e.g. ec2.eu-west-1.amazonaws.com, rds.eu-west-1.amazonaws.com. Empty: directly too.")]
    public IList<string>? ViaServices { get; set; }

    [JsonPropertyName("encryptionContext")]
    [Description("Encryption context every cryptographic call of the users must carry (condition kms:EncryptionContext:<key>), e.g. {tenant: payments}.")]
    public IDictionary<string, string>? EncryptionContext { get; set; }

    [JsonPropertyName("allowGrantsForAwsResources")]
    [DefaultValue(true)]
    [Description("Whether the users may let AWS services create, list and revoke grants on the key for AWS resources (EBS volumes, RDS instances; condition kms:GrantIsForAWSResource), like AWS's default key policy. Default true.")]
    public bool AllowGrantsForAwsResources { get; set; } = true;
}

[Description("An existing KMS key to take over.")]
public sealed class V1Alpha1CloudKeyAdopt
{
    [JsonPropertyName("keyId")]
    [Required]
    [Length(1, 2048)]
    [Description("ID or ARN of the KMS key in the KeySet's key store.")]
    public string KeyId { get; set; } = "";
}

[Description("Observed state of the CloudKey.")]
public sealed class V1Alpha1CloudKeyStatus : V1Alpha1Status
{
    [JsonPropertyName("keyId")]
    [Description("ID of the KMS key.")]
    public string? KeyId { get; set; }

    [JsonPropertyName("arn")]
    [Description("ARN of the KMS key.")]
    public string? Arn { get; set; }

    [JsonPropertyName("xksKeyId")]
    [Description("ID of the key material in the proxy (the XksKeyId KMS sends).")]
    public string? XksKeyId { get; set; }

    [JsonPropertyName("keyState")]
    [Description("Key state KMS reports: Enabled, Disabled, PendingDeletion, Unavailable, …")]
    public string? KeyState { get; set; }

    [JsonPropertyName("currentVersion")]
    [Description("Version of the key material used for new encryptions.")]
    public string? CurrentVersion { get; set; }

    [JsonPropertyName("alias")]
    [Description("Alias currently attached in KMS (with the alias/ prefix): spec.alias, or alias/<metadata.name> when spec.alias is unset; none when spec.alias is \"\".")]
    public string? Alias { get; set; }

    [JsonPropertyName("tagKeys")]
    [Description("Keys of the spec.tags the operator applied to the KMS key (sorted): the only user tags it ever removes.")]
    public IList<string>? TagKeys { get; set; }

    [JsonPropertyName("lastAwsCheckTime")]
    [Description("When the KMS key was last read from AWS and corrected to the spec (state, alias, key policy). Resyncs and watch events in between use this status and make no AWS call; the next check is due --aws-resync-period later, or at once when the spec changes, the key is not Ready or its KeySet changes state.")]
    public DateTime? LastAwsCheckTime { get; set; }

    [JsonPropertyName("currentVersionCreatedTime")]
    [Description("When the key version new encryptions use (currentVersion) was made.")]
    public DateTime? CurrentVersionCreatedTime { get; set; }

    [JsonPropertyName("nextRotationTime")]
    [Description("When the next key version is due: currentVersionCreatedTime plus spec.rotation.every (or the KeySet's spec.defaults.rotation.every). Unset without a rotation schedule. A time in the past means the rotation is overdue (it waits for the HSM: see the Ready condition).")]
    public DateTime? NextRotationTime { get; set; }
}
