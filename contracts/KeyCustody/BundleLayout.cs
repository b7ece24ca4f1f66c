using System.Buffers.Binary;
using System.Text.Json;

namespace Xks.Contracts.KeyCustody;

/// <summary>
/// The byte layout of a bundle and its structural checks (everything Open does before any key is derived):
/// <code>
/// offset 0        "XKSBUNDLE"                 9 bytes ASCII magic
/// offset 9        0x01                        format version
/// offset 10       header length h             u16 big-endian, 1..MaxHeaderLength
/// offset 12       header                      h bytes of canonical compact JSON (see BundleHeader)
/// offset 12+h     nonce                       12 random bytes
/// offset 24+h     ciphertext                  payloadLength bytes (from the header)
/// end - 16        tag                         16 bytes; the bundle ends here
/// </code>
/// The AES-256-GCM associated data is bytes [0, 12+h): magic, version, length and header exactly as stored.
/// </summary>
internal static class BundleLayout
{
    public const byte Version = 0x01;

    public const int LengthSize = 2;

    public const int MaxHeaderLength = 1024;

    public const int NonceSize = 12;

    public const int TagSize = 16;

    public const int MaxContentTypeLength = 128;

    public static ReadOnlySpan<byte> Magic => "XKSBUNDLE"u8;

    /// <summary>Bytes before the header: magic, version, header length.</summary>
    public static int PrefixLength => Magic.Length + 1 + LengthSize;

    /// <summary>Magic followed by <paramref name="version"/>.</summary>
    public static byte[] PrefixOf(byte version) => [.. Magic, version];

    /// <summary>Null if <paramref name="contentType"/> is 1..128 printable ASCII characters; otherwise why not.</summary>
    public static string? CheckContentType(string? contentType)
    {
        if (string.IsNullOrEmpty(contentType) || contentType.Length > MaxContentTypeLength)
        {
            return $"The content type must be 1 to {MaxContentTypeLength} characters.";
        }

        foreach (var c in contentType)
        {
            if (c is < ' ' or > '~')
            {
                return "The content type must be printable ASCII.";
            }
        }

        return null;
    }

    /// <summary>Checks the structure of <paramref name="bundle"/> and parses its header; throws <see cref="BundleException"/>.</summary>
    public static ParsedBundle Parse(ReadOnlySpan<byte> bundle)
    {
        var magic = Magic;
        if (bundle.Length < magic.Length)
        {
            throw bundle.SequenceEqual(magic[..bundle.Length])
                ? Fail(BundleFailureReason.Truncated, $"The bundle ends after {bundle.Length} bytes, inside the magic.")
                : Fail(BundleFailureReason.NotABundle, "The data is not an XKS backup bundle (wrong magic).");
        }

        if (!bundle.StartsWith(magic))
        {
            throw Fail(BundleFailureReason.NotABundle, "The data is not an XKS backup bundle (wrong magic).");
        }

        if (bundle.Length == magic.Length)
        {
            throw Fail(BundleFailureReason.Truncated, $"The bundle ends after {bundle.Length} bytes, before the format version.");
        }

        var version = bundle[magic.Length];
        if (version != Version)
        {
            throw Fail(BundleFailureReason.UnsupportedVersion, $"Bundle format version {version} is not supported; this build reads version {Version}.");
        }

        if (bundle.Length < PrefixLength)
        {
            throw Fail(BundleFailureReason.Truncated, $"The bundle ends after {bundle.Length} bytes, inside the header length.");
        }

        int headerLength = BinaryPrimitives.ReadUInt16BigEndian(bundle[(magic.Length + 1)..]);
        if (headerLength is 0 or > MaxHeaderLength)
        {
            throw Fail(BundleFailureReason.MalformedHeader, $"The header length {headerLength} is outside 1..{MaxHeaderLength}.");
        }

        var aadLength = PrefixLength + headerLength;
        if (bundle.Length < aadLength)
        {
            throw Fail(BundleFailureReason.Truncated, $"The bundle ends after {bundle.Length} bytes, inside its {headerLength}-byte header.");
        }

        var header = ParseHeader(bundle[PrefixLength..aadLength]);
        if (header.PayloadLength > BackupBundle.MaxPayloadLength)
        {
            throw Fail(BundleFailureReason.PayloadTooLarge,
                $"The header announces a {header.PayloadLength}-byte payload; the limit is {BackupBundle.MaxPayloadLength} bytes.");
        }

        var payloadLength = (int)header.PayloadLength;
        var expected = (long)aadLength + NonceSize + payloadLength + TagSize;
        if (bundle.Length < expected)
        {
            throw Fail(BundleFailureReason.Truncated, $"The bundle is {bundle.Length} bytes; its header announces {expected}.");
        }

        if (bundle.Length > expected)
        {
            throw Fail(BundleFailureReason.TrailingData, $"The bundle is {bundle.Length} bytes; its header announces {expected}, so {bundle.Length - expected} bytes were appended.");
        }

        return new ParsedBundle(header, aadLength, payloadLength);
    }

    public static BundleException Fail(BundleFailureReason reason, string message) => new(reason, message);

    private static BundleHeader ParseHeader(ReadOnlySpan<byte> json)
    {
        BundleHeader? header;
        try
        {
            header = JsonSerializer.Deserialize(json, BundleHeaderJsonContext.Default.BundleHeader);
        }
        catch (JsonException e)
        {
            throw Fail(BundleFailureReason.MalformedHeader, $"The header is not valid bundle JSON ({e.Message}).");
        }

        if (header is null)
        {
            throw Fail(BundleFailureReason.MalformedHeader, "The header is JSON null.");
        }

        if (!json.SequenceEqual(JsonSerializer.SerializeToUtf8Bytes(header, BundleHeaderJsonContext.Default.BundleHeader)))
        {
            throw Fail(BundleFailureReason.MalformedHeader, "The header is not in canonical form (member order, spacing or encoding differs from what Seal writes).");
        }

        if (CheckContentType(header.ContentType) is { } contentTypeProblem)
        {
            throw Fail(BundleFailureReason.MalformedHeader, contentTypeProblem);
        }

        if (header.PayloadLength < 0)
        {
            throw Fail(BundleFailureReason.MalformedHeader, $"The payload length {header.PayloadLength} is negative.");
        }

        switch (header.Recipient)
        {
            case BundleHeader.PassphraseRecipient when header.Argon2id is { } argon2 && header.EphemeralKey is null:
                if (argon2.Version != Argon2Header.Version13)
                {
                    throw Fail(BundleFailureReason.MalformedHeader, $"Argon2 version {argon2.Version} is not supported; only {Argon2Header.Version13} (0x13).");
                }

                if (argon2.Salt.Length != PassphraseKdf.SaltSize)
                {
                    throw Fail(BundleFailureReason.MalformedHeader, $"The Argon2 salt is {argon2.Salt.Length} bytes; it must be {PassphraseKdf.SaltSize}.");
                }

                if (Argon2Parameters.Check(argon2.MemoryKiB, argon2.Iterations, argon2.Parallelism) is { } problem)
                {
                    throw Fail(problem.Reason, problem.Message);
                }

                break;
            case BundleHeader.PublicKeyRecipient when header.EphemeralKey is { } ephemeralKey && header.Argon2id is null:
                using (var key = RecipientKeyAgreement.TryImportPublicKey(ephemeralKey))
                {
                    if (key is null)
                    {
                        throw Fail(BundleFailureReason.MalformedHeader, "The ephemeral key is not the canonical SubjectPublicKeyInfo of a P-256 point.");
                    }
                }

                break;
            case BundleHeader.PassphraseRecipient or BundleHeader.PublicKeyRecipient:
                throw Fail(BundleFailureReason.MalformedHeader, $"A '{header.Recipient}' header needs exactly its own key fields ('argon2id' for a passphrase, 'ephemeralKey' for a recipient key).");
            default:
                throw Fail(BundleFailureReason.MalformedHeader, "The header names an unknown recipient kind.");
        }

        return header;
    }
}

/// <summary>A structurally valid bundle: its header, where the header ends (the AAD length), and the payload length.</summary>
internal sealed record ParsedBundle(BundleHeader Header, int AadLength, int PayloadLength)
{
    public int NonceOffset => AadLength;

    public int CiphertextOffset => AadLength + BundleLayout.NonceSize;

    public int TagOffset => CiphertextOffset + PayloadLength;

    public BundleRecipientKind RecipientKind =>
        Header.Recipient == BundleHeader.PassphraseRecipient ? BundleRecipientKind.Passphrase : BundleRecipientKind.PublicKey;

    public BundleInfo Info => new(
        RecipientKind,
        Header.ContentType,
        Header.CreatedAt,
        PayloadLength,
        Header.Argon2id is { } a ? new Argon2Parameters((int)a.MemoryKiB, (int)a.Iterations, (int)a.Parallelism) : null);
}
