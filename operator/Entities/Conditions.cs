namespace Xks.Operator.Entities;

/// <summary>Helpers over a status's condition list (the equivalent of apimachinery's meta.SetStatusCondition).</summary>
public static class Conditions
{
    /// <summary>
    /// Adds or updates the condition of <paramref name="type"/>. <c>lastTransitionTime</c> moves (to now, whole
    /// seconds, UTC) only when the status changes; reason, message and observedGeneration are always updated. An empty
    /// message is stored as null.
    /// </summary>
    /// <returns>true when anything in the list changed.</returns>
    public static bool Set(
        IList<V1Alpha1Condition> conditions,
        string type,
        string status,
        string reason,
        string? message,
        long? observedGeneration,
        TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(conditions);
        ArgumentException.ThrowIfNullOrEmpty(type);
        ArgumentException.ThrowIfNullOrEmpty(reason);
        ArgumentNullException.ThrowIfNull(timeProvider);
        if (status is not (ConditionStatus.True or ConditionStatus.False or ConditionStatus.Unknown))
        {
            throw new ArgumentOutOfRangeException(nameof(status), status, "status must be True, False or Unknown");
        }

        var existing = Get(conditions, type);
        if (existing is null)
        {
            conditions.Add(new V1Alpha1Condition
            {
                Type = type,
                Status = status,
                Reason = reason,
                Message = NullIfEmpty(message),
                ObservedGeneration = observedGeneration,
                LastTransitionTime = Now(timeProvider),
            });
            return true;
        }

        var changed = false;
        if (existing.Status != status)
        {
            existing.Status = status;
            existing.LastTransitionTime = Now(timeProvider);
            changed = true;
        }

        if (existing.Reason != reason)
        {
            existing.Reason = reason;
            changed = true;
        }

        if (NullIfEmpty(existing.Message) != NullIfEmpty(message))
        {
            existing.Message = NullIfEmpty(message);
            changed = true;
        }

        if (existing.ObservedGeneration != observedGeneration)
        {
            existing.ObservedGeneration = observedGeneration;
            changed = true;
        }

        return changed;
    }

    /// <summary>The condition of <paramref name="type"/>, or null.</summary>
    public static V1Alpha1Condition? Get(IEnumerable<V1Alpha1Condition>? conditions, string type) =>
        conditions?.FirstOrDefault(c => string.Equals(c.Type, type, StringComparison.Ordinal));

    /// <summary>Whether the condition of <paramref name="type"/> exists with status True.</summary>
    public static bool IsTrue(IEnumerable<V1Alpha1Condition>? conditions, string type) =>
        Get(conditions, type)?.Status == ConditionStatus.True;

    /// <summary>Removes the condition of <paramref name="type"/>; true if there was one.</summary>
    public static bool Remove(IList<V1Alpha1Condition> conditions, string type)
    {
        ArgumentNullException.ThrowIfNull(conditions);
        var existing = Get(conditions, type);
        return existing is not null && conditions.Remove(existing);
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private static DateTime Now(TimeProvider timeProvider) => Truncate(timeProvider.GetUtcNow());

    /// <summary><paramref name="time"/> in UTC to whole seconds, as status timestamps are stored (RFC 3339).</summary>
    public static DateTime Truncate(DateTimeOffset time)
    {
        var utc = time.UtcDateTime;
        return new DateTime(utc.Ticks - (utc.Ticks % TimeSpan.TicksPerSecond), DateTimeKind.Utc);
    }
}
