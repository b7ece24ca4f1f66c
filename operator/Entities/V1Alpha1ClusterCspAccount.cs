using System.ComponentModel;
using System.Text.Json.Serialization;
using k8s.Models;
using Xks.Operator.Entities.Attributes;

namespace Xks.Operator.Entities;

[KubernetesEntity(Group = "xks.dev", ApiVersion = "v1alpha1", Kind = "ClusterCspAccount", PluralName = "clustercspaccounts")]
[EntityScope(EntityScope.Cluster)]
[ShortName("ccsp")]
[Categories("xks")]
[PrinterColumn("Region", "string", ".spec.region", Description = "AWS region")]
[PrinterColumn("Account", "string", ".status.accountId", Description = "AWS account the credentials belong to")]
[PrinterColumn("Ready", "string", ".status.conditions[?(@.type==\"Ready\")].status", Description = "Whether the credentials work")]
[PrinterColumn("Reason", "string", ".status.conditions[?(@.type==\"Ready\")].reason", 1, Description = "Why the resource is or is not ready")]
[PrinterColumn("Age", "date", ".metadata.creationTimestamp")]
[Description("A ClusterCspAccount is an AWS account and region a platform team shares with the namespaces its namespaceSelector selects: their KeySets refer to it with cspAccountRef.kind ClusterCspAccount, without holding its credentials. It is the one kind that may use the operator's own AWS identity (credentials.source Default). Its credentials Secret lives in the operator's cluster resource namespace.")]
public sealed class V1Alpha1ClusterCspAccount : CustomResource<V1Alpha1ClusterCspAccountSpec, V1Alpha1CspAccountStatus>;

public sealed class V1Alpha1ClusterCspAccountList : CustomResourceList<V1Alpha1ClusterCspAccount>;

[Description("Desired state of the ClusterCspAccount: a CspAccount's fields, and which namespaces may use it.")]
public sealed class V1Alpha1ClusterCspAccountSpec : V1Alpha1CspAccountSpec
{
    [JsonPropertyName("namespaceSelector")]
    [Required]
    [PreserveUnknownFields]
    [Description("The namespaces whose KeySets may use this account (meta/v1 LabelSelector on the Namespace's labels, e.g. matchLabels: {kubernetes.io/metadata.name: team-a}). Required; {} selects every namespace. A KeySet in a namespace it does not select reports Ready=False reason NotAllowed, and nothing is called in AWS for it.")]
    public V1LabelSelector NamespaceSelector { get; set; } = new();
}
