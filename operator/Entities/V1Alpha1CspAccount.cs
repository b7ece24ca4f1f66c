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
}
