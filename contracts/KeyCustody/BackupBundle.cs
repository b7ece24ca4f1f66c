using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text.Json;

namespace Xks.Contracts.KeyCustody;

/// <summary>
/// The encrypted backup bundle: one payload (everything needed to serve a Vault's keys again) sealed with AES-256-GCM
/// for one recipient, a passphrase (Argon2id, <see cref="Argon2Parameters"/>) or a P-256 recipient key (ECDH + HKDF,
/// <see cref="RecipientKeyAgreement"/>). Layout, in order: the ASCII magic <c>XKSBUNDLE</c>, the format version 0x01,
/// a big-endian u16 header length, the header (canonical compact JSON: recipient kind, Argon2id parameters and a
/// 16-byte salt or the ephemeral public key, content type, creation time, payload length), a random 12-byte nonce,
/// the ciphertext and the 16-byte tag. The associated data is every byte before the nonce, so the GCM tag covers the
/// whole bundle: nothing is trusted until it verifies, except the bounds that Open checks before deriving a key.
/// Derived keys are zeroed after use; the payload is at most <see cref="MaxPayloadLength"/> bytes.
/// </summary>
public static class BackupBundle
{
    /// <summary>64 MiB: the largest payload Seal writes and Open reads (checked before allocating).</summary>
    public const int MaxPayloadLength = 64 * 1024 * 1024;

    private const int KeySize = 32;

    /// <summary>Seals <paramref name="payload"/> for <paramref name="recipient"/>; <paramref name="createdAt"/> is stored in UTC.</summary>
    /// <exception cref="ArgumentException">The content type is empty, longer than 128 characters or not printable ASCII, or the payload exceeds <see cref="MaxPayloadLength"/>.</exception>
    public static byte[] Seal(ReadOnlySpan<byte> payload, BundleRecipient recipient, string contentType, DateTimeOffset createdAt)
    {
        ArgumentNullException.ThrowIfNull(recipient);
        if (BundleLayout.CheckContentType(contentType) is { } contentTypeProblem)
        {
            throw new ArgumentException(contentTypeProblem, nameof(contentType));
        }

        if (payload.Length > MaxPayloadLength)
        {
            throw new ArgumentException($"The payload is {payload.Length} bytes; the limit is {MaxPayloadLength}.", nameof(payload));
        }

        Span<byte> key = stackalloc byte[KeySize];
        try
        {
            var (recipientKind, argon2, ephemeralKey) = recipient.Kind == BundleRecipientKind.Passphrase
                ? DerivePassphraseKey(recipient, key)
                : DeriveRecipientKey(recipient, key);
            var headerJson = JsonSerializer.SerializeToUtf8Bytes(
                new BundleHeader
                {
                    Recipient = recipientKind,
                    Argon2id = argon2,
                    EphemeralKey = ephemeralKey,
                    ContentType = contentType,
                    CreatedAt = createdAt.ToUniversalTime(),
                    PayloadLength = payload.Length,
                },
                BundleHeaderJsonContext.Default.BundleHeader);
            if (headerJson.Length > BundleLayout.MaxHeaderLength)
            {
                throw new InvalidOperationException($"The header came to {headerJson.Length} bytes, over {BundleLayout.MaxHeaderLength}.");
            }

            var aadLength = BundleLayout.PrefixLength + headerJson.Length;
            var bundle = new byte[aadLength + BundleLayout.NonceSize + payload.Length + BundleLayout.TagSize];
            var span = bundle.AsSpan();
            BundleLayout.PrefixOf(BundleLayout.Version).CopyTo(span);
            BinaryPrimitives.WriteUInt16BigEndian(span[(BundleLayout.Magic.Length + 1)..], (ushort)headerJson.Length);
            headerJson.CopyTo(span[BundleLayout.PrefixLength..]);
            var nonce = span.Slice(aadLength, BundleLayout.NonceSize);
            RandomNumberGenerator.Fill(nonce);
            var ciphertext = span.Slice(aadLength + BundleLayout.NonceSize, payload.Length);
            using var gcm = new AesGcm(key, BundleLayout.TagSize);
            gcm.Encrypt(nonce, payload, ciphertext, span[^BundleLayout.TagSize..], span[..aadLength]);
            return bundle;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>
    /// Opens <paramref name="bundle"/> with <paramref name="opener"/>. Checks, in order: the magic and version, the
    /// lengths, the header (canonical JSON, fields in range, Argon2id parameters within bounds, so nothing is derived or
    /// allocated for a forged header), the recipient kind, then derives the key and verifies the GCM tag.
    /// </summary>
    /// <exception cref="BundleException">The bundle was refused; <see cref="BundleException.Reason"/> says why.</exception>
    public static OpenedBundle Open(ReadOnlySpan<byte> bundle, BundleOpener opener)
    {
        ArgumentNullException.ThrowIfNull(opener);
        var parsed = BundleLayout.Parse(bundle);
        if (parsed.RecipientKind != opener.Kind)
        {
            throw BundleLayout.Fail(BundleFailureReason.WrongRecipientKind, parsed.RecipientKind == BundleRecipientKind.Passphrase
                ? "The bundle was sealed with a passphrase; open it with the passphrase, not a private key."
                : "The bundle was sealed for a recipient key; open it with that key's private key, not a passphrase.");
        }

        Span<byte> key = stackalloc byte[KeySize];
        var payload = new byte[parsed.PayloadLength];
        try
        {
            if (opener.Kind == BundleRecipientKind.Passphrase)
            {
                var argon2 = parsed.Header.Argon2id!;
                PassphraseKdf.DeriveKey(
                    opener.Passphrase,
                    argon2.Salt,
                    new Argon2Parameters((int)argon2.MemoryKiB, (int)argon2.Iterations, (int)argon2.Parallelism),
                    key);
            }
            else
            {
                using var ours = opener.ImportPrivateKey();
                using var ephemeral = RecipientKeyAgreement.TryImportPublicKey(parsed.Header.EphemeralKey)!;
                RecipientKeyAgreement.DeriveKey(ours, ephemeral, parsed.Header.EphemeralKey, ours.ExportSubjectPublicKeyInfo(), key);
            }

            using var gcm = new AesGcm(key, BundleLayout.TagSize);
            gcm.Decrypt(
                bundle.Slice(parsed.NonceOffset, BundleLayout.NonceSize),
                bundle.Slice(parsed.CiphertextOffset, parsed.PayloadLength),
                bundle.Slice(parsed.TagOffset, BundleLayout.TagSize),
                payload,
                bundle[..parsed.AadLength]);
            return new OpenedBundle(payload, parsed.Info);
        }
        catch (AuthenticationTagMismatchException)
        {
            CryptographicOperations.ZeroMemory(payload);
            throw BundleLayout.Fail(BundleFailureReason.AuthenticationFailed,
                "The bundle did not authenticate: wrong passphrase or key, or the bundle was altered. AES-GCM cannot tell these apart.");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>
    /// Reads the header without opening: which opener the bundle wants, its content type and size. Runs every
    /// structural check Open runs, but nothing is authenticated until <see cref="Open"/> succeeds.
    /// </summary>
    /// <exception cref="BundleException">The bundle is structurally refused.</exception>
    public static BundleInfo Inspect(ReadOnlySpan<byte> bundle) => BundleLayout.Parse(bundle).Info;

    /// <summary>Derives the key of a passphrase bundle under a fresh salt; returns the header's key fields.</summary>
    private static (string Recipient, Argon2Header? Argon2, byte[]? EphemeralKey) DerivePassphraseKey(BundleRecipient recipient, Span<byte> key)
    {
        var parameters = recipient.Argon2!;
        var salt = RandomNumberGenerator.GetBytes(PassphraseKdf.SaltSize);
        PassphraseKdf.DeriveKey(recipient.Passphrase!, salt, parameters, key);
        var argon2 = new Argon2Header
        {
            Version = Argon2Header.Version13,
            MemoryKiB = parameters.MemoryKiB,
            Iterations = parameters.Iterations,
            Parallelism = parameters.Parallelism,
            Salt = salt,
        };
        return (BundleHeader.PassphraseRecipient, argon2, null);
    }

    /// <summary>Derives the key of a recipient-key bundle from a fresh ephemeral key; returns the header's key fields.</summary>
    private static (string Recipient, Argon2Header? Argon2, byte[]? EphemeralKey) DeriveRecipientKey(BundleRecipient recipient, Span<byte> key)
    {
        using var recipientKey = recipient.ImportPublicKey();
        using var ephemeral = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var ephemeralSpki = ephemeral.ExportSubjectPublicKeyInfo();
        RecipientKeyAgreement.DeriveKey(ephemeral, recipientKey, ephemeralSpki, recipient.PublicKeySpki!, key);
        return (BundleHeader.PublicKeyRecipient, null, ephemeralSpki);
    }
}
