using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Amazon.KeyManagementService;
using Amazon.KeyManagementService.Model;
using Amazon.Runtime;

namespace Xks.Operator.Support.Tests;

/// <summary>
/// An object stored the way S3 SSE-KMS stores one: the content AES-256-GCM-encrypted under a fresh data key, next to
/// that data key wrapped by KMS (<see cref="WrappedDataKey"/>, the CiphertextBlob) and the encryption context KMS
/// bound to it. Only KMS can unwrap the data key, so switching the KMS key off makes the object unreadable.
/// </summary>
public sealed record EnvelopeObject(
    [property: JsonPropertyName("keyId")] string KeyId,
    [property: JsonPropertyName("encryptionContext")] IReadOnlyDictionary<string, string> EncryptionContext,
    [property: JsonPropertyName("wrappedDataKey")] byte[] WrappedDataKey,
    [property: JsonPropertyName("nonce")] byte[] Nonce,
    [property: JsonPropertyName("tag")] byte[] Tag,
    [property: JsonPropertyName("ciphertext")] byte[] Ciphertext)
{
    private static readonly JsonSerializerOptions Options = new() { WriteIndented = true };

    public string ToJson() => JsonSerializer.Serialize(this, Options);

    public static EnvelopeObject FromJson(string json) =>
        JsonSerializer.Deserialize<EnvelopeObject>(json) ?? throw new InvalidDataException("not an envelope object");
}

/// <summary>
/// Envelope encryption with the AWS SDK for .NET, the S3 SSE-KMS pattern: <c>GenerateDataKey</c> (AES_256, with an
/// encryption context) → AES-256-GCM locally with the plaintext data key, which is zeroed right after → store the
/// ciphertext with the wrapped data key and the context. Decrypting calls KMS <c>Decrypt</c> on the wrapped key
/// with the same context. The encryption context is also the GCM associated data, so it cannot be swapped.
/// (Compiled into tests/Xks.SeedClient as well: the demo's client is this code.)
/// </summary>
public sealed class EnvelopeEncryption(IAmazonKeyManagementService kms)
{
    private const int NonceSize = 12;
    private const int TagSize = 16;

    /// <summary>A KMS client for an endpoint override (the KMS emulator) with static credentials.</summary>
    public static AmazonKeyManagementServiceClient CreateClient(Uri endpoint, string accessKeyId, string secretAccessKey, string region, int maxErrorRetry = 3) =>
        new(
            new BasicAWSCredentials(accessKeyId, secretAccessKey),
            new AmazonKeyManagementServiceConfig
            {
                ServiceURL = endpoint.ToString(),
                AuthenticationRegion = region,
                MaxErrorRetry = maxErrorRetry,
                Timeout = TimeSpan.FromSeconds(10),
            });

    /// <summary>Encrypts <paramref name="content"/> under a new data key of <paramref name="keyId"/> (a key id, ARN or alias/…).</summary>
    public async Task<EnvelopeObject> EncryptAsync(string keyId, ReadOnlyMemory<byte> content, IReadOnlyDictionary<string, string> encryptionContext, CancellationToken cancellationToken = default)
    {
        var dataKey = await kms.GenerateDataKeyAsync(
            new GenerateDataKeyRequest { KeyId = keyId, KeySpec = DataKeySpec.AES_256, EncryptionContext = new Dictionary<string, string>(encryptionContext) },
            cancellationToken).ConfigureAwait(false);
        var plaintextKey = dataKey.Plaintext.ToArray();
        try
        {
            var nonce = RandomNumberGenerator.GetBytes(NonceSize);
            var tag = new byte[TagSize];
            var ciphertext = new byte[content.Length];
            using (var gcm = new AesGcm(plaintextKey, TagSize))
            {
                gcm.Encrypt(nonce, content.Span, ciphertext, tag, AssociatedData(encryptionContext));
            }

            return new EnvelopeObject(dataKey.KeyId, new SortedDictionary<string, string>(encryptionContext.ToDictionary(), StringComparer.Ordinal), dataKey.CiphertextBlob.ToArray(), nonce, tag, ciphertext);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintextKey);
            CryptographicOperations.ZeroMemory(dataKey.Plaintext.GetBuffer());
        }
    }

    /// <summary>Unwraps the data key with KMS and decrypts; KMS errors (e.g. KMSInvalidStateException) pass through.</summary>
    public async Task<byte[]> DecryptAsync(EnvelopeObject envelope, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        using var blob = new MemoryStream(envelope.WrappedDataKey);
        var unwrapped = await kms.DecryptAsync(
            new DecryptRequest { CiphertextBlob = blob, EncryptionContext = new Dictionary<string, string>(envelope.EncryptionContext) },
            cancellationToken).ConfigureAwait(false);
        var plaintextKey = unwrapped.Plaintext.ToArray();
        try
        {
            var content = new byte[envelope.Ciphertext.Length];
            using var gcm = new AesGcm(plaintextKey, TagSize);
            gcm.Decrypt(envelope.Nonce, envelope.Ciphertext, envelope.Tag, content, AssociatedData(envelope.EncryptionContext));
            return content;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintextKey);
            CryptographicOperations.ZeroMemory(unwrapped.Plaintext.GetBuffer());
        }
    }

    /// <summary>The context as canonical text (keys in ordinal order, <c>key=value</c> lines), bound into the GCM tag.</summary>
    private static byte[] AssociatedData(IReadOnlyDictionary<string, string> context) =>
        Encoding.UTF8.GetBytes(string.Concat(context.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}\n")));
}
