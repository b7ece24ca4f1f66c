using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Xks.Testing;

/// <summary>
/// What <c>etcdctl get --prefix</c> would print: every value under a key prefix of the local control plane's etcd, read
/// through etcd's own v3 JSON gateway (no etcdctl needed). What an attacker holding etcd, or an etcd backup, holds.
/// </summary>
public static class EtcdDump
{
    /// <summary>The etcd client port of <c>tests/cluster/cluster.sh</c> (XKS_CLUSTER_ETCD_PORT, default 12379).</summary>
    public static int Port => int.Parse(Environment.GetEnvironmentVariable("XKS_CLUSTER_ETCD_PORT") ?? "12379", CultureInfo.InvariantCulture);

    /// <summary>The raw values of every key starting with <paramref name="prefix"/>, concatenated.</summary>
    public static async Task<byte[]> ValuesAsync(string prefix)
    {
        var key = Encoding.UTF8.GetBytes(prefix);
        var end = (byte[])key.Clone();
        end[^1]++;
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{Port}") };
        using var response = await http.PostAsJsonAsync("/v3/kv/range", new Dictionary<string, string>
        {
            ["key"] = Convert.ToBase64String(key),
            ["range_end"] = Convert.ToBase64String(end),
        });
        response.EnsureSuccessStatusCode();
        using var document = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync());
        using var dump = new MemoryStream();
        if (document.RootElement.TryGetProperty("kvs", out var kvs))
        {
            foreach (var kv in kvs.EnumerateArray())
            {
                dump.Write(Convert.FromBase64String(kv.GetProperty("value").GetString()!));
            }
        }

        return dump.ToArray();
    }
}
