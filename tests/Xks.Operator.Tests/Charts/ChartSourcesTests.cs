using System.Text.Json;
using System.Text.RegularExpressions;
using Xks.Testing;

namespace Xks.Operator.Charts.Tests;

/// <summary>
/// The chart's files agree with their sources: the CRDs with config/crd/bases, values.yaml with its documentation,
/// values.schema.json and the README (the Argo CD snippet is checked by ArgoCdHealthTests).
/// </summary>
public sealed partial class ChartSourcesTests
{
    [Fact]
    public void Crds_ChartCopies_EqualConfigCrdBases()
    {
        var sources = Directory.GetFiles(HelmChart.CrdSourceDirectory, "*.yaml").Select(Path.GetFileName).Order().ToList();
        var copies = Directory.GetFiles(HelmChart.ChartCrdDirectory, "*.yaml").Select(Path.GetFileName).Order().ToList();

        Assert.NotEmpty(sources);
        Assert.True(sources.SequenceEqual(copies), "chart CRDs differ from config/crd/bases: run scripts/sync-chart-crds.sh (make manifests)");
        foreach (var name in sources)
        {
            Assert.True(
                File.ReadAllText(Path.Combine(HelmChart.CrdSourceDirectory, name!)) == File.ReadAllText(Path.Combine(HelmChart.ChartCrdDirectory, name!)),
                $"charts/xks-operator/files/crds/{name} is stale: run scripts/sync-chart-crds.sh (make manifests)");
        }
    }

    [Fact]
    public async Task SyncScript_Check_ReportsTheChartUpToDate()
    {
        var result = await LocalCluster.RunAsync(Path.Combine(LocalCluster.RepositoryRoot, "scripts", "sync-chart-crds.sh"), "--check");

        Assert.True(result.ExitCode == 0, result.Output);
    }

    [Fact]
    public void ValuesYaml_EveryKey_IsDocumentedInSchemaAndReadme()
    {
        var keys = DocumentedValueKeys(File.ReadAllLines(Path.Combine(HelmChart.Directory, "values.yaml")));
        using var schema = JsonDocument.Parse(File.ReadAllText(Path.Combine(HelmChart.Directory, "values.schema.json")));
        var readme = File.ReadAllText(Path.Combine(HelmChart.Directory, "README.md"));

        Assert.Contains("replicaCount", keys);
        Assert.Contains("monitoring.serviceMonitor.enabled", keys);
        Assert.Contains("monitoring.prometheusRule.enabled", keys);
        foreach (var key in keys)
        {
            Assert.True(SchemaHas(schema.RootElement, key), $"values.schema.json does not declare '{key}'");
            Assert.True(readme.Contains($"| `{key}` |", StringComparison.Ordinal), $"README.md's values table lacks '{key}'");
        }
    }

    [Fact]
    public void ValuesSchema_TopLevelSections_RejectUnknownKeys()
    {
        using var schema = JsonDocument.Parse(File.ReadAllText(Path.Combine(HelmChart.Directory, "values.schema.json")));
        var root = schema.RootElement;

        Assert.Equal("http://json-schema.org/draft-07/schema#", root.GetProperty("$schema").GetString());
        Assert.False(root.GetProperty("additionalProperties").GetBoolean());
        foreach (var section in root.GetProperty("properties").EnumerateObject())
        {
            var resolved = Resolve(root, section.Value);
            if (resolved.TryGetProperty("properties", out _))
            {
                Assert.True(
                    resolved.TryGetProperty("additionalProperties", out var additional) && additional.ValueKind == JsonValueKind.False,
                    $"section '{section.Name}' accepts unknown keys");
            }
        }
    }

    /// <summary>
    /// The dotted paths of the documented keys in values.yaml, helm-docs style: a key is documented by a "# --"
    /// comment block right above it, which also covers everything nested under it (e.g. resources.requests.cpu).
    /// A key without such a comment is a section, and then each key under it must be documented. Fails on a leaf
    /// that nothing documents.
    /// </summary>
    private static List<string> DocumentedValueKeys(string[] lines)
    {
        var documented = new List<string>();
        var stack = new List<(int Indent, string Key, bool Documented)>();
        var commentAbove = false;
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            var trimmed = line.TrimStart();
            if (trimmed.StartsWith("# --", StringComparison.Ordinal))
            {
                commentAbove = true;
                continue;
            }

            if (trimmed.StartsWith('#'))
            {
                continue;
            }

            if (trimmed.Length == 0)
            {
                commentAbove = false;
                continue;
            }

            var match = KeyLine().Match(line);
            var indent = line.Length - trimmed.Length;
            while (stack.Count > 0 && stack[^1].Indent >= indent)
            {
                stack.RemoveAt(stack.Count - 1);
            }

            if (!match.Success || stack.Any(s => s.Documented))
            {
                commentAbove = false;
                continue;
            }

            var path = string.Join('.', stack.Select(s => s.Key).Append(match.Groups["key"].Value));
            var hasInlineValue = match.Groups["value"].Value.Trim().Length > 0;
            Assert.True(commentAbove || !hasInlineValue, $"values.yaml line {i + 1}: '{path}' has no '# --' comment above it");
            if (commentAbove)
            {
                documented.Add(path);
            }

            stack.Add((indent, match.Groups["key"].Value, commentAbove));
            commentAbove = false;
        }

        return documented;
    }

    private static bool SchemaHas(JsonElement root, string dottedPath)
    {
        var node = root;
        foreach (var part in dottedPath.Split('.'))
        {
            node = Resolve(root, node);
            if (!node.TryGetProperty("properties", out var properties) || !properties.TryGetProperty(part, out node))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Follows "$ref" and the first "$ref" of an "allOf".</summary>
    private static JsonElement Resolve(JsonElement root, JsonElement node)
    {
        if (node.TryGetProperty("allOf", out var allOf))
        {
            node = allOf.EnumerateArray().First();
        }

        if (node.TryGetProperty("$ref", out var reference))
        {
            var name = reference.GetString()!.Split('/')[^1];
            return root.GetProperty("definitions").GetProperty(name);
        }

        return node;
    }

    [GeneratedRegex(@"^\s*(?<key>[A-Za-z][A-Za-z0-9_]*):(?<value>.*)$")]
    private static partial Regex KeyLine();
}
