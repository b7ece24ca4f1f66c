using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using k8s.Models;
using Xks.Operator.Entities;

namespace Xks.Operator.Resources;

/// <summary>
/// The KeySet's SigV4 credentials as stored in its Secret (owned by the KeySet): the current credential KMS uses, a
/// pending one while a rotation waits for UpdateCustomKeyStore, and the previous one for a grace period after it.
/// The proxy accepts all of them. The Secret also carries <c>keystore.json</c>, the file the AWS console imports.
/// </summary>
public sealed record KeySetCredentialSecret(XksCredential Current, XksCredential? Pending = null, XksCredential? Previous = null)
{
    public const string AccessKeyIdKey = "accessKeyId";
    public const string SecretAccessKeyKey = "secretAccessKey";
    public const string PendingAccessKeyIdKey = "pendingAccessKeyId";
    public const string PendingSecretAccessKeyKey = "pendingSecretAccessKey";
    public const string PreviousAccessKeyIdKey = "previousAccessKeyId";
    public const string PreviousSecretAccessKeyKey = "previousSecretAccessKey";
    public const string ConsoleFileKey = "keystore.json";

    /// <summary>Every access key ID the Secret holds (current, pending, previous): what a key store this KeySet owns signs with.</summary>
    public IReadOnlyList<string> AccessKeyIds => [Current.AccessKeyId, .. Pending is { } p ? [p.AccessKeyId] : Array.Empty<string>(), .. Previous is { } o ? [o.AccessKeyId] : Array.Empty<string>()];

    /// <summary>Label naming the KeySet on its Secrets.</summary>
    public const string KeySetLabel = "xks.dev/keyset";

    /// <summary>The value of the KeySet's rotate-credential annotation this Secret already rotated for.</summary>
    public const string HandledRotationRequestAnnotation = "xks.dev/handled-rotation-request";

    /// <summary>When the previous credential stops being accepted (RFC 3339).</summary>
    public const string PreviousUntilAnnotation = "xks.dev/previous-credential-until";

    public string? HandledRotationRequest { get; init; }

    public DateTimeOffset? PreviousUntil { get; init; }

    /// <summary>Every credential the proxy must accept, current first.</summary>
    public IEnumerable<XksCredential> Accepted()
    {
        yield return Current;
        if (Pending is not null)
        {
            yield return Pending;
        }

        if (Previous is not null)
        {
            yield return Previous;
        }
    }

    public V1Secret Build(V1Alpha1KeySet keySet, string uriPath)
    {
        ArgumentNullException.ThrowIfNull(keySet);
        var data = new Dictionary<string, byte[]>(StringComparer.Ordinal)
        {
            [AccessKeyIdKey] = Encoding.UTF8.GetBytes(Current.AccessKeyId),
            [SecretAccessKeyKey] = Encoding.UTF8.GetBytes(Current.SecretAccessKey),
            [ConsoleFileKey] = Encoding.UTF8.GetBytes(ConsoleFile(uriPath, Current)),
        };
        if (Pending is not null)
        {
            data[PendingAccessKeyIdKey] = Encoding.UTF8.GetBytes(Pending.AccessKeyId);
            data[PendingSecretAccessKeyKey] = Encoding.UTF8.GetBytes(Pending.SecretAccessKey);
        }

        if (Previous is not null)
        {
            data[PreviousAccessKeyIdKey] = Encoding.UTF8.GetBytes(Previous.AccessKeyId);
            data[PreviousSecretAccessKeyKey] = Encoding.UTF8.GetBytes(Previous.SecretAccessKey);
        }

        var annotations = new Dictionary<string, string>(StringComparer.Ordinal);
        if (HandledRotationRequest is not null)
        {
            annotations[HandledRotationRequestAnnotation] = HandledRotationRequest;
        }

        if (PreviousUntil is { } until)
        {
            annotations[PreviousUntilAnnotation] = until.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        }

        return new V1Secret
        {
            ApiVersion = "v1",
            Kind = "Secret",
            Type = "Opaque",
            Metadata = new V1ObjectMeta
            {
                Name = KeySetNames.CredentialSecret(keySet),
                NamespaceProperty = keySet.Metadata.NamespaceProperty,
                Labels = Labels(keySet),
                Annotations = annotations.Count == 0 ? null : annotations,
                OwnerReferences = [Owner(keySet)],
            },
            Data = data,
        };
    }

    /// <summary>
    /// On a credential Secret written by a restore (docs/key-custody.md): <c>KeySet/&lt;name&gt;</c>, the KeySet that may
    /// claim it. The restore cannot set the owner (the KeySet's UID is new), and KMS still holds this credential.
    /// </summary>
    public const string RestoredForAnnotation = "xks.dev/restored-for";

    /// <summary>The controller owner reference a KeySet's Secret carries.</summary>
    public static V1OwnerReference Owner(V1Alpha1KeySet keySet) => new()
    {
        ApiVersion = keySet.ApiVersion ?? "xks.dev/v1alpha1", Kind = keySet.Kind ?? "KeySet",
        Name = keySet.Metadata.Name, Uid = keySet.Metadata.Uid, Controller = true, BlockOwnerDeletion = true,
    };

    /// <summary>Labels of a KeySet's Secret: the Vault watches them (a changed credential re-renders the proxy config).</summary>
    public static Dictionary<string, string> Labels(V1Alpha1KeySet keySet) => Annotations.Sorted(new Dictionary<string, string>(StringComparer.Ordinal)
    {
        [VaultLabels.ManagedByLabel] = VaultLabels.ManagedBy,
        [VaultLabels.VaultLabel] = keySet.Spec.VaultRef.Name,
        [KeySetLabel] = keySet.Metadata.Name,
    });

    /// <summary>Reads a credential Secret; false with a problem (never a value) when it is incomplete or invalid.</summary>
    public static bool TryRead(V1Secret secret, out KeySetCredentialSecret? credentials, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(secret);
        credentials = null;
        var current = Read(secret, AccessKeyIdKey, SecretAccessKeyKey, out problem);
        if (current is null)
        {
            problem ??= $"Secret {secret.Metadata.Name} has no '{AccessKeyIdKey}'/'{SecretAccessKeyKey}'";
            return false;
        }

        var pending = Read(secret, PendingAccessKeyIdKey, PendingSecretAccessKeyKey, out problem);
        if (problem is not null)
        {
            return false;
        }

        var previous = Read(secret, PreviousAccessKeyIdKey, PreviousSecretAccessKeyKey, out problem);
        if (problem is not null)
        {
            return false;
        }

        var annotations = secret.Metadata.Annotations ?? new Dictionary<string, string>();
        credentials = new KeySetCredentialSecret(current, pending, previous)
        {
            HandledRotationRequest = annotations.TryGetValue(HandledRotationRequestAnnotation, out var handled) ? handled : null,
            PreviousUntil = annotations.TryGetValue(PreviousUntilAnnotation, out var until)
                && DateTimeOffset.TryParse(until, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed) ? parsed : null,
        };
        return true;
    }

    /// <summary>The JSON the AWS console accepts for a key store's proxy settings ("Upload proxy configuration file").</summary>
    public static string ConsoleFile(string uriPath, XksCredential credential) => new JsonObject
    {
        ["XksProxyUriPath"] = uriPath,
        ["XksProxyAuthenticationCredential"] = new JsonObject
        {
            ["AccessKeyId"] = credential.AccessKeyId,
            ["RawSecretAccessKey"] = credential.SecretAccessKey,
        },
    }.ToJsonString();

    public override string ToString() => $"KeySetCredentialSecret {{ Current = {Current}, Pending = {Pending?.ToString() ?? "none"}, Previous = {Previous?.ToString() ?? "none"} }}";

    private static XksCredential? Read(V1Secret secret, string idKey, string secretKey, out string? problem)
    {
        problem = null;
        var data = secret.Data ?? new Dictionary<string, byte[]>();
        var hasId = data.TryGetValue(idKey, out var id);
        var hasSecret = data.TryGetValue(secretKey, out var value);
        if (!hasId && !hasSecret)
        {
            return null;
        }

        var accessKeyId = hasId ? Encoding.UTF8.GetString(id!) : null;
        var secretAccessKey = hasSecret ? Encoding.UTF8.GetString(value!) : null;
        if (!XksCredential.IsValid(accessKeyId, secretAccessKey))
        {
            problem = $"Secret {secret.Metadata.Name}: '{idKey}'/'{secretKey}' is not a valid XKS credential (access key ID 20-30 of A-Z 2-7, secret 43-64 characters)";
            return null;
        }

        return new XksCredential(accessKeyId!, secretAccessKey!);
    }
}
