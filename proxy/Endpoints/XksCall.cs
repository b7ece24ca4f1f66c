using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Xks.Proxy.Audit;
using Xks.Proxy.Authorization;
using Xks.Proxy.Contracts;
using Xks.Proxy.Crypto;
using Xks.Proxy.Errors;
using Xks.Proxy.Options;

namespace Xks.Proxy.Endpoints;

/// <summary>An authenticated XKS request on its way through an endpoint: what it targets and what the audit line records.</summary>
public sealed class XksCall
{
    public required ProxyConfiguration Configuration { get; init; }

    public required KeyStore KeyStore { get; init; }

    public required XksOperation Operation { get; init; }

    /// <summary>The externalKeyId from the path (empty for health).</summary>
    public required string KeyId { get; init; }

    public required ReadOnlyMemory<byte> Body { get; init; }

    public required AuditRecord Audit { get; init; }

    public T Deserialize<T>(JsonTypeInfo<T> typeInfo)
        where T : class
    {
        try
        {
            return JsonSerializer.Deserialize(Body.Span, typeInfo)
                ?? throw XksException.Validation("The request body must be a JSON object.");
        }
        catch (JsonException ex)
        {
            var where = ex.Path is { Length: > 0 } path ? $" at {path}" : "";
            throw XksException.Validation($"The request body is not valid JSON for this operation{where}.");
        }
    }

    /// <summary>Checks and records requestMetadata: the fields every operation requires, then the per-operation ones.</summary>
    public RequestMetadata RequireMetadata(RequestMetadata? metadata)
    {
        if (metadata is null)
        {
            throw XksException.Validation("requestMetadata is required.");
        }

        Audit.KmsRequestId = metadata.KmsRequestId;
        Audit.KmsOperation = metadata.KmsOperation;
        Audit.AwsPrincipalArn = metadata.AwsPrincipalArn;
        Audit.KmsKeyArn = metadata.KmsKeyArn;
        Audit.KmsViaService = metadata.KmsViaService;
        Audit.AwsSourceVpc = metadata.AwsSourceVpc;
        Audit.AwsSourceVpce = metadata.AwsSourceVpce;

        Require(metadata.KmsRequestId, "requestMetadata.kmsRequestId");
        Require(metadata.KmsOperation, "requestMetadata.kmsOperation");
        if (Operation is not XksOperation.GetHealthStatus)
        {
            Require(metadata.AwsPrincipalArn, "requestMetadata.awsPrincipalArn");
        }

        if (Operation is XksOperation.Encrypt or XksOperation.Decrypt)
        {
            Require(metadata.KmsKeyArn, "requestMetadata.kmsKeyArn");
        }

        return metadata;
    }

    /// <summary>A required body field: present (JSON null counts as absent), else ValidationException.</summary>
    public static string Require(string? value, string field) =>
        value ?? throw XksException.Validation($"{field} is required.");

    /// <summary>encryptionAlgorithm is required and, in XKS v1, only AES_GCM.</summary>
    public static void RequireAesGcm(string? algorithm)
    {
        if (Require(algorithm, "encryptionAlgorithm") != "AES_GCM")
        {
            throw XksException.Validation("encryptionAlgorithm must be AES_GCM.");
        }
    }

    /// <summary>
    /// Resolves the path's key for a key operation: configured in this key store (else KeyNotFound), allowed by its
    /// secondary authorization (else AccessDenied), with material in the backend.
    /// </summary>
    public (XksKey Key, KeyLookupResult Material) ResolveKey(RequestMetadata metadata, IKeyBackend backend)
    {
        Audit.KeyId = KeyId;
        if (!KeyStore.TryGetKey(KeyId, out var key))
        {
            throw new XksException(XksErrorName.KeyNotFoundException, $"Key '{KeyId}' is not configured in this key store.");
        }

        if (key.Authorization?.Evaluate(Operation, metadata) is { } rule)
        {
            Audit.DeniedBy = rule;
            throw new XksException(XksErrorName.AccessDeniedException, "The request is not authorized by the proxy's policy for this key.",
                $"secondary authorization rule '{rule}' of key '{KeyId}' denied the request");
        }

        return (key, backend.Find(KeyId));
    }

    /// <summary>
    /// What Encrypt and Decrypt check alike once they have read their own fields, in this order: the key resolves and
    /// is authorized (<see cref="ResolveKey"/>), the data and AAD fit this proxy's limits (UnsupportedOperation), the
    /// key is enabled (KeyDisabled) and its usage allows this operation (InvalidKeyUsage).
    /// </summary>
    /// <param name="metadata">The request's metadata (<see cref="RequireMetadata"/>).</param>
    /// <param name="backend">Where the key's material lives.</param>
    /// <param name="dataBase64">The plaintext (Encrypt) or ciphertext (Decrypt).</param>
    /// <param name="dataField">Its field name, for messages.</param>
    /// <param name="aadBase64">additionalAuthenticatedData, or null.</param>
    public CryptoKey ResolveCryptoKey(RequestMetadata metadata, IKeyBackend backend, string dataBase64, string dataField, string? aadBase64)
    {
        var limits = Configuration.Limits;
        var (key, material) = ResolveKey(metadata, backend);
        var dataLength = CheckBase64(dataBase64, dataField, limits.MaxPlaintextBytes, XksErrorName.UnsupportedOperationException);
        var aadLength = aadBase64 is null
            ? 0
            : CheckBase64(aadBase64, "additionalAuthenticatedData", limits.MaxAadBytes, XksErrorName.UnsupportedOperationException);

        if (IsDisabled(key, material))
        {
            throw GetKeyMetadataEndpoint.Disabled(key.Id);
        }

        var (allowed, usage) = Operation == XksOperation.Encrypt ? (key.CanEncrypt, "ENCRYPT") : (key.CanDecrypt, "DECRYPT");
        if (!allowed)
        {
            throw new XksException(XksErrorName.InvalidKeyUsageException, $"Key '{key.Id}' does not allow {usage}.");
        }

        return new CryptoKey(key, material, dataLength, aadLength);
    }

    /// <summary>
    /// Switched off in the configuration (<c>enabled: false</c>) or in the backend (a key file with
    /// <c>"enabled": false</c>, an HSM key whose objects allow neither encrypt nor decrypt).
    /// </summary>
    public static bool IsDisabled(XksKey key, KeyLookupResult material) =>
        !key.Enabled || material is { Status: KeyLookupStatus.Found, Key.Enabled: false };

    /// <summary>Key material must be usable for crypto; missing material reads as KeyNotFound, a corrupt key as InvalidState.</summary>
    public static IBackendKey RequireMaterial(KeyLookupResult material, string keyId) => material.Status switch
    {
        KeyLookupStatus.Found => material.Key!,
        KeyLookupStatus.Missing => throw new XksException(XksErrorName.KeyNotFoundException, $"Key '{keyId}' has no key material.", material.Problem),
        _ => throw new XksException(XksErrorName.InvalidStateException, $"Key '{keyId}' is unusable: its key material failed an integrity check.", material.Problem),
    };

    /// <summary>
    /// Checks a Base64 field and returns its decoded length. Beyond <paramref name="maxBytes"/> it throws
    /// <paramref name="tooLarge"/> (UnsupportedOperation for data, Validation for fixed-size fields); the length is
    /// checked on the text first, so oversized input is refused before it is scanned.
    /// </summary>
    public static int CheckBase64(string text, string field, int maxBytes, XksErrorName tooLarge)
    {
        var tooLong = text.Length > (maxBytes + 2) / 3 * 4;
        var valid = !tooLong && StrictBase64.IsValid(text);
        if (tooLong || (valid && StrictBase64.DecodedLength(text) > maxBytes))
        {
            throw tooLarge == XksErrorName.UnsupportedOperationException
                ? new XksException(tooLarge, $"{field} is larger than this proxy's limit of {maxBytes} bytes.")
                : new XksException(tooLarge, $"{field} must be at most {maxBytes} bytes.");
        }

        if (!valid)
        {
            throw XksException.Validation($"{field} must be standard Base64 (RFC 4648 section 4, with padding).");
        }

        return StrictBase64.DecodedLength(text);
    }

    /// <summary>Decodes text already accepted by <see cref="CheckBase64"/>.</summary>
    public static void Decode(string text, Span<byte> destination)
    {
        if (!Convert.TryFromBase64Chars(text, destination, out var written) || written != destination.Length)
        {
            throw XksException.Validation("a Base64 field could not be decoded.");
        }
    }
}

/// <summary>An Encrypt or Decrypt request's key after <see cref="XksCall.ResolveCryptoKey"/>, with the decoded lengths of its data and AAD.</summary>
public readonly record struct CryptoKey(XksKey Key, KeyLookupResult Material, int DataLength, int AadLength);
