namespace Xks.Operator.Resources;

/// <summary>String maps (annotations, node selectors) in a stable, ordinal key order.</summary>
internal static class Annotations
{
    public static Dictionary<string, string> Sorted(IEnumerable<KeyValuePair<string, string>> values)
    {
        var sorted = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in values.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            sorted[key] = value;
        }

        return sorted;
    }

    /// <summary>The user's map overlaid by the operator's: the operator's keys always win. Null when empty.</summary>
    public static Dictionary<string, string>? Merge(IEnumerable<KeyValuePair<string, string>>? user, IDictionary<string, string>? own)
    {
        var merged = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in user ?? [])
        {
            merged[key] = value;
        }

        foreach (var (key, value) in own ?? new Dictionary<string, string>())
        {
            merged[key] = value;
        }

        return merged.Count == 0 ? null : Sorted(merged);
    }
}
