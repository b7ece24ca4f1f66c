using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.RegularExpressions;
using Xks.Contracts.KeyWrap;
using Xks.Operator.Entities;
using k8s.Models;

namespace Xks.Operator.Resources;

/// <summary>
/// The Secret that records one CloudKey's key versions: <c>&lt;cloudkey&gt;-key-material</c>, key <c>versions.json</c>.
/// Software backend: the versions wrapped by the Vault's master key,
/// <c>{"keyId":"…","versions":[{"version":1,"wrappedMaterial":"…","createdAt":"…"}]}</c>. PKCS#11 backend: the
/// versions live in the HSM (objects labelled <c>&lt;keyId&gt;/v&lt;n&gt;</c>) and the Secret only lists them,
/// <c>{"keyId":"…","backend":"pkcs11","versions":[{"version":1,"createdAt":"…"}]}</c> — no material at all.
/// Written by the CloudKey reconciler, read by the Vault reconciler into the proxy config.
/// </summary>
/// <remarks>
/// Like the master key, this Secret has <b>no owner reference</b>: deleting the CloudKey must never garbage-collect the
/// material of a KMS key that still exists (pending deletion can be cancelled for up to 30 days). It carries the
/// <see cref="KeyCustody"/> finalizer, which the KeySet removes only when AWS has deleted the KMS key.
/// </remarks>
public static partial class KeyMaterialSecret
{
    public const string DataKey = "versions.json";
    public const string NameSuffix = "-key-material";

    /// <summary>Backend of material without a "backend" field (the original format).</summary>
    public const string SoftwareBackend = "software";

    /// <summary>Backend of versions that are HSM objects (no wrappedMaterial).</summary>
    public const string Pkcs11Backend = "pkcs11";

    /// <summary>
    /// Backend of software versions sealed by a HsmSealed Vault's root key inside its HSM (wrap format 3; no master key).
    /// </summary>
    public const string HsmSealedBackend = "hsm-sealed";

    /// <summary>
    /// Backend of software versions of a Shamir Vault: derivation salts under a root (wrap format 4) or, after a root
    /// rotation ceremony, versions wrapped under the new root (format 2). Only an unsealed proxy can open either.
    /// </summary>
    public const string ShamirBackend = "shamir";

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

    /// <summary>
    /// The Secret for <paramref name="versions"/> (written sorted by version number). <paramref name="backend"/>
    /// <see cref="Pkcs11Backend"/>: versions must carry no wrapped material; <see cref="SoftwareBackend"/>: they must.
    /// </summary>
    public static V1Secret Build(V1Alpha1CloudKey key, string vaultName, string xksKeyId, IReadOnlyList<ProxyKeyVersionModel> versions, string backend = SoftwareBackend)
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

        var inHsm = backend switch
        {
            Pkcs11Backend => true,
            SoftwareBackend or HsmSealedBackend or ShamirBackend => false,
            _ => throw new ArgumentException($"'{backend}' is not a key backend ({SoftwareBackend}, {HsmSealedBackend}, {ShamirBackend} or {Pkcs11Backend}).", nameof(backend)),
        };
        if (versions.Any(v => (v.WrappedMaterial is null) != inHsm))
        {
            throw new ArgumentException(inHsm ? "Versions in an HSM carry no wrapped material." : "Software versions need their wrapped material.", nameof(versions));
        }

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
            Metadata = KeyCustody.Protect(new V1ObjectMeta
            {
                Name = Name(key),
                NamespaceProperty = key.Metadata.NamespaceProperty,
                Labels = Annotations.Sorted(labels),
                Annotations = Annotations.Sorted(new Dictionary<string, string>(StringComparer.Ordinal)
                {
                    ["xks.dev/description"] = backend switch
                    {
                        Pkcs11Backend => "Key versions of a CloudKey, generated inside the Vault's HSM (this Secret only lists them). Deleting it stops the proxy serving the key.",
                        ShamirBackend => "Key versions of a CloudKey, derived from the Vault's root key that only unsealed proxies hold (this Secret holds the derivation salts). Deleting it makes the KMS key unusable for good.",
                        HsmSealedBackend => "Key versions of a CloudKey, sealed by the Vault's root key inside its HSM. Deleting it makes the KMS key unusable for good.",
                        _ => "Key versions of a CloudKey, wrapped by its Vault's master key. Deleting it makes the KMS key unusable for good.",
                    },
                }),
            }),
            Type = "Opaque",
            Data = new Dictionary<string, byte[]>(StringComparer.Ordinal) { [DataKey] = Document(xksKeyId!, backend, versions) },
        };
    }

    /// <summary>
    /// A copy of the material Secret <paramref name="secret"/> (metadata, resourceVersion and other data kept) whose
    /// versions are <paramref name="versions"/>: how versions resealed under a new root key are written back.
    /// </summary>
    /// <exception cref="ArgumentException">The Secret is unreadable, or the versions do not suit its backend.</exception>
    public static V1Secret WithVersions(V1Secret secret, IReadOnlyList<ProxyKeyVersionModel> versions)
    {
        ArgumentNullException.ThrowIfNull(secret);
        ArgumentNullException.ThrowIfNull(versions);
        if (!TryRead(secret, out var keyId, out var current, out var backend, out var problem))
        {
            throw new ArgumentException($"Secret {secret.Metadata?.Name} {problem}.", nameof(secret));
        }

        if (versions.Select(v => v.Version).Order().SequenceEqual(current.Select(v => v.Version)) is false
            || versions.Any(v => (v.WrappedMaterial is null) != (backend == Pkcs11Backend)))
        {
            throw new ArgumentException("The new versions must be the same version numbers, with material as the backend needs.", nameof(versions));
        }

        var data = new Dictionary<string, byte[]>(secret.Data!, StringComparer.Ordinal) { [DataKey] = Document(keyId, backend, versions) };
        return new V1Secret
        {
            ApiVersion = secret.ApiVersion ?? "v1",
            Kind = secret.Kind ?? "Secret",
            Metadata = secret.Metadata,
            Type = secret.Type,
            Immutable = secret.Immutable,
            Data = data,
        };
    }

    private static byte[] Document(string xksKeyId, string backend, IReadOnlyList<ProxyKeyVersionModel> versions)
    {
        var document = new Dictionary<string, object>(StringComparer.Ordinal) { ["keyId"] = xksKeyId };
        if (backend != SoftwareBackend)
        {
            document["backend"] = backend;
        }

        document["versions"] = versions.OrderBy(v => v.Version).Select(v =>
        {
            var entry = new Dictionary<string, object>(StringComparer.Ordinal) { ["version"] = v.Version };
            if (v.WrappedMaterial is { } wrapped)
            {
                entry["wrappedMaterial"] = wrapped;
            }

            entry["createdAt"] = Timestamp(v.CreatedAt);
            return entry;
        }).ToList();
        return JsonSerializer.SerializeToUtf8Bytes(document, WriteOptions);
    }

    /// <summary>
    /// Reads the key id and versions (sorted by version) of a key-material Secret. False with a <paramref name="problem"/>
    /// that never quotes the material when the Secret is not usable.
    /// </summary>
    public static bool TryRead(V1Secret secret, out string keyId, out IReadOnlyList<ProxyKeyVersionModel> versions, out string? problem) =>
        TryRead(secret, out keyId, out versions, out _, out problem);

    /// <summary>As above, with the backend the versions belong to (<see cref="SoftwareBackend"/> or <see cref="Pkcs11Backend"/>).</summary>
    public static bool TryRead(V1Secret secret, out string keyId, out IReadOnlyList<ProxyKeyVersionModel> versions, out string backend, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(secret);
        keyId = "";
        versions = [];
        backend = SoftwareBackend;
        problem = Read(secret, ref keyId, ref versions, ref backend);
        return problem is null;
    }

    private static string? Read(V1Secret secret, ref string keyId, ref IReadOnlyList<ProxyKeyVersionModel> versions, ref string backend)
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

            var named = SoftwareBackend;
            if (root.TryGetProperty("backend", out var backendElement))
            {
                if (backendElement.ValueKind != JsonValueKind.String || backendElement.GetString() is not (SoftwareBackend or Pkcs11Backend or HsmSealedBackend or ShamirBackend))
                {
                    return $"'{DataKey}': backend must be {SoftwareBackend}, {HsmSealedBackend}, {ShamirBackend} or {Pkcs11Backend}";
                }

                named = backendElement.GetString()!;
            }

            var inHsm = named == Pkcs11Backend;

            if (!root.TryGetProperty("versions", out var list) || list.ValueKind != JsonValueKind.Array || list.GetArrayLength() == 0)
            {
                return $"'{DataKey}': versions must list at least one version";
            }

            var read = new List<ProxyKeyVersionModel>();
            var index = 0;
            foreach (var entry in list.EnumerateArray())
            {
                if (ReadVersion(entry, named, out var version) is { } versionProblem)
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
            backend = named;
            return null;
        }
    }

    private static string? ReadVersion(JsonElement entry, string backend, out ProxyKeyVersionModel? version)
    {
        var inHsm = backend == Pkcs11Backend;
        version = null;
        if (entry.ValueKind != JsonValueKind.Object)
        {
            return "not an object";
        }

        if (!entry.TryGetProperty("version", out var number) || number.ValueKind != JsonValueKind.Number || !number.TryGetInt32(out var n) || n < 1)
        {
            return "version must be a whole number of 1 or more";
        }

        string? wrappedMaterial = null;
        if (inHsm)
        {
            if (entry.TryGetProperty("wrappedMaterial", out _))
            {
                return "wrappedMaterial must not be set: the version lives in the HSM";
            }
        }
        else if (backend == ShamirBackend)
        {
            if (!entry.TryGetProperty("wrappedMaterial", out var material) || material.ValueKind != JsonValueKind.String
                || !(IsDerived(material.GetString()) || WrappedKey.IsWellFormed(material.GetString())))
            {
                return $"wrappedMaterial must be Base64 of a derivation salt under a root key ({DerivedKey.Size} bytes, format 4) or of a key wrapped under one ({WrappedKey.Format2Size} bytes, format 2)";
            }

            wrappedMaterial = material.GetString()!;
        }
        else if (backend == HsmSealedBackend)
        {
            if (!entry.TryGetProperty("wrappedMaterial", out var material) || material.ValueKind != JsonValueKind.String
                || !IsSealed(material.GetString()))
            {
                return $"wrappedMaterial must be Base64 of a key sealed by the Vault's root key: {SealedKey.Size} bytes (format 3)";
            }

            wrappedMaterial = material.GetString()!;
        }
        else
        {
            if (!entry.TryGetProperty("wrappedMaterial", out var material) || material.ValueKind != JsonValueKind.String
                || !WrappedKey.IsWellFormed(material.GetString()))
            {
                return $"wrappedMaterial must be Base64 of a wrapped key: {WrappedKey.Format2Size} bytes (format 2) or {WrappedKey.Format1Size} bytes (format 1)";
            }

            wrappedMaterial = material.GetString()!;
        }

        if (!entry.TryGetProperty("createdAt", out var created) || created.ValueKind != JsonValueKind.String
            || !DateTimeOffset.TryParse(created.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var createdAt))
        {
            return "createdAt must be an RFC 3339 time";
        }

        version = new ProxyKeyVersionModel(n, wrappedMaterial, createdAt);
        return null;
    }

    private static bool IsDerived(string? base64)
    {
        Span<byte> bytes = stackalloc byte[DerivedKey.Size + 3];
        return base64 is not null && Convert.TryFromBase64String(base64, bytes, out var written) && DerivedKey.TryParse(bytes[..written], out _, out _);
    }

    private static bool IsSealed(string? base64)
    {
        Span<byte> bytes = stackalloc byte[SealedKey.Size + 3];
        return base64 is not null && Convert.TryFromBase64String(base64, bytes, out var written) && SealedKey.TryParse(bytes[..written], out _, out _);
    }

    private static string Timestamp(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);
}
