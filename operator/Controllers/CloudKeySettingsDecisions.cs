using Xks.Operator.Entities;
using Xks.Operator.Resources;

namespace Xks.Operator.Controllers;

/// <summary>
/// The settings a CloudKey writes onto its KMS key: the alias (valid, attached, removed), the description, the rotation
/// it follows and the user tags (valid, added, removed).
/// </summary>
internal static class CloudKeySettingsDecisions
{
    /// <summary>
    /// The alias calls for a key: <c>Attach</c> the spec's alias when the key does not carry it (created, or moved back
    /// if another key holds it), <c>Remove</c> the alias the status recorded when the spec no longer names it and the key
    /// still carries it. Other aliases on the key are somebody else's and stay.
    /// </summary>
    public static (string? Attach, string? Remove) PlanAlias(string? desired, IReadOnlySet<string> attached, string? recorded)
    {
        ArgumentNullException.ThrowIfNull(attached);
        return (
            desired is not null && !attached.Contains(desired) ? desired : null,
            recorded is not null && recorded != desired && attached.Contains(recorded) ? recorded : null);
    }

    /// <summary>
    /// Why the CloudKey's alias (<see cref="Resources.CloudKeyNames.AliasName"/>: spec.alias, or metadata.name when
    /// unset) is not a valid KMS alias, or null when it is (or spec.alias is "", no alias). The CRD pattern checks an
    /// explicit spec.alias; a defaulted one comes from a Kubernetes name, which may hold a '.' or be too long.
    /// </summary>
    public static string? AliasProblem(string? specAlias, string name, bool createAlias = true)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!createAlias)
        {
            return string.IsNullOrEmpty(specAlias) ? null : $"spec.alias '{specAlias}' is set but spec.createAlias is false: unset one of them";
        }

        var (alias, source) = specAlias is null ? (name, $"metadata.name '{name}' (the default alias, spec.alias is unset)") : (specAlias, $"spec.alias '{specAlias}'");
        if (alias.Length == 0)
        {
            return null;
        }

        string? fix = specAlias is null ? "; set spec.alias, or spec.createAlias: false for no alias" : null;
        if (alias.StartsWith("aws/", StringComparison.OrdinalIgnoreCase))
        {
            return $"{source} must not start with aws/ (reserved for AWS managed keys){fix}";
        }

        if (alias.Length > 250 || !alias.All(c => char.IsAsciiLetterOrDigit(c) || c is '/' or '_' or '-'))
        {
            return $"{source} is not a valid KMS alias (at most 250 characters of letters, digits, '/', '_' and '-'){fix}";
        }

        return null;
    }

    /// <summary>The description to set on the KMS key, or null when KMS already has it (KMS reports an empty one as null or "").</summary>
    public static string? DescriptionUpdate(string? current, string desired) =>
        (current ?? "") == desired ? null : desired;

    /// <summary>The rotation a CloudKey follows: its own spec.rotation, else its KeySet's spec.defaults.rotation, else none.</summary>
    public static V1Alpha1Rotation? EffectiveRotation(V1Alpha1CloudKey cloudKey, V1Alpha1KeySet? keySet)
    {
        ArgumentNullException.ThrowIfNull(cloudKey);
        return cloudKey.Spec.Rotation ?? keySet?.Spec?.Defaults?.Rotation;
    }

    /// <summary>
    /// When the next key version is due: <paramref name="currentCreatedAt"/> (the current version's) plus the effective
    /// rotation's interval, or null without a valid schedule. The material step rotates from then on; the reconciler
    /// looks again then, and status.nextRotationTime shows it.
    /// </summary>
    public static DateTimeOffset? NextRotation(V1Alpha1Rotation? rotation, DateTimeOffset currentCreatedAt) =>
        GoDuration.TryParse(rotation?.Every, out var every) ? currentCreatedAt + every : null;

    /// <summary>Most user tags a CloudKey may ask for: AWS allows 50 per key, the operator sets <see cref="Resources.CloudKeyNames.Tags"/> (3).</summary>
    public const int MaxUserTags = 47;

    /// <summary>
    /// What is wrong with spec.tags, one message per problem (empty when nothing): AWS's limits (key 1-128 characters,
    /// value 0-256, its character set, no aws: prefix) and the operator's reserved prefix xks.dev/.
    /// </summary>
    public static IReadOnlyList<string> TagProblems(IDictionary<string, string>? tags)
    {
        var problems = new List<string>();
        if (tags is null)
        {
            return problems;
        }

        if (tags.Count > MaxUserTags)
        {
            problems.Add($"spec.tags has {tags.Count} tags; at most {MaxUserTags} (AWS allows 50 per KMS key, the operator sets 3 of its own)");
        }

        foreach (var (key, value) in tags.OrderBy(t => t.Key, StringComparer.Ordinal))
        {
            if (key.Length is < 1 or > 128)
            {
                problems.Add($"spec.tags key '{key}' must be 1 to 128 characters");
            }
            else if (key.StartsWith("aws:", StringComparison.OrdinalIgnoreCase))
            {
                problems.Add($"spec.tags key '{key}' must not start with aws: (reserved by AWS)");
            }
            else if (key.StartsWith(Resources.CloudKeyNames.ReservedTagPrefix, StringComparison.OrdinalIgnoreCase))
            {
                problems.Add($"spec.tags key '{key}' must not start with {Resources.CloudKeyNames.ReservedTagPrefix} (reserved for the operator's own tags: {string.Join(", ", ReservedTagKeys)})");
            }
            else if (!IsTagText(key))
            {
                problems.Add($"spec.tags key '{key}' may only hold letters, digits, spaces and _ . : / = + - @");
            }

            if ((value ?? "").Length > 256)
            {
                problems.Add($"spec.tags value of '{key}' must be at most 256 characters");
            }
            else if (!IsTagText(value ?? ""))
            {
                problems.Add($"spec.tags value of '{key}' may only hold letters, digits, spaces and _ . : / = + - @");
            }
        }

        return problems;
    }

    private static readonly string[] ReservedTagKeys = [Resources.CloudKeyNames.ManagedByTag, Resources.CloudKeyNames.NameTag, Resources.CloudKeyNames.UidTag];

    private static bool IsTagText(string text) =>
        text.All(c => char.IsLetterOrDigit(c) || c == ' ' || c is '_' or '.' or ':' or '/' or '=' or '+' or '-' or '@');

    /// <summary>
    /// The tag calls that bring a KMS key's user tags to spec.tags: <c>Tag</c> what is missing or has another value,
    /// <c>Untag</c> the keys this CloudKey applied before (status.tagKeys) that the spec dropped and the key still
    /// carries. A tag someone added in AWS by hand is never removed; one the spec then names becomes the CloudKey's. Never
    /// touches a reserved (xks.dev/) key. <c>Refusal</c> when the result would exceed AWS's 50 tags per key (nothing is
    /// called then).
    /// </summary>
    /// <param name="current">The tags the KMS key carries now (all of them, the operator's included).</param>
    /// <param name="desired">spec.tags (validated by <see cref="TagProblems"/>).</param>
    /// <param name="applied">status.tagKeys: the user tag keys applied before.</param>
    public static TagPlan PlanTags(IReadOnlyDictionary<string, string> current, IReadOnlyDictionary<string, string> desired, IReadOnlyCollection<string> applied)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(desired);
        ArgumentNullException.ThrowIfNull(applied);
        var tag = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in desired)
        {
            if (!key.StartsWith(Resources.CloudKeyNames.ReservedTagPrefix, StringComparison.OrdinalIgnoreCase)
                && (!current.TryGetValue(key, out var now) || now != value))
            {
                tag[key] = value;
            }
        }

        var untag = applied
            .Where(key => !desired.ContainsKey(key) && current.ContainsKey(key) && !key.StartsWith(Resources.CloudKeyNames.ReservedTagPrefix, StringComparison.OrdinalIgnoreCase))
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)
            .ToList();
        var after = current.Keys.Except(untag, StringComparer.Ordinal).Union(tag.Keys, StringComparer.Ordinal).Count();
        if (after > 50 && (tag.Count > 0 || untag.Count > 0))
        {
            var byHand = current.Keys.Count(k => !desired.ContainsKey(k) && !applied.Contains(k) && !k.StartsWith(Resources.CloudKeyNames.ReservedTagPrefix, StringComparison.OrdinalIgnoreCase));
            return new TagPlan(new Dictionary<string, string>(), [],
                $"spec.tags would leave the KMS key with {after} tags, AWS allows 50 ({byHand} of them were added in AWS by hand and are left alone); remove some");
        }

        return new TagPlan(tag, untag, null);
    }
}

/// <summary>The tag calls for a KMS key's user tags (<see cref="CloudKeySettingsDecisions.PlanTags"/>), or why none may be made.</summary>
/// <param name="Tag">Tags to add or change (TagResource), by key.</param>
/// <param name="Untag">Keys to remove (UntagResource).</param>
/// <param name="Refusal">Why spec.tags cannot be applied (AWS's 50-tag limit), or null.</param>
public sealed record TagPlan(IReadOnlyDictionary<string, string> Tag, IReadOnlyList<string> Untag, string? Refusal);
