using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json.Nodes;
using k8s;
using Xks.Operator.Entities;
using YamlDotNet.Serialization;

namespace Xks.Operator.Resources.Tests;

/// <summary>Sample Vaults and golden files under Resources/testdata (read from the source tree).</summary>
internal static class ResourceTestSupport
{
    /// <summary>Set UPDATE_GOLDEN=1 to rewrite the golden files from the current output instead of comparing.</summary>
    public const string UpdateVariable = "UPDATE_GOLDEN";

    private static readonly IDeserializer YamlReader = new DeserializerBuilder()
        .WithAttemptingUnquotedStringTypeDeserialization()
        .Build();

    private static readonly ISerializer JsonWriter = new SerializerBuilder().JsonCompatible().Build();

    private static readonly ISerializer YamlWriter = new SerializerBuilder()
        .WithQuotingNecessaryStrings()
        .DisableAliases()
        .Build();

    public static string TestDataDirectory([CallerFilePath] string thisFile = "") =>
        Path.Combine(Path.GetDirectoryName(thisFile)!, "testdata");

    /// <summary>A Vault from testdata/&lt;name&gt;.vault.yaml, read the way the API delivers it (YAML → JSON → entity).</summary>
    public static V1Alpha1Vault LoadVault(string name) => LoadVaultFile(Path.Combine(TestDataDirectory(), name + ".vault.yaml"));

    /// <summary>config/samples/xks.dev_v1alpha1_vault.yaml of the repository, with the uid the API server would add.</summary>
    public static V1Alpha1Vault LoadRepositorySample()
    {
        var vault = LoadVaultFile(Path.Combine(TestDataDirectory(), "..", "..", "..", "..", "config", "samples", "xks.dev_v1alpha1_vault.yaml"));
        vault.Metadata.NamespaceProperty ??= "default";
        vault.Metadata.Uid ??= "00000000-0000-0000-0000-000000000001";
        return vault;
    }

    private static V1Alpha1Vault LoadVaultFile(string path)
    {
        var yaml = File.ReadAllText(path);
        var tree = YamlReader.Deserialize<object>(yaml);
        var json = JsonWriter.Serialize(tree);
        return KubernetesJson.Deserialize<V1Alpha1Vault>(json);
    }

    /// <summary>A minimal valid Vault (Ingress, issuerRef) for focused tests.</summary>
    public static V1Alpha1Vault MinimalVault(Action<V1Alpha1VaultSpec>? configure = null)
    {
        var vault = new V1Alpha1Vault
        {
            Metadata = new() { Name = "demo", NamespaceProperty = "ns1", Uid = "11111111-2222-3333-4444-555555555555" },
            Spec = new V1Alpha1VaultSpec
            {
                Hostname = "xks.demo.example.com",
                Tls = new V1Alpha1VaultTls { IssuerRef = new V1Alpha1IssuerReference { Name = "acme" } },
            },
        };
        configure?.Invoke(vault.Spec);
        return vault;
    }

    /// <summary>Objects as the operator sends them (KubernetesJson), rendered as a multi-document YAML for reading.</summary>
    public static string ToYaml(IEnumerable<object> objects)
    {
        var text = new StringBuilder();
        foreach (var item in objects)
        {
            var node = JsonNode.Parse(KubernetesJson.Serialize(item));
            text.Append("---\n").Append(YamlWriter.Serialize(ToPlain(node)!));
        }

        return text.ToString().Replace("\r\n", "\n", StringComparison.Ordinal);
    }

    private static object? ToPlain(JsonNode? node) => node switch
    {
        null => null,
        JsonObject obj => obj.ToDictionary(p => p.Key, p => ToPlain(p.Value)),
        JsonArray array => array.Select(ToPlain).ToList(),
        JsonValue value when value.TryGetValue<bool>(out var b) => b,
        JsonValue value when value.TryGetValue<long>(out var l) => l,
        JsonValue value when value.TryGetValue<double>(out var d) => d,
        JsonValue value => value.GetValue<string>(),
        _ => throw new InvalidOperationException(node.GetType().Name),
    };

    /// <summary>Compares <paramref name="actual"/> with testdata/<paramref name="fileName"/>, or rewrites it under UPDATE_GOLDEN=1.</summary>
    public static void AssertGolden(string fileName, string actual)
    {
        var path = Path.Combine(TestDataDirectory(), fileName);
        if (Environment.GetEnvironmentVariable(UpdateVariable) == "1")
        {
            File.WriteAllText(path, actual);
            return;
        }

        Assert.True(File.Exists(path), $"Golden file {path} is missing; run the tests with {UpdateVariable}=1 to create it.");
        var expected = File.ReadAllText(path).Replace("\r\n", "\n", StringComparison.Ordinal);
        if (expected != actual)
        {
            var expectedLines = expected.Split('\n');
            var actualLines = actual.Split('\n');
            var line = 0;
            while (line < Math.Min(expectedLines.Length, actualLines.Length) && expectedLines[line] == actualLines[line])
            {
                line++;
            }

            Assert.Fail(
                $"{fileName} differs from the output at line {line + 1}:\n  expected: {(line < expectedLines.Length ? expectedLines[line] : "<end>")}\n" +
                $"  actual:   {(line < actualLines.Length ? actualLines[line] : "<end>")}\nIf the change is intended, run the tests with {UpdateVariable}=1 and review the diff.");
        }
    }
}
