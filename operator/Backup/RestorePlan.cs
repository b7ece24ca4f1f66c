using System.Security.Cryptography;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;

namespace Xks.Operator.Backup;

/// <summary>What restoring one object does.</summary>
public enum RestoreAction
{
    /// <summary>It does not exist in the target namespace: create it.</summary>
    Create,

    /// <summary>A Secret that exists with the same data: nothing to do.</summary>
    Unchanged,

    /// <summary>A resource that exists: left as it is (it may be Argo CD's or a human's).</summary>
    Keep,

    /// <summary>A Secret that exists with other data: never overwritten; the whole restore is refused.</summary>
    Conflict,
}

/// <summary>One object of a restore and what happens to it.</summary>
public sealed record RestoreStep(string Kind, string Name, RestoreAction Action, JsonObject Object, string Note);

/// <summary>
/// The restore's decisions, pure: every object of the backup against what the target namespace holds. Key material is
/// never overwritten: a Secret that exists with other data refuses the whole restore before anything is written.
/// </summary>
public static class RestorePlan
{
    /// <param name="contents">The backup.</param>
    /// <param name="existingSecrets">The target namespace's Secrets of the backup's names that exist.</param>
    /// <param name="existingResources">The backup's resources that exist in the target namespace, as <c>Kind/name</c>.</param>
    public static IReadOnlyList<RestoreStep> For(VaultBackupContents contents, IReadOnlyDictionary<string, V1Secret> existingSecrets, IReadOnlySet<string> existingResources)
    {
        ArgumentNullException.ThrowIfNull(contents);
        ArgumentNullException.ThrowIfNull(existingSecrets);
        ArgumentNullException.ThrowIfNull(existingResources);
        var steps = new List<RestoreStep>();
        foreach (var item in contents.Objects)
        {
            var kind = (string)item["kind"]!;
            var name = (string)item["metadata"]!["name"]!;
            if (kind == "Secret")
            {
                steps.Add(!existingSecrets.TryGetValue(name, out var existing)
                    ? new(kind, name, RestoreAction.Create, item, "created")
                    : SameData(existing, KubernetesJson.Deserialize<V1Secret>(item.ToJsonString()))
                        ? new(kind, name, RestoreAction.Unchanged, item, "exists with the same data")
                        : new(kind, name, RestoreAction.Conflict, item, "exists with other data; it is never overwritten (delete it first if it is known to be wrong)"));
            }
            else
            {
                var adopt = item["spec"]?["adopt"] is JsonObject a ? $" (spec.adopt {a.ToJsonString()})" : "";
                steps.Add(existingResources.Contains($"{kind}/{name}")
                    ? new(kind, name, RestoreAction.Keep, item, $"exists; left as it is{(adopt.Length > 0 ? $" — it needs{adopt} to take over what AWS holds" : "")}")
                    : new(kind, name, RestoreAction.Create, item, "created" + adopt));
            }
        }

        return steps;
    }

    private static bool SameData(V1Secret a, V1Secret b)
    {
        var left = a.Data ?? new Dictionary<string, byte[]>();
        var right = b.Data ?? new Dictionary<string, byte[]>();
        return left.Count == right.Count && left.All(e => right.TryGetValue(e.Key, out var other) && CryptographicOperations.FixedTimeEquals(e.Value, other));
    }
}
