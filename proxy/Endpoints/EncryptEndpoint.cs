using System.Buffers;
using System.Security.Cryptography;
using Xks.Proxy.Contracts;
using Xks.Proxy.Crypto;
using Xks.Proxy.Errors;

namespace Xks.Proxy.Endpoints;

/// <summary>
/// POST .../keys/{id}/encrypt — AES-256-GCM under a sub-key of the key's newest version, metadata naming that version and sub-key bound
/// into the tag, and, when asked, the CDIV computed before a verifying decrypt (spec Appendix C order).
/// </summary>
public sealed class EncryptEndpoint(IKeyBackend backend)
{
    private const int IvSize = 12;
    private const int TagSize = 16;

    internal void Handle(XksCall call, JsonResponse response)
    {
        var request = call.Deserialize(XksJsonContext.Default.EncryptRequest);
        var metadata = call.RequireMetadata(request.RequestMetadata);
        var plaintextBase64 = XksCall.Require(request.Plaintext, "plaintext");
        XksCall.RequireAesGcm(request.EncryptionAlgorithm);

        var wantCdiv = request.CiphertextDataIntegrityValueAlgorithm is not null;
        if (wantCdiv && request.CiphertextDataIntegrityValueAlgorithm != "SHA_256")
        {
            throw XksException.Validation("ciphertextDataIntegrityValueAlgorithm must be SHA_256.");
        }

        var (key, material, plaintextLength, aadLength) = call.ResolveCryptoKey(metadata, backend, plaintextBase64, "plaintext", request.AdditionalAuthenticatedData);
        if (wantCdiv && !key.CanDecrypt)
        {
            // The CDIV requires a verifying decrypt, which an encrypt-only key does not permit (spec Appendix C).
            throw new XksException(XksErrorName.InvalidKeyUsageException, $"Key '{key.Id}' does not allow DECRYPT, which the integrity value's verifying decrypt needs.");
        }

        var backendKey = XksCall.RequireMaterial(material, key.Id);
        var version = backendKey.CurrentVersion;
        call.Audit.KeyVersion = version;

        // Counted against the sub-key's budget before anything else: its salt goes into the metadata, and so into the AAD.
        var subKey = backendKey.ReserveEncryption(version);
        Span<byte> ciphertextMetadata = stackalloc byte[KeyVersionMetadata.MaxLength];
        ciphertextMetadata = ciphertextMetadata[..KeyVersionMetadata.Write(version, subKey.Salt, ciphertextMetadata)];

        // One pooled buffer: plaintext | ciphertext | verification plaintext | key-manager AAD.
        var kmAadLength = XksAad.GetLength(aadLength, ciphertextMetadata.Length);
        var size = (plaintextLength * 3) + aadLength + kmAadLength;
        var rented = ArrayPool<byte>.Shared.Rent(Math.Max(size, 1));
        try
        {
            var plaintext = rented.AsSpan(0, plaintextLength);
            var ciphertext = rented.AsSpan(plaintextLength, plaintextLength);
            var check = rented.AsSpan(plaintextLength * 2, plaintextLength);
            var aad = rented.AsSpan(plaintextLength * 3, aadLength);
            var kmAad = rented.AsSpan((plaintextLength * 3) + aadLength, kmAadLength);
            XksCall.Decode(plaintextBase64, plaintext);
            if (request.AdditionalAuthenticatedData is { } aadBase64)
            {
                XksCall.Decode(aadBase64, aad);
            }

            XksAad.Build(aad, ciphertextMetadata, kmAad);

            Span<byte> iv = stackalloc byte[IvSize];
            Span<byte> tag = stackalloc byte[TagSize];
            subKey.Encrypt(plaintext, kmAad, iv, ciphertext, tag);

            Span<byte> cdiv = stackalloc byte[CiphertextDataIntegrityValue.Size];
            if (wantCdiv)
            {
                CiphertextDataIntegrityValue.Compute(aad, ciphertextMetadata, iv, ciphertext, tag, cdiv);
                // Not a secret comparison (both sides are the proxy's own data, equal unless the key manager faulted),
                // so the vectorized SequenceEqual, not FixedTimeEquals, which is unoptimized and costs ~16 µs on 4 KB.
                if (!subKey.TryDecrypt(ciphertext, iv, tag, kmAad, check) || !check.SequenceEqual(plaintext))
                {
                    throw new XksException(XksErrorName.InternalException, "The key manager's output failed verification.",
                        $"verifying decrypt after encrypt failed for key '{key.Id}' version {version}");
                }
            }

            var w = response.Writer;
            w.WriteStartObject();
            w.WriteBase64String("authenticationTag"u8, tag);
            w.WriteBase64String("ciphertext"u8, ciphertext);
            if (wantCdiv)
            {
                w.WriteBase64String("ciphertextDataIntegrityValue"u8, cdiv);
            }

            w.WriteBase64String("ciphertextMetadata"u8, ciphertextMetadata);
            w.WriteBase64String("initializationVector"u8, iv);
            w.WriteEndObject();
        }
        finally
        {
            CryptographicOperations.ZeroMemory(rented.AsSpan(0, Math.Min(size, rented.Length)));
            ArrayPool<byte>.Shared.Return(rented);
        }
    }
}
