using System.Buffers;
using System.Security.Cryptography;
using Xks.Proxy.Contracts;
using Xks.Proxy.Crypto;
using Xks.Proxy.Errors;

namespace Xks.Proxy.Endpoints;

/// <summary>
/// POST .../keys/{id}/decrypt — selects the key version (and sub-key) named by ciphertextMetadata and verifies the GCM tag over
/// the request's AAD and that metadata. Any tampering gives InvalidCiphertextException.
/// </summary>
public sealed class DecryptEndpoint(IKeyBackend backend)
{
    private const int MaxMetadataBytes = 20;

    internal void Handle(XksCall call, JsonResponse response)
    {
        var request = call.Deserialize(XksJsonContext.Default.DecryptRequest);
        var metadata = call.RequireMetadata(request.RequestMetadata);
        var ciphertextBase64 = XksCall.Require(request.Ciphertext, "ciphertext");
        XksCall.RequireAesGcm(request.EncryptionAlgorithm);
        var ivBase64 = XksCall.Require(request.InitializationVector, "initializationVector");
        var tagBase64 = XksCall.Require(request.AuthenticationTag, "authenticationTag");

        var ivLength = XksCall.CheckBase64(ivBase64, "initializationVector", 16, XksErrorName.ValidationException);
        if (ivLength is not (12 or 16))
        {
            throw XksException.Validation("initializationVector must be 12 or 16 bytes.");
        }

        var tagLength = XksCall.CheckBase64(tagBase64, "authenticationTag", 16, XksErrorName.ValidationException);
        if (tagLength != 16)
        {
            throw XksException.Validation("authenticationTag must be 16 bytes.");
        }

        var metadataLength = request.CiphertextMetadata is { } metadataText
            ? XksCall.CheckBase64(metadataText, "ciphertextMetadata", MaxMetadataBytes, XksErrorName.ValidationException)
            : 0;

        var (key, material, ciphertextLength, aadLength) = call.ResolveCryptoKey(metadata, backend, ciphertextBase64, "ciphertext", request.AdditionalAuthenticatedData);
        var backendKey = XksCall.RequireMaterial(material, key.Id);

        Span<byte> ciphertextMetadata = stackalloc byte[MaxMetadataBytes];
        ciphertextMetadata = ciphertextMetadata[..metadataLength];
        if (request.CiphertextMetadata is { } metadataBase64)
        {
            XksCall.Decode(metadataBase64, ciphertextMetadata);
        }

        if (!KeyVersionMetadata.TryRead(ciphertextMetadata, out var version, out var salt))
        {
            throw XksException.InvalidCiphertext("The ciphertext was not produced by this key (ciphertextMetadata missing or altered).");
        }

        call.Audit.KeyVersion = version;
        if (!backendKey.HasVersion(version))
        {
            throw new XksException(XksErrorName.InvalidCiphertextException, "The ciphertext was not produced by this key.",
                $"ciphertextMetadata names version {version} of key '{key.Id}', which does not exist (current {backendKey.CurrentVersion})");
        }

        var kmAadLength = XksAad.GetLength(aadLength, metadataLength);
        var size = (ciphertextLength * 2) + aadLength + kmAadLength;
        var rented = ArrayPool<byte>.Shared.Rent(Math.Max(size, 1));
        try
        {
            var ciphertext = rented.AsSpan(0, ciphertextLength);
            var plaintext = rented.AsSpan(ciphertextLength, ciphertextLength);
            var aad = rented.AsSpan(ciphertextLength * 2, aadLength);
            var kmAad = rented.AsSpan((ciphertextLength * 2) + aadLength, kmAadLength);
            XksCall.Decode(ciphertextBase64, ciphertext);
            if (request.AdditionalAuthenticatedData is { } aadBase64)
            {
                XksCall.Decode(aadBase64, aad);
            }

            Span<byte> iv = stackalloc byte[16];
            iv = iv[..ivLength];
            XksCall.Decode(ivBase64, iv);
            Span<byte> tag = stackalloc byte[16];
            XksCall.Decode(tagBase64, tag);
            XksAad.Build(aad, ciphertextMetadata, kmAad);

            if (!backendKey.TryDecrypt(version, salt, ciphertext, iv, tag, kmAad, plaintext))
            {
                throw XksException.InvalidCiphertext("The ciphertext, IV, tag, AAD or ciphertextMetadata does not authenticate.");
            }

            var w = response.Writer;
            w.WriteStartObject();
            w.WriteBase64String("plaintext"u8, plaintext);
            w.WriteEndObject();
        }
        finally
        {
            CryptographicOperations.ZeroMemory(rented.AsSpan(0, Math.Min(size, rented.Length)));
            ArrayPool<byte>.Shared.Return(rented);
        }
    }
}
