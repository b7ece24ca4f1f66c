using System.Text.Json;
using System.Text.RegularExpressions;
using Xks.Testing;
using YamlDotNet.RepresentationModel;

namespace Xks.Operator.Charts.Tests;

/// <summary>
/// The chart's alert rules and Grafana dashboard against promtool and against what the proxy and the operator really
/// export (<see cref="ExportedMetrics"/>): every metric a query names must be in one of the two scrapes.
/// </summary>
[Trait("Category", "Integration")]
public sealed partial class MonitoringTests(ExportedMetrics exported) : IClassFixture<ExportedMetrics>
{
    private static string AlertsFile => Path.Combine(HelmChart.Directory, "files", "alerts.yaml");

    private static string AlertsTestFile => Path.Combine(LocalCluster.RepositoryRoot, "tests", "Xks.Operator.Tests", "Charts", "alerts.test.yaml");

    private static string DashboardFile => Path.Combine(HelmChart.Directory, "files", "dashboards", "xks.json");

    [Fact]
    public async Task Promtool_CheckRules_AcceptsEveryShippedAlert()
    {
        var result = await LocalCluster.RunAsync("promtool", $"check rules {AlertsFile}");

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains($"SUCCESS: {AlertRules().Count} rules found", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Promtool_TestRules_EveryAlertFiresOnItsSyntheticSeriesAndNotOnTheHealthyOnes()
    {
        var result = await LocalCluster.RunAsync("promtool", $"test rules {AlertsTestFile}");

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains("SUCCESS", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void AlertsTestFile_CoversEveryAlertFiringAndOneQuiet()
    {
        var tests = Load(AlertsTestFile);
        var cases = ((YamlSequenceNode)tests["tests"]).Children.Cast<YamlMappingNode>()
            .SelectMany(t => ((YamlSequenceNode)t["alert_rule_test"]).Children.Cast<YamlMappingNode>())
            .Select(c => (Name: c["alertname"].ToString(), Fires: ((YamlSequenceNode)c["exp_alerts"]).Children.Count > 0))
            .ToList();

        Assert.Equal(AlertRules().Keys.Order(StringComparer.Ordinal), cases.Where(c => c.Fires).Select(c => c.Name).Distinct().Order(StringComparer.Ordinal));
        Assert.Contains(cases, c => !c.Fires);
        Assert.Equal(Path.GetFullPath(AlertsFile), Path.GetFullPath(Path.Combine(Path.GetDirectoryName(AlertsTestFile)!, ((YamlSequenceNode)tests["rule_files"]).Children.Single().ToString())));
    }

    [Fact]
    public void Alerts_EveryExpression_NamesOnlyMetricsTheProxyOrTheOperatorExports()
    {
        var exportedNames = ExportedNames();

        foreach (var (alert, expr) in AlertRules())
        {
            var names = MetricNames(expr);
            Assert.True(names.Count > 0, $"{alert}: no xks_ metric in '{expr}'");
            Assert.All(names, name => Assert.True(exportedNames.Contains(name), $"{alert} names {name}, which neither scrape has"));
        }
    }

    [Fact]
    public void Dashboard_EveryQuery_NamesOnlyMetricsTheProxyOrTheOperatorExports()
    {
        var exportedNames = ExportedNames();
        var queries = DashboardQueries();

        Assert.True(queries.Count >= 20, $"only {queries.Count} queries found");
        foreach (var (title, expr) in queries)
        {
            var names = MetricNames(expr);
            Assert.True(names.Count > 0, $"panel '{title}': no xks_ metric in '{expr}'");
            Assert.All(names, name => Assert.True(exportedNames.Contains(name), $"panel '{title}' names {name}, which neither scrape has"));
        }
    }

    [Fact]
    public void Dashboard_LatencyPanel_DrawsKmsTimeoutAsAThresholdLine()
    {
        using var dashboard = JsonDocument.Parse(File.ReadAllText(DashboardFile));
        var latency = dashboard.RootElement.GetProperty("panels").EnumerateArray()
            .Single(p => p.GetProperty("title").GetString()!.StartsWith("Latency p50 / p95 / p99", StringComparison.Ordinal));
        var defaults = latency.GetProperty("fieldConfig").GetProperty("defaults");

        Assert.Equal("s", defaults.GetProperty("unit").GetString());
        Assert.Equal("line", defaults.GetProperty("custom").GetProperty("thresholdsStyle").GetProperty("mode").GetString());
        Assert.Contains(defaults.GetProperty("thresholds").GetProperty("steps").EnumerateArray(), s => s.GetProperty("value").ValueKind == JsonValueKind.Number && s.GetProperty("value").GetDouble() == 0.25);
        Assert.Equal(["p50", "p95", "p99"], latency.GetProperty("targets").EnumerateArray().Select(t => t.GetProperty("legendFormat").GetString()));
    }

    [Fact]
    public void Dashboard_Panels_HaveUniqueIdsAndUseTheDatasourceVariable()
    {
        using var dashboard = JsonDocument.Parse(File.ReadAllText(DashboardFile));
        var panels = dashboard.RootElement.GetProperty("panels").EnumerateArray().ToList();

        Assert.Equal(panels.Count, panels.Select(p => p.GetProperty("id").GetInt32()).Distinct().Count());
        Assert.All(panels.Where(p => p.GetProperty("type").GetString() != "row"),
            p => Assert.Equal("${datasource}", p.GetProperty("datasource").GetProperty("uid").GetString()));
        Assert.Equal("xks-operator", dashboard.RootElement.GetProperty("uid").GetString());
    }

    [Fact]
    public void ProxyScrape_AfterTheRequests_CountsThemWithTheirOutcomes()
    {
        Assert.Equal([200, 200], exported.ProxyAnswers.Take(2));
        Assert.All(exported.ProxyAnswers.Skip(2), status => Assert.InRange(status, 400, 499));
        Assert.Equal(1, exported.Proxy.Sample("xks_requests_total{operation=\"Encrypt\",outcome=\"Success\"}"));
        Assert.Equal(1, exported.Proxy.Sample("xks_requests_total{operation=\"GetHealthStatus\",outcome=\"Success\"}"));
        Assert.Equal(2, exported.Proxy.SeriesOf("xks_requests_total").Where(s => !s.Contains("outcome=\"Success\"", StringComparison.Ordinal)).Sum(s => exported.Proxy.Samples[s]));
        Assert.Equal(2, exported.Proxy.Sample("xks_request_duration_seconds_count{operation=\"Encrypt\"}"));
        Assert.Equal("histogram", exported.Proxy.Families["xks_request_duration_seconds"]);
    }

    [Fact]
    public void OperatorScrape_ReportsTheListedResourcesFromTheInformers()
    {
        var scrape = exported.Operator;

        Assert.Equal(1, scrape.Sample("xks_resource_condition{kind=\"KeySet\",namespace=\"team-a\",name=\"ks\",condition=\"Ready\",status=\"True\"}"));
        Assert.Equal(1, scrape.Sample("xks_resource_condition{kind=\"Vault\",namespace=\"team-a\",name=\"v\",condition=\"ProxyAvailable\",status=\"False\"}"));
        Assert.Equal(1, scrape.Sample("xks_keyset_connection_state{namespace=\"team-a\",name=\"ks\",state=\"CONNECTED\"}"));
        Assert.Equal(new DateTimeOffset(2026, 1, 2, 0, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds(), scrape.Sample("xks_keyset_credential_next_rotation_timestamp_seconds{namespace=\"team-a\",name=\"ks\"}"));
        Assert.Equal(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds(), scrape.Sample("xks_cloudkey_expiration_timestamp_seconds{namespace=\"team-a\",name=\"ck\"}"));
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds(), scrape.Sample("xks_cloudkey_next_rotation_timestamp_seconds{namespace=\"team-a\",name=\"ck\"}"));
        Assert.Equal("gauge", scrape.Families["xks_operator_leader"]);
    }

    /// <summary>Every name a query may use: the families of both scrapes, with _bucket, _sum and _count of histograms.</summary>
    private HashSet<string> ExportedNames() => [.. exported.Proxy.QueryableNames, .. exported.Operator.QueryableNames];

    /// <summary>The xks_ metric names in a PromQL expression (string literals, where label values live, left out).</summary>
    private static HashSet<string> MetricNames(string expr) =>
        [.. MetricName().Matches(StringLiteral().Replace(expr, "\"\"")).Select(m => m.Value)];

    private static Dictionary<string, string> AlertRules() =>
        ((YamlSequenceNode)Load(AlertsFile)["groups"]).Children.Cast<YamlMappingNode>()
            .SelectMany(g => ((YamlSequenceNode)g["rules"]).Children.Cast<YamlMappingNode>())
            .ToDictionary(r => r["alert"].ToString(), r => r["expr"].ToString(), StringComparer.Ordinal);

    /// <summary>(panel title, expr) of every panel target, and (variable name, query) of every query variable.</summary>
    private static List<(string Title, string Expr)> DashboardQueries()
    {
        using var dashboard = JsonDocument.Parse(File.ReadAllText(DashboardFile));
        var queries = new List<(string, string)>();
        foreach (var panel in dashboard.RootElement.GetProperty("panels").EnumerateArray())
        {
            if (panel.TryGetProperty("targets", out var targets))
            {
                queries.AddRange(targets.EnumerateArray().Select(t => (panel.GetProperty("title").GetString()!, t.GetProperty("expr").GetString()!)));
            }
        }

        foreach (var variable in dashboard.RootElement.GetProperty("templating").GetProperty("list").EnumerateArray().Where(v => v.GetProperty("type").GetString() == "query"))
        {
            queries.Add(("$" + variable.GetProperty("name").GetString(), variable.GetProperty("query").GetProperty("query").GetString()!));
        }

        return queries;
    }

    private static YamlMappingNode Load(string path)
    {
        var stream = new YamlStream();
        using var reader = new StreamReader(path);
        stream.Load(reader);
        return (YamlMappingNode)stream.Documents[0].RootNode;
    }

    [GeneratedRegex(@"(?<![\w$])xks_[a-z0-9_]+")]
    private static partial Regex MetricName();

    [GeneratedRegex("\"(?:[^\"\\\\]|\\\\.)*\"")]
    private static partial Regex StringLiteral();
}
