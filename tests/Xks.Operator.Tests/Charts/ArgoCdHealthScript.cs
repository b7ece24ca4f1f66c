using Xks.Testing;

namespace Xks.Operator.Charts.Tests;

/// <summary>
/// Runs charts/xks-operator/argocd/health-&lt;kind&gt;.lua with Debian's Lua 5.1 (the language of Argo CD's
/// gopher-lua) the way Argo CD does: the object as the global <c>obj</c> (decoded by lua-cjson, JSON nulls dropped as
/// Argo CD's conversion drops them), the returned table's <c>status</c> and <c>message</c> read back.
/// Needs the Debian packages lua5.1 and lua-cjson (make deps).
/// </summary>
internal static class ArgoCdHealthScript
{
    public static readonly string[] Kinds = ["Vault", "CspAccount", "ClusterCspAccount", "KeySet", "CloudKey"];

    private const string Harness = """
        local cjson = require("cjson")
        local function strip(v)
          if v == cjson.null then return nil end
          if type(v) == "table" then for k, x in pairs(v) do v[k] = strip(x) end end
          return v
        end
        obj = strip(cjson.decode(io.read("*a")))
        local hs = assert(loadfile(arg[1]))()
        io.write(hs.status, "\n", (string.gsub(hs.message or "", "\n", " ")), "\n")
        """;

    public static string Directory => Path.Combine(HelmChart.Directory, "argocd");

    /// <summary>The script of <paramref name="kind"/> (Vault → health-vault.lua).</summary>
    public static string PathOf(string kind) => Path.Combine(Directory, $"health-{kind.ToLowerInvariant()}.lua");

    /// <summary>Argo CD's verdict on <paramref name="json"/> (one object, as <c>kubectl get -o json</c> prints it).</summary>
    public static async Task<(string Status, string Message)> RunAsync(string kind, string json)
    {
        var harness = Path.Combine(Path.GetTempPath(), $"xks-argocd-harness-{Guid.NewGuid():N}.lua");
        await File.WriteAllTextAsync(harness, Harness);
        try
        {
            CommandResult result;
            try
            {
                result = await LocalCluster.RunAsync("lua5.1", $"{harness} {PathOf(kind)}", json);
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
