using System.ComponentModel;
using System.Text.Json.Serialization;
using k8s.Models;
using Xks.Operator.Entities.Attributes;

namespace Xks.Operator.Entities;

[KubernetesEntity(Group = "xks.dev", ApiVersion = "v1alpha1", Kind = "CspAccount", PluralName = "cspaccounts")]
[ShortName("csp")]
[Categories("xks")]
[PrinterColumn("Region", "string", ".spec.region", Description = "AWS region")]
[PrinterColumn("Account", "string", ".status.accountId", Description = "AWS account the credentials belong to")]
[PrinterColumn("Ready", "string", ".status.conditions[?(@.type==\"Ready\")].status", Description = "Whether the credentials work")]
[PrinterColumn("Reason", "string", ".status.conditions[?(@.type==\"Ready\")].reason", 1, Description = "Why the resource is or is not ready")]
[PrinterColumn("Age", "date", ".metadata.creationTimestamp")]
[Description("A CspAccount is an AWS account and region the operator manages KMS objects in, with the credentials (and optionally a role to assume) to do so. KeySets refer to it.")]
public sealed class V1Alpha1CspAccount : CustomResource<V1Alpha1CspAccountSpec, V1Alpha1CspAccountStatus>;

public sealed class V1Alpha1CspAccountList : CustomResourceList<V1Alpha1CspAccount>;

[Description("Desired state of the CspAccount.")]
public class V1Alpha1CspAccountSpec
{
    [JsonPropertyName("region")]
    [Required]
    [Pattern(Patterns.AwsRegion)]
    [Description("AWS region of the KMS API, e.g. eu-west-1.")]
    public string Region { get; set; } = "";

    [JsonPropertyName("credentials")]
    [DefaultValue("{}")]
    [Description("Where the AWS credentials come from. Default: a Secret (credentials.secretRef).")]
    public V1Alpha1AwsCredentials Credentials { get; set; } = new();

    [JsonPropertyName("assumeRole")]
    [Description("An IAM role to assume with the credentials before calling KMS. Unset: the credentials are used directly.")]
    public V1Alpha1AssumeRole? AssumeRole { get; set; }

    [JsonPropertyName("endpoint")]
    [Format("uri")]
    [Description("URL of the KMS API, e.g. a VPC endpoint or a test double. Default: the public endpoint of the region.")]
    public string? Endpoint { get; set; }
}

[Description("Where the AWS credentials come from.")]
public sealed class V1Alpha1AwsCredentials
{
    [JsonPropertyName("source")]
    [DefaultValue(V1Alpha1CredentialsSource.Secret)]
    [Description("Secret (default): access keys from secretRef. Default: the AWS SDK's default chain in the operator pod (environment, IRSA web identity, instance profile).")]
    public V1Alpha1CredentialsSource Source { get; set; } = V1Alpha1CredentialsSource.Secret;

    [JsonPropertyName("secretRef")]
    [Description("Secret holding the access keys (source Secret): in the CspAccount's namespace; for a ClusterCspAccount, in the operator's cluster resource namespace.")]
    public V1Alpha1AwsSecretReference? SecretRef { get; set; }

    [JsonPropertyName("accessKeyRotation")]
    [Description("Rotate the IAM user's access key in the Secret on a schedule (docs/access-key-rotation.md): create a new key, verify it, write it to the Secret, deactivate the old one, delete it after gracePeriod. Only with source Secret and long-term keys (no session token). Rotate now by setting the annotation xks.dev/rotate-access-key to a new value. Unset: the operator never changes the Secret.")]
    public V1Alpha1AccessKeyRotation? AccessKeyRotation { get; set; }
}

[Description("A schedule for rotating an IAM user's access key.")]
public sealed class V1Alpha1AccessKeyRotation
{
    [JsonPropertyName("every")]
    [Required]
    [Pattern(Patterns.DurationWithDays)]
    [Description("Age of the Secret's access key (from IAM's create date) at which it is replaced, as a Go duration that may also use d (24h), e.g. 90d or 2160h.")]
    public string Every { get; set; } = "";

    [JsonPropertyName("gracePeriod")]
    [DefaultValue("1h")]
    [Pattern(Patterns.DurationWithDays)]
    [Description("How long the replaced key stays in IAM, deactivated, before it is deleted (a deactivated key can be re-activated by hand if something still needed it). Default 1h.")]
    public string GracePeriod { get; set; } = "1h";
}

[JsonConverter(typeof(JsonStringEnumConverter<V1Alpha1CredentialsSource>))]
public enum V1Alpha1CredentialsSource
{
    Secret,
    Default,
}

[Description("A Secret holding AWS access keys.")]
public sealed class V1Alpha1AwsSecretReference
{
    [JsonPropertyName("name")]
    [Required]
    [Length(1, 253)]
    [Description("Name of the Secret: in the CspAccount's namespace; for a ClusterCspAccount, in the operator's cluster resource namespace (flag --cluster-resource-namespace, the chart's release namespace).")]
    public string Name { get; set; } = "";

    [JsonPropertyName("accessKeyIdKey")]
    [DefaultValue("accessKeyId")]
    [Description("Key of the access key ID in the Secret. Default accessKeyId.")]
    public string AccessKeyIdKey { get; set; } = "accessKeyId";

    [JsonPropertyName("secretAccessKeyKey")]
    [DefaultValue("secretAccessKey")]
    [Description("Key of the secret access key in the Secret. Default secretAccessKey.")]
    public string SecretAccessKeyKey { get; set; } = "secretAccessKey";

    [JsonPropertyName("sessionTokenKey")]
    [Description("Key of a session token in the Secret, for temporary credentials. Unset: no session token.")]
    public string? SessionTokenKey { get; set; }
}

[Description("An IAM role to assume.")]
public sealed class V1Alpha1AssumeRole
{
    [JsonPropertyName("roleArn")]
    [Required]
    [Pattern(Patterns.IamRoleArn)]
    [Description("ARN of the role, e.g. arn:aws:iam::111122223333:role/xks-operator.")]
    public string RoleArn { get; set; } = "";

    [JsonPropertyName("externalId")]
    [Length(2, 1224)]
    [Description("External ID the role's trust policy requires, if any.")]
    public string? ExternalId { get; set; }

    [JsonPropertyName("sessionName")]
    [Length(2, 64)]
    [Pattern(@"^[\w+=,.@-]*$")]
    [Description("Role session name, visible in CloudTrail. Default: xks-operator.")]
    public string? SessionName { get; set; }
}

[Description("Observed state of the CspAccount or ClusterCspAccount.")]
public sealed class V1Alpha1CspAccountStatus : V1Alpha1Status
{
    [JsonPropertyName("accountId")]
    [Description("AWS account ID the credentials resolve to (from sts:GetCallerIdentity).")]
    public string? AccountId { get; set; }

    [JsonPropertyName("accessKey")]
    [Description("The access key in the credentials Secret and its rotation (spec.credentials.accessKeyRotation). Never holds a secret.")]
    public V1Alpha1AccessKeyStatus? AccessKey { get; set; }
}

[Description("The IAM access key in the credentials Secret and where its rotation stands.")]
public sealed class V1Alpha1AccessKeyStatus
{
    [JsonPropertyName("id")]
    [Description("Access key ID in the Secret (never the secret access key).")]
    public string? Id { get; set; }

    [JsonPropertyName("createdAt")]
    [Description("When IAM created that key.")]
    public DateTime? CreatedAt { get; set; }

    [JsonPropertyName("nextRotation")]
    [Description("When the key is due to be replaced (createdAt + every).")]
    public DateTime? NextRotation { get; set; }

    [JsonPropertyName("phase")]
    [Description("Current: one key. Creating: a new key is being created (recorded before IAM is called; a newer key left by a crash is deleted). Replaced: the Secret holds the new key, the previous is still active. Deactivated: the previous key is inactive and deleted after the grace period.")]
    public string? Phase { get; set; }

    [JsonPropertyName("since")]
    [Description("When the phase began.")]
    public DateTime? Since { get; set; }

    [JsonPropertyName("previousId")]
    [Description("Access key ID the rotation replaces: the only key besides the Secret's the operator ever deactivates or deletes.")]
    public string? PreviousId { get; set; }

    [JsonPropertyName("handledRotationRequest")]
    [Description("The last value of the annotation xks.dev/rotate-access-key a rotation was made for.")]
    public string? HandledRotationRequest { get; set; }
}
