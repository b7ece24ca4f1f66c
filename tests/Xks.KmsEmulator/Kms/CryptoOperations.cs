using System.Security.Cryptography;
using Xks.KmsEmulator.Crypto;
using Xks.KmsEmulator.Hosting;
using Xks.KmsEmulator.Xks;

namespace Xks.KmsEmulator.Kms;

/// <summary>
/// Encrypt, Decrypt and GenerateDataKey. Keys in an external key store are used through the proxy (checking the
/// ciphertextDataIntegrityValue of every encrypt); AWS_KMS keys are used locally with AES-256-GCM. The encryption
/// context is the AAD.
/// </summary>
internal sealed class CryptoOperations
{
    private const int MaxPlaintextBytes = 4096;
    private readonly KmsState _state;
    private readonly KeyResolver _resolver;
    private readonly XksClient _xks;
    private readonly ILogger _logger;

    public CryptoOperations(KmsState state, KeyResolver resolver, XksClient xks, ILogger logger)
    {
        _state = state;
        _resolver = resolver;
        _xks = xks;
        _logger = logger;
    }

    public async Task<CryptoResponse> EncryptAsync(CryptoRequest request, CallContext call, CancellationToken cancellationToken)
    {
        if (request.Plaintext is not { Length: >= 1 and <= MaxPlaintextBytes })
        {
            throw KmsException.Validation($"1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length between 1 and {MaxPlaintextBytes}");
        }

        CheckAlgorithm(request.EncryptionAlgorithm);
        var blob = await EncryptCoreAsync(request.KeyId, request.Plaintext, request.EncryptionContext, "Encrypt", call, cancellationToken).ConfigureAwait(false);
        return new CryptoResponse { CiphertextBlob = blob.Blob, KeyId = blob.KeyArn, EncryptionAlgorithm = "SYMMETRIC_DEFAULT" };
    }

    public async Task<CryptoResponse> GenerateDataKeyAsync(CryptoRequest request, CallContext call, CancellationToken cancellationToken)
    {
        var length = (request.KeySpec, request.NumberOfBytes) switch
        {
            ("AES_256", null) => 32,
            ("AES_128", null) => 16,
            (null, { } bytes and >= 1 and <= 1024) => bytes,
            (null, null) => throw KmsException.Validation("Specify either KeySpec or NumberOfBytes."),
            (not null, not null) => throw KmsException.Validation("Specify either KeySpec or NumberOfBytes, not both."),
            _ => throw KmsException.Validation("KeySpec must be AES_256 or AES_128; NumberOfBytes between 1 and 1024."),
        };
        var dataKey = RandomNumberGenerator.GetBytes(length);
        var blob = await EncryptCoreAsync(request.KeyId, dataKey, request.EncryptionContext, "GenerateDataKey", call, cancellationToken).ConfigureAwait(false);
        return new CryptoResponse { CiphertextBlob = blob.Blob, Plaintext = dataKey, KeyId = blob.KeyArn };
    }

    public async Task<CryptoResponse> DecryptAsync(CryptoRequest request, CallContext call, CancellationToken cancellationToken)
    {
        CheckAlgorithm(request.EncryptionAlgorithm);
        if (request.CiphertextBlob is null || !CiphertextBlob.TryParse(request.CiphertextBlob, out var blob))
        {
            throw new KmsException("InvalidCiphertextException", "The ciphertext is not a ciphertext blob of this KMS.");
        }

        KeyRecord key;
        XksEndpoint? endpoint;
        lock (_state.Gate)
        {
            if (request.KeyId is not null && _resolver.Resolve(request.KeyId).KeyId != blob.KeyId)
            {
                throw new KmsException("IncorrectKeyException", "The key ID in the request does not identify a KMS key that can perform this operation.");
            }

            key = _resolver.Resolve(blob.KeyId, allowAlias: false);
            endpoint = Usable(key);
        }

        var aad = EncryptionContextAad.Build(request.EncryptionContext);
        if (!CryptographicOperations.FixedTimeEquals(CiphertextBlob.DigestOf(aad), blob.AadDigest))
        {
            throw new KmsException("InvalidCiphertextException", "The encryption context does not match the one the ciphertext was encrypted with.");
        }

        byte[] plaintext;
        if (key.LocalMaterial is { } material)
        {
            plaintext = new byte[blob.Ciphertext.Length];
            try
            {
                using var gcm = new AesGcm(material, 16);
                gcm.Decrypt(blob.Iv, blob.Ciphertext, blob.Tag, plaintext, aad);
            }
            catch (AuthenticationTagMismatchException)
            {
                throw new KmsException("InvalidCiphertextException", "The ciphertext is corrupted.");
            }
        }
        else
        {
            var response = await CallXksAsync(endpoint!, "Decrypt", call, requestId => _xks.DecryptAsync(endpoint!, key.XksKeyId!, new XksDecryptRequest
            {
                RequestMetadata = Metadata(call, key, "Decrypt", requestId),
                Ciphertext = Convert.ToBase64String(blob.Ciphertext),
                CiphertextMetadata = blob.Metadata.Length == 0 ? null : Convert.ToBase64String(blob.Metadata),
                AdditionalAuthenticatedData = aad is null ? null : Convert.ToBase64String(aad),
                InitializationVector = Convert.ToBase64String(blob.Iv),
                AuthenticationTag = Convert.ToBase64String(blob.Tag),
            }, cancellationToken)).ConfigureAwait(false);
            plaintext = DecodeOrInvalid(response.Plaintext, "plaintext");
            if (plaintext.Length != blob.Ciphertext.Length)
            {
                throw KmsException.InvalidState("The external key store proxy returned a plaintext whose length differs from the ciphertext's.");
            }
        }

        return new CryptoResponse { Plaintext = plaintext, KeyId = key.Arn, EncryptionAlgorithm = "SYMMETRIC_DEFAULT" };
    }

    private async Task<(byte[] Blob, string KeyArn)> EncryptCoreAsync(
        string? keyId, byte[] plaintext, Dictionary<string, string>? context, string kmsOperation, CallContext call, CancellationToken cancellationToken)
    {
        KeyRecord key;
        XksEndpoint? endpoint;
        lock (_state.Gate)
        {
            key = _resolver.Resolve(keyId);
            endpoint = Usable(key);
        }

        var aad = EncryptionContextAad.Build(context);
        CiphertextBlob blob;
        if (key.LocalMaterial is { } material)
        {
            var iv = RandomNumberGenerator.GetBytes(12);
            var tag = new byte[16];
            var ciphertext = new byte[plaintext.Length];
            using var gcm = new AesGcm(material, 16);
            gcm.Encrypt(iv, plaintext, ciphertext, tag, aad);
            blob = new CiphertextBlob(key.KeyId, CiphertextBlob.DigestOf(aad), [], iv, tag, ciphertext);
        }
        else
        {
            var response = await CallXksAsync(endpoint!, kmsOperation, call, requestId => _xks.EncryptAsync(endpoint!, key.XksKeyId!, new XksEncryptRequest
            {
                RequestMetadata = Metadata(call, key, kmsOperation, requestId),
                Plaintext = Convert.ToBase64String(plaintext),
                AdditionalAuthenticatedData = aad is null ? null : Convert.ToBase64String(aad),
            }, cancellationToken)).ConfigureAwait(false);
            blob = CheckEncryptResponse(key.KeyId, aad, plaintext.Length, response);
        }

        return (blob.ToBytes(), key.Arn);
    }

    /// <summary>Checks the proxy's encrypt output (sizes, CDIV per XKS-SPEC §5.3) and wraps it in a ciphertext blob.</summary>
    internal static CiphertextBlob CheckEncryptResponse(string keyId, byte[]? aad, int plaintextLength, XksEncryptResponse response)
    {
        var ciphertext = DecodeOrInvalid(response.Ciphertext, "ciphertext");
        var iv = DecodeOrInvalid(response.InitializationVector, "initializationVector");
        var tag = DecodeOrInvalid(response.AuthenticationTag, "authenticationTag");
        var metadata = response.CiphertextMetadata is null ? [] : DecodeOrInvalid(response.CiphertextMetadata, "ciphertextMetadata");
        var cdiv = DecodeOrInvalid(response.CiphertextDataIntegrityValue, "ciphertextDataIntegrityValue");
        if (ciphertext.Length != plaintextLength || iv.Length is not (12 or 16) || tag.Length != 16 || metadata.Length > 20)
        {
            throw KmsException.InvalidState("The external key store proxy returned an encrypt response with invalid field sizes.");
        }

        if (!CryptographicOperations.FixedTimeEquals(cdiv, CiphertextDataIntegrityValue.Compute(aad, metadata, iv, ciphertext, tag)))
        {
            throw KmsException.InvalidState("The ciphertextDataIntegrityValue from the external key store proxy does not match its encrypt response.");
        }

        return new CiphertextBlob(keyId, CiphertextBlob.DigestOf(aad), metadata, iv, tag, ciphertext);
    }

    private async Task<T> CallXksAsync<T>(XksEndpoint endpoint, string kmsOperation, CallContext call, Func<string, Task<T>> send)
    {
        var requestId = Guid.NewGuid().ToString();
        try
        {
            var result = await send(requestId).ConfigureAwait(false);
            Log.XksCall(_logger, kmsOperation, requestId, endpoint.UriEndpoint + endpoint.UriPath, "ok");
            return result;
        }
        catch (XksFailure failure)
        {
            Log.XksCall(_logger, kmsOperation, requestId, endpoint.UriEndpoint + endpoint.UriPath, failure.Message);
            throw XksFailureMap.ForCrypto(failure);
        }
    }

    private static XksRequestMetadata Metadata(CallContext call, KeyRecord key, string kmsOperation, string requestId) => new()
    {
        AwsPrincipalArn = call.Caller.Arn,
        KmsKeyArn = key.Arn,
        KmsOperation = kmsOperation,
        KmsRequestId = requestId,
    };

    /// <summary>The key must be enabled and, for an external key, its store CONNECTED. Call under the lock.</summary>
    private XksEndpoint? Usable(KeyRecord key)
    {
        switch (key.KeyState)
        {
            case KeyStates.PendingDeletion:
                throw KmsException.InvalidState($"{key.Arn} is pending deletion.");
            case KeyStates.Disabled:
                throw new KmsException("DisabledException", $"{key.Arn} is disabled.");
        }

        if (key.CustomKeyStoreId is null)
        {
            return null;
        }

        var store = _state.KeyStores.FirstOrDefault(s => s.Id == key.CustomKeyStoreId);
        if (store is not { ConnectionState: ConnectionStates.Connected })
        {
            throw KmsException.InvalidState($"{key.Arn} is unavailable: its custom key store {key.CustomKeyStoreId} is not connected.");
        }

        return store.Endpoint;
    }

    private static void CheckAlgorithm(string? algorithm)
    {
        if (algorithm is not (null or "SYMMETRIC_DEFAULT"))
        {
            throw new KmsException("InvalidKeyUsageException", $"Encryption algorithm {algorithm} is not valid for a symmetric key.");
        }
    }

    private static byte[] DecodeOrInvalid(string? base64, string field)
    {
        try
        {
            return Convert.FromBase64String(base64 ?? throw new FormatException());
        }
        catch (FormatException)
        {
            throw KmsException.InvalidState($"The external key store proxy's response has a missing or malformed '{field}'.");
        }
    }
}
