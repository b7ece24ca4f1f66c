using System.Globalization;

namespace Xks.KmsEmulator.Kms;

/// <summary>Limit/Marker pagination: the marker is an opaque offset into the (stable, sorted) list.</summary>
internal static class Paging
{
    public static (List<T> Items, string? NextMarker, bool Truncated) Page<T>(IReadOnlyList<T> all, int? limit, string? marker, int defaultLimit, int maxLimit)
    {
        var size = limit ?? defaultLimit;
        if (size < 1 || size > maxLimit)
        {
            throw KmsException.Validation($"1 validation error detected: Value '{size}' at 'limit' failed to satisfy constraint: Member must have value between 1 and {maxLimit}");
        }

        var start = 0;
        if (marker is not null)
        {
            if (!marker.StartsWith("offset-", StringComparison.Ordinal)
                || !int.TryParse(marker.AsSpan("offset-".Length), NumberStyles.None, CultureInfo.InvariantCulture, out start) || start > all.Count)
            {
                throw new KmsException("InvalidMarkerException", "The marker that specifies where pagination should next begin is not valid.");
            }
        }

        var items = all.Skip(start).Take(size).ToList();
        var next = start + items.Count;
        return next < all.Count ? (items, "offset-" + next.ToString(CultureInfo.InvariantCulture), true) : (items, null, false);
    }
}
