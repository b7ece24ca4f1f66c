namespace Xks.Proxy.Benchmarks;

/// <summary>One complete POST to replay: its target, every header exactly as sent (Host, Content-Type, SigV4) and the body.</summary>
internal sealed record PreparedRequest(Uri Url, IReadOnlyList<KeyValuePair<string, string>> Headers, byte[] Body)
{
    /// <summary>The same headers and body sent to another server (the baseline); only Host follows the new address.</summary>
    public PreparedRequest RetargetTo(Uri url) => this with
    {
        Url = url,
        Headers = [.. Headers.Select(h => IsHost(h.Key) ? new KeyValuePair<string, string>(h.Key, url.Authority) : h)],
    };

    public static bool IsHost(string header) => header.Equals("Host", StringComparison.OrdinalIgnoreCase);

    public static bool IsContentType(string header) => header.Equals("Content-Type", StringComparison.OrdinalIgnoreCase);
}
