using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Xks.Operator.Resources;

namespace Xks.Operator.Backup;

/// <summary>The contents of a Vault backup: where it came from, when, and the objects to restore, in restore order.</summary>
public sealed record VaultBackupContents(string Namespace, string Vault, DateTimeOffset CreatedAt, IReadOnlyList<JsonObject> Objects);

/// <summary>
/// The payload of a Vault backup bundle (docs/key-custody.md): a JSON document of the objects of a
/// <see cref="VaultSnapshot"/> in the form they are restored in — no uid, resourceVersion, owner references or status;
/// Secrets first (so the Vault finds its master key and never makes a new one), then CspAccounts, the Vault, KeySets
/// and CloudKeys. A KeySet's key store and a CloudKey's KMS key are recorded as <c>spec.adopt</c>, so the restored
/// objects take over what AWS still holds instead of creating new ones. A KeySet's credential Secret loses its owner (the
/// KeySet's UID changes) and is marked <see cref="RestoredForAnnotation"/> for the restored KeySet to claim. Pure.
/// </summary>
public static class VaultBackupDocument
{
    public const string ContentType = "application/vnd.xks.vault-backup.v1+json";
    public const string Format = "xks.dev/vault-backup/v1";

    /// <summary>On a restored Secret that a KeySet owned: <c>KeySet/&lt;name&gt;</c>, the KeySet that may claim it.</summary>
    public const string RestoredForAnnotation = Resources.KeySetCredentialSecret.RestoredForAnnotation;

    private static readonly string[] KindOrder = ["Secret", "CspAccount", "Vault", "KeySet", "CloudKey"];

    /// <summary>The document for <paramref name="snapshot"/> (UTF-8 JSON).</summary>
    public static byte[] Serialize(VaultSnapshot snapshot, DateTimeOffset createdAt)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var objects = new JsonArray();
        foreach (var secret in snapshot.Secrets.OrderBy(s => s.Metadata.Name, StringComparer.Ordinal))
        {
            objects.Add(Restorable(secret, "v1", "Secret"));
        }

        foreach (var account in snapshot.CspAccounts.OrderBy(a => a.Metadata.Name, StringComparer.Ordinal))
        {
            objects.Add(Restorable(account, "xks.dev/v1alpha1", "CspAccount"));
        }

        objects.Add(Restorable(snapshot.Vault, "xks.dev/v1alpha1", "Vault"));
        foreach (var keySet in snapshot.KeySets.OrderBy(k => k.Metadata.Name, StringComparer.Ordinal))
        {
            var restorable = Restorable(keySet, "xks.dev/v1alpha1", "KeySet");
            if (keySet.Spec.Adopt is null && keySet.Status?.CustomKeyStoreId is { Length: > 0 } storeId)
            {
                restorable["spec"]!["adopt"] = new JsonObject { ["customKeyStoreId"] = storeId };
            }

            objects.Add(restorable);
        }

        foreach (var key in snapshot.CloudKeys.OrderBy(k => k.Metadata.Name, StringComparer.Ordinal))
        {
            var restorable = Restorable(key, "xks.dev/v1alpha1", "CloudKey");
            if (key.Spec.Adopt is null && key.Status?.KeyId is { Length: > 0 } kmsKeyId)
            {
                // The key id, as the material records it (xks.dev/kms-key-id): the restored CloudKey's claim on it.
                restorable["spec"]!["adopt"] = new JsonObject { ["keyId"] = kmsKeyId };
            }

            objects.Add(restorable);
        }

        var document = new JsonObject
        {
            ["format"] = Format,
            ["namespace"] = snapshot.Vault.Metadata.NamespaceProperty,
            ["vault"] = snapshot.Vault.Metadata.Name,
            ["createdAt"] = createdAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            ["objects"] = objects,
        };
        return JsonSerializer.SerializeToUtf8Bytes(document, VaultBackupJsonContext.Default.JsonObject);
    }

    /// <summary>Reads a document; false with a precise <paramref name="problem"/> (never quoting Secret data) when it is not one this operator restores.</summary>
    public static bool TryParse(ReadOnlySpan<byte> payload, out VaultBackupContents contents, out string? problem)
    {
        contents = new VaultBackupContents("", "", default, []);
        JsonObject? root;
        try
        {
            root = JsonNode.Parse(payload) as JsonObject;
        }
        catch (JsonException)
        {
            problem = "the backup is not JSON";
            return false;
        }

        if (root is null || root["format"]?.GetValueKind() != JsonValueKind.String || (string?)root["format"] != Format)
        {
            problem = $"the backup's format is not {Format}";
            return false;
        }

        if (Text(root, "namespace") is not { } ns || Text(root, "vault") is not { } vault
            || !DateTimeOffset.TryParse(Text(root, "createdAt"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var createdAt))
        {
            problem = "the backup lacks its namespace, vault or createdAt";
            return false;
        }

        if (root["objects"] is not JsonArray list)
        {
            problem = "the backup has no objects";
            return false;
        }

        var objects = new List<JsonObject>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < list.Count; i++)
        {
            if (list[i] is not JsonObject item || Text(item, "kind") is not { } kind || !KindOrder.Contains(kind)
                || item["metadata"] is not JsonObject metadata || Text(metadata, "name") is not { Length: > 0 } name)
            {
                problem = $"objects[{i}] is not a Secret, CspAccount, Vault, KeySet or CloudKey with a name";
                return false;
            }

            if (!seen.Add($"{kind}/{name}"))
            {
                problem = $"objects[{i}]: {kind} {name} is listed twice";
                return false;
            }

            objects.Add(item);
        }

        if (!objects.Any(o => Text(o, "kind") == "Vault" && Text((JsonObject)o["metadata"]!, "name") == vault))
        {
            problem = $"the backup does not hold Vault {vault}";
            return false;
        }

        contents = new VaultBackupContents(ns, vault, createdAt, [.. objects.OrderBy(o => Array.IndexOf(KindOrder, Text(o, "kind")))]);
        problem = null;
        return true;
    }

    /// <summary><paramref name="resource"/> as JSON in its restorable form (see the type's remarks).</summary>
    private static JsonObject Restorable(object resource, string apiVersion, string kind)
    {
        var json = (JsonObject)JsonNode.Parse(KubernetesJson.Serialize(resource))!;
        json.Remove("status");
        json["apiVersion"] = apiVersion;
        json["kind"] = kind;
        var metadata = json["metadata"] as JsonObject ?? [];
        var owner = kind == "Secret"
            ? ((resource as V1Secret)?.Metadata.OwnerReferences ?? []).FirstOrDefault(o => o.Controller == true && o.Kind == "KeySet")
            : null;
        var kept = new JsonObject { ["name"] = metadata["name"]?.DeepClone() };
        foreach (var field in new[] { "labels", "annotations" })
        {
            if (metadata[field] is JsonObject map && map.Count > 0)
            {
                kept[field] = map.DeepClone();
            }
        }

        if (kind == "Secret" && metadata["finalizers"] is JsonArray finalizers && finalizers.Any(f => (string?)f == KeyCustody.Finalizer))
        {
            // The custody finalizer stays with the material: it protects the restored copy too. Other controllers'
            // finalizers stay behind: nothing in the new cluster would ever remove them.
            kept["finalizers"] = new JsonArray(KeyCustody.Finalizer);
        }

        if (owner is not null)
        {
            var annotations = kept["annotations"] as JsonObject ?? [];
            annotations[RestoredForAnnotation] = $"KeySet/{owner.Name}";
            kept["annotations"] = annotations;
        }

        json["metadata"] = kept;
        return json;
    }

    private static string? Text(JsonObject node, string name) =>
        node[name] is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;
}
