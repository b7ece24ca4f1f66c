using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.RegularExpressions;
using k8s.Models;
using Xks.Operator.Entities;

namespace Xks.Operator.Resources;

/// <summary>
/// The Secret that holds one CloudKey's key versions, wrapped by its Vault's master key: <c>&lt;cloudkey&gt;-key-material</c>,
/// key <c>versions.json</c> = <c>{"keyId":"…","versions":[{"version":1,"wrappedMaterial":"…","createdAt":"…"}]}</c>.
/// Written by the CloudKey reconciler, read by the Vault reconciler into the proxy config.
/// </summary>
/// <remarks>
/// Like the master key, this Secret has <b>no owner reference</b>: deleting the CloudKey must never garbage-collect the
/// material of a KMS key that still exists (pending deletion can be cancelled for up to 30 days).
/// </remarks>
public static partial class KeyMaterialSecret
{
    public const string DataKey = "versions.json";
    public const string NameSuffix = "-key-material";

    // Base64 as written ('+' and '/' unescaped); the document holds no markup that stricter escaping would protect.
    private static readonly JsonSerializerOptions WriteOptions = new() { WriteIndented = false, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    [GeneratedRegex("^[A-Za-z0-9._-]{1,128}$")]
    private static partial Regex KeyIdPattern();

    public static string Name(V1Alpha1CloudKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var name = key.Metadata?.Name ?? throw new ArgumentException("The CloudKey has no metadata.name.", nameof(key));
        return name + NameSuffix;
    }

    /// <summary>The Secret for <paramref name="versions"/> (written sorted by version number).</summary>
    public static V1Secret Build(V1Alpha1CloudKey key, string vaultName, string xksKeyId, IReadOnlyList<ProxyKeyVersionModel> versions)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentException.ThrowIfNullOrEmpty(vaultName);
        ArgumentNullException.ThrowIfNull(versions);
        if (!KeyIdPattern().IsMatch(xksKeyId ?? ""))
        {
            throw new ArgumentException($"'{xksKeyId}' is not an externalKeyId (1-128 characters of A-Z a-z 0-9 . _ -).", nameof(xksKeyId));
        }

        if (versions.Count == 0 || versions.Any(v => v.Version < 1) || versions.Select(v => v.Version).Distinct().Count() != versions.Count)
        {
            throw new ArgumentException("Key material needs at least one version, numbered from 1 and unique.", nameof(versions));
        }

        var document = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["keyId"] = xksKeyId!,
            ["versions"] = versions.OrderBy(v => v.Version).Select(v => new Dictionary<string, object>(StringComparer.Ordinal)
            {
                ["version"] = v.Version,
                ["wrappedMaterial"] = v.WrappedMaterial,
                ["createdAt"] = Timestamp(v.CreatedAt),
            }).ToList(),
        };

        var labels = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [VaultLabels.VaultLabel] = vaultName,
            [VaultLabels.CloudKeyLabel] = Name(key)[..^NameSuffix.Length],
            [VaultLabels.ManagedByLabel] = VaultLabels.ManagedBy,
            [VaultLabels.XksComponentLabel] = VaultLabels.KeyMaterialComponent,
            [VaultLabels.ComponentLabel] = VaultLabels.KeyMaterialComponent,
        };
        return new V1Secret
        {
            ApiVersion = "v1",
            Kind = "Secret",
            Metadata = new V1ObjectMeta
            {
                Name = Name(key),
                NamespaceProperty = key.Metadata.NamespaceProperty,
                Labels = Annotations.Sorted(labels),
                Annotations = Annotations.Sorted(new Dictionary<string, string>(StringComparer.Ordinal)
                {
                    ["xks.dev/description"] = "Key versions of a CloudKey, wrapped by its Vault's master key. Deleting it makes the KMS key unusable for good.",
                }),
            },
            Type = "Opaque",
            Data = new Dictionary<string, byte[]>(StringComparer.Ordinal) { [DataKey] = JsonSerializer.SerializeToUtf8Bytes(document, WriteOptions) },
        };
    }

    /// <summary>
    /// Reads the key id and versions (sorted by version) of a key-material Secret. False with a <paramref name="problem"/>
    /// that never quotes the material when the Secret is not usable.
    /// </summary>
    public static bool TryRead(V1Secret secret, out string keyId, out IReadOnlyList<ProxyKeyVersionModel> versions, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(secret);
        keyId = "";
        versions = [];
        problem = Read(secret, ref keyId, ref versions);
        return problem is null;
    }

    private static string? Read(V1Secret secret, ref string keyId, ref IReadOnlyList<ProxyKeyVersionModel> versions)
    {
        if (secret.Data is null || !secret.Data.TryGetValue(DataKey, out var bytes) || bytes is null || bytes.Length == 0)
        {
            return $"has no key '{DataKey}'";
        }

        JsonDocument json;
        try
        {
            json = JsonDocument.Parse(bytes);
        }
        catch (JsonException)
        {
            return $"'{DataKey}' is not valid JSON";
        }

        using (json)
        {
            var root = json.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return $"'{DataKey}' is not a JSON object";
            }

            if (!root.TryGetProperty("keyId", out var id) || id.ValueKind != JsonValueKind.String || !KeyIdPattern().IsMatch(id.GetString()!))
            {
                return $"'{DataKey}': keyId must be an externalKeyId (1-128 characters of A-Z a-z 0-9 . _ -)";
            }

            if (!root.TryGetProperty("versions", out var list) || list.ValueKind != JsonValueKind.Array || list.GetArrayLength() == 0)
            {
                return $"'{DataKey}': versions must list at least one version";
            }

            var read = new List<ProxyKeyVersionModel>();
            var index = 0;
            foreach (var entry in list.EnumerateArray())
            {
                if (ReadVersion(entry, out var version) is { } versionProblem)
                {
                    return $"'{DataKey}': versions[{index}]: {versionProblem}";
                }

                if (read.Any(v => v.Version == version!.Version))
                {
                    return $"'{DataKey}': versions[{index}]: version {version!.Version} is listed twice";
                }

                read.Add(version!);
                index++;
            }

            keyId = id.GetString()!;
            versions = [.. read.OrderBy(v => v.Version)];
            return null;
        }
    }

    private static string? ReadVersion(JsonElement entry, out ProxyKeyVersionModel? version)
    {
        version = null;
        if (entry.ValueKind != JsonValueKind.Object)
        {
            return "not an object";
        }

        if (!entry.TryGetProperty("version", out var number) || number.ValueKind != JsonValueKind.Number || !number.TryGetInt32(out var n) || n < 1)
        {
            return "version must be a whole number of 1 or more";
        }

        Span<byte> wrapped = stackalloc byte[KeyMaterial.WrappedSize];
        if (!entry.TryGetProperty("wrappedMaterial", out var material) || material.ValueKind != JsonValueKind.String
            || !Convert.TryFromBase64String(material.GetString()!, wrapped, out var length) || length != KeyMaterial.WrappedSize)
        {
            return $"wrappedMaterial must be Base64 of {KeyMaterial.WrappedSize} bytes";
        }

        if (!entry.TryGetProperty("createdAt", out var created) || created.ValueKind != JsonValueKind.String
            || !DateTimeOffset.TryParse(created.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var createdAt))
        {
            return "createdAt must be an RFC 3339 time";
        }

        version = new ProxyKeyVersionModel(n, material.GetString()!, createdAt);
        return null;
    }

    private static string Timestamp(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);
}
