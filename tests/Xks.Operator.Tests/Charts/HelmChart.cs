using k8s;
using k8s.Models;
using Xks.Testing;

namespace Xks.Operator.Charts.Tests;

/// <summary>Paths of the chart and the sources it is checked against, and <c>helm template</c> parsed into objects.</summary>
internal static class HelmChart
{
    public const string ReleaseNamespace = "xks-system";

    public static string Directory => Path.Combine(LocalCluster.RepositoryRoot, "charts", "xks-operator");

    public static string CrdSourceDirectory => Path.Combine(LocalCluster.RepositoryRoot, "config", "crd", "bases");

    public static string ChartCrdDirectory => Path.Combine(Directory, "files", "crds");

    private static readonly Lazy<string> HelmPath = new(FindHelm, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>
    /// Runs helm without a cluster (lint, template): the binary comes from <c>tests/cluster/cluster.sh tools</c>
    /// (cached after the first run), and the control plane is not started.
    /// </summary>
    public static Task<CommandResult> HelmAsync(string arguments) => LocalCluster.RunAsync(HelmPath.Value, arguments);

    /// <summary>Runs <c>helm template</c> for release <paramref name="release"/> with extra arguments (e.g. --set).</summary>
    public static Task<CommandResult> TemplateAsync(string release, string arguments = "") =>
        HelmAsync($"template {release} {Directory} --namespace {ReleaseNamespace} {arguments}");

    /// <summary>Renders the chart and parses every document.</summary>
    public static async Task<RenderedChart> RenderAsync(string arguments = "", string release = "xks")
    {
        var result = (await TemplateAsync(release, arguments)).EnsureSuccess("helm template");
        return RenderedChart.Parse(result.StandardOutput);
    }

    private static string FindHelm()
    {
        var script = Path.Combine(LocalCluster.RepositoryRoot, "tests", "cluster", "cluster.sh");
        LocalCluster.RunAsync(script, "tools").GetAwaiter().GetResult().EnsureSuccess("cluster.sh tools");
        var env = LocalCluster.RunAsync(script, "env").GetAwaiter().GetResult().EnsureSuccess("cluster.sh env");
        var path = env.StandardOutput.Split('\n').First(l => l.StartsWith("export PATH=", StringComparison.Ordinal))["export PATH=".Length..];
        var bin = path[..path.IndexOf(":$PATH", StringComparison.Ordinal)].Trim('\'', '"');
        return System.IO.Path.Combine(bin, "helm");
    }
}

/// <summary>apiVersion, kind and metadata of any object.</summary>
internal sealed class ObjectHeader : IKubernetesObject<V1ObjectMeta>
{
    public string ApiVersion { get; set; } = "";

    public string Kind { get; set; } = "";

    public V1ObjectMeta Metadata { get; set; } = new();
}

/// <summary>One rendered document: its kind, name, namespace and YAML text.</summary>
internal sealed record RenderedObject(string ApiVersion, string Kind, string Name, string? Namespace, string Yaml)
{
    public T As<T>() => KubernetesYaml.Deserialize<T>(Yaml);

    /// <summary>The object as JSON, for kinds without a model (every scalar a string, see <see cref="YamlJson"/>).</summary>
    public System.Text.Json.Nodes.JsonNode Node() => YamlJson.Parse(Yaml);
}

/// <summary>The documents of a <c>helm template</c> run.</summary>
internal sealed class RenderedChart(IReadOnlyList<RenderedObject> objects)
{
    public IReadOnlyList<RenderedObject> Objects { get; } = objects;

    public static RenderedChart Parse(string output)
    {
        var objects = new List<RenderedObject>();
        var documents = System.Text.RegularExpressions.Regex.Split(output, "^---[ \t]*$", System.Text.RegularExpressions.RegexOptions.Multiline);
        foreach (var document in documents)
        {
            if (string.IsNullOrWhiteSpace(document) || document.Split('\n').All(l => l.TrimStart().StartsWith('#') || string.IsNullOrWhiteSpace(l)))
            {
                continue;
            }

            var meta = KubernetesYaml.Deserialize<ObjectHeader>(document);
            objects.Add(new RenderedObject(meta.ApiVersion, meta.Kind, meta.Metadata.Name, meta.Metadata.NamespaceProperty, document));
        }

        return new RenderedChart(objects);
    }

    public IEnumerable<RenderedObject> OfKind(string kind) => Objects.Where(o => o.Kind == kind);

    public T Single<T>(string kind) => Assert.Single(OfKind(kind)).As<T>();

    public IReadOnlyList<T> All<T>(string kind) => OfKind(kind).Select(o => o.As<T>()).ToList();
}

/// <summary>YAML as JSON with YamlDotNet: maps, lists and scalars, every scalar as a string (so two YAML texts compare by content).</summary>
internal static class YamlJson
{
    public static System.Text.Json.Nodes.JsonNode Parse(string yaml)
    {
        var value = new YamlDotNet.Serialization.DeserializerBuilder().Build().Deserialize<object>(yaml);
        var json = new YamlDotNet.Serialization.SerializerBuilder().JsonCompatible().Build().Serialize(value);
        return System.Text.Json.Nodes.JsonNode.Parse(json)!;
    }
}
