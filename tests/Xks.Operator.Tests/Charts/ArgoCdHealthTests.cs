using Xks.Testing;

namespace Xks.Operator.Charts.Tests;

/// <summary>
/// charts/xks-operator/argocd/health.lua run by Lua 5.1 (the language of Argo CD's gopher-lua) against sample
/// objects. Argo CD hands the script the object as the global <c>obj</c> and reads the returned table; the harness
/// does the same with lua-cjson. Needs the Debian packages lua5.1 and lua-cjson (make deps).
/// </summary>
public sealed class ArgoCdHealthTests
{
    private const string Harness = """
        local cjson = require("cjson")
        local function strip(v)
          if v == cjson.null then return nil end
          if type(v) == "table" then for k, x in pairs(v) do v[k] = strip(x) end end
          return v
        end
        obj = strip(cjson.decode(io.read("*a")))
        local hs = assert(loadfile(arg[1]))()
        io.write(hs.status, "\n", hs.message or "", "\n")
        """;

    private static string Script => Path.Combine(HelmChart.Directory, "argocd", "health.lua");

    [Theory]
    [InlineData("""{"metadata":{"generation":1}}""", "Progressing", "Waiting for the operator to report status")]
    [InlineData("""{"metadata":{"generation":1},"status":{}}""", "Progressing", "Waiting for the operator to observe generation 1")]
    [InlineData("""{"metadata":{"generation":3},"status":{"observedGeneration":2,"conditions":[{"type":"Ready","status":"True","reason":"Ready","message":"ok","observedGeneration":2}]}}""",
        "Progressing", "Waiting for the operator to observe generation 3")]
    [InlineData("""{"metadata":{"generation":3},"status":{"observedGeneration":3,"conditions":[{"type":"Ready","status":"True","reason":"Ready","message":"ok","observedGeneration":2}]}}""",
        "Progressing", "Waiting for the Ready condition of generation 3")]
    [InlineData("""{"metadata":{"generation":2},"status":{"observedGeneration":2,"conditions":[{"type":"ProxyAvailable","status":"True"}]}}""",
        "Progressing", "Waiting for the Ready condition")]
    [InlineData("""{"metadata":{"generation":2},"status":{"observedGeneration":2,"conditions":[{"type":"ProxyAvailable","status":"False"},{"type":"Ready","status":"True","reason":"Ready","message":"2/2 proxies ready","observedGeneration":2}]}}""",
        "Healthy", "2/2 proxies ready")]
    [InlineData("""{"metadata":{"generation":2},"status":{"observedGeneration":2,"conditions":[{"type":"Ready","status":"True","reason":"Ready","observedGeneration":2}]}}""",
        "Healthy", "Ready")]
    [InlineData("""{"metadata":{"generation":1},"status":{"observedGeneration":1,"conditions":[{"type":"Ready","status":"False","reason":"InvalidSpec","message":"replicas 1 needs allowSingleReplica","observedGeneration":1}]}}""",
        "Degraded", "replicas 1 needs allowSingleReplica")]
    [InlineData("""{"metadata":{"generation":1},"status":{"observedGeneration":1,"conditions":[{"type":"Ready","status":"False","reason":"MasterKeyInvalid","message":"master.key is not 32 bytes","observedGeneration":1}]}}""",
        "Degraded", "master.key is not 32 bytes")]
    [InlineData("""{"metadata":{"generation":1},"status":{"observedGeneration":1,"conditions":[{"type":"Ready","status":"False","reason":"CertificatePending","observedGeneration":1}]}}""",
        "Progressing", "CertificatePending")]
    [InlineData("""{"metadata":{"generation":1},"status":{"observedGeneration":1,"conditions":[{"type":"Ready","status":"False","reason":"ProxyUnavailable","message":"0/2 proxies ready","observedGeneration":1}]}}""",
        "Progressing", "0/2 proxies ready")]
    [InlineData("""{"metadata":{"generation":1},"status":{"observedGeneration":1,"conditions":[{"type":"Ready","status":"Unknown","reason":"Reconciling","message":"","observedGeneration":1}]}}""",
        "Progressing", "Reconciling")]
    [InlineData("""{"metadata":{"generation":1,"deletionTimestamp":"2025-01-01T00:00:00Z","finalizers":["xks.dev/finalizer"]},"status":{"observedGeneration":1,"conditions":[{"type":"Ready","status":"True"}]}}""",
        "Progressing", "Pending deletion; blocked by finalizers: xks.dev/finalizer")]
    [InlineData("""{"metadata":{"generation":1,"deletionTimestamp":"2025-01-01T00:00:00Z"}}""", "Progressing", "Pending deletion")]
    [InlineData("""{"metadata":{"generation":1,"annotations":null},"status":{"observedGeneration":1,"conditions":[{"type":"Ready","status":"True","observedGeneration":null}]}}""",
        "Healthy", "Ready")]
    public async Task HealthScript_SampleObject_ReturnsStatusAndMessage(string json, string expectedStatus, string expectedMessage)
    {
        var (status, message) = await RunAsync(json);

        Assert.Equal(expectedStatus, status);
        Assert.Equal(expectedMessage, message);
    }

    [Theory]
    [InlineData("Vault")]
    [InlineData("CspAccount")]
    [InlineData("KeySet")]
    [InlineData("CloudKey")]
    public async Task HealthScript_EveryKind_ReadyTrueIsHealthy(string kind)
    {
        var json = $$$"""
            {"apiVersion":"xks.dev/v1alpha1","kind":"{{{kind}}}","metadata":{"name":"a","namespace":"b","generation":4},
             "spec":{},"status":{"observedGeneration":4,"conditions":[{"type":"Ready","status":"True","reason":"Ready","message":"{{{kind}}} ready","observedGeneration":4}]}}
            """;

        Assert.Equal(("Healthy", kind + " ready"), await RunAsync(json));
    }

    private static async Task<(string Status, string Message)> RunAsync(string json)
    {
        var harness = Path.Combine(Path.GetTempPath(), $"xks-argocd-harness-{Guid.NewGuid():N}.lua");
        await File.WriteAllTextAsync(harness, Harness);
        try
        {
            CommandResult result;
            try
            {
                result = await LocalCluster.RunAsync("lua5.1", $"{harness} {Script}", json);
            }
            catch (System.ComponentModel.Win32Exception ex)
            {
                throw new InvalidOperationException("lua5.1 is not installed: apt-get install lua5.1 lua-cjson (make deps)", ex);
            }

            Assert.True(result.ExitCode == 0, result.Output);
            var lines = result.StandardOutput.Split('\n');
            return (lines[0], lines[1]);
        }
        finally
        {
            File.Delete(harness);
        }
    }
}
