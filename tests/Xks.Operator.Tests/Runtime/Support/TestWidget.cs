using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace Xks.Operator.Runtime.Support.Tests;

/// <summary>A tiny custom resource for runtime tests (never installed in a cluster).</summary>
[KubernetesEntity(Group = "test.xks.dev", ApiVersion = "v1", Kind = "Widget", PluralName = "widgets")]
public sealed class TestWidget : IKubernetesObject<V1ObjectMeta>
{
    [JsonPropertyName("apiVersion")]
    public string ApiVersion { get; set; } = "test.xks.dev/v1";

    [JsonPropertyName("kind")]
    public string Kind { get; set; } = "Widget";

    [JsonPropertyName("metadata")]
    public V1ObjectMeta Metadata { get; set; } = new();

    [JsonPropertyName("size")]
    public int Size { get; set; }

    public static TestWidget Create(string ns, string name, int size = 1) =>
        new() { Metadata = new V1ObjectMeta { NamespaceProperty = ns, Name = name, Uid = Guid.NewGuid().ToString() }, Size = size };
}
