using System.Buffers.Text;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace Xks.Contracts.KeyCustody;

/// <summary>
/// One custodian's Shamir share of a Vault's root key (<see cref="Shamir"/>), and the text a custodian stores or prints
/// and later pastes back. The text is one line of ASCII letters, digits, '-', '_' and '.': no space, quote, slash or
/// other character a shell, a terminal or a URL parser treats specially. What an editor may still change (a smart
/// dash, a dropped character) is caught by the character check or the checksum; whitespace is ignored on reading, so a
/// printed line may wrap.
/// <code>xks-share-v1.{vaultId}.{threshold}.{x}.{y}.{checksum}</code>
/// <list type="bullet">
/// <item><c>xks-share-v1</c>: what the line is, and the version of this format.</item>
/// <item><c>vaultId</c>: which Vault the share unseals, 1–127 characters of a–z, 0–9, '-' and '_', starting and ending
/// with a letter or digit; <see cref="VaultIdFor"/> makes it from the Vault's namespace and name.</item>
/// <item><c>threshold</c>: how many shares the split needs (decimal, 2–255), so too few are refused before combining.</item>
/// <item><c>x</c>: the share's x (decimal, 1–255); the split numbers custodians 1, 2, 3 …</item>
/// <item><c>y</c>: the share's y bytes, base64url without padding (RFC 4648 §5). This is the secret part.</item>
/// <item><c>checksum</c>: base64url of the first 4 bytes of SHA-256 over the ASCII text before the last '.', so a
/// mistyped or altered line is refused (a random change passes with probability 2^-32).</item>
/// </list>
/// The checksum is not a MAC: it catches mistakes, not forgery. Whether the combined key is right is checked by the
/// caller against a key-check value (see <see cref="Shamir.Combine"/>). A share holds secret bytes: <see cref="Dispose"/>
/// zeroes <see cref="Y"/>, <see cref="ToString"/> never shows it, and problems never quote it. The text from
/// <see cref="Format()"/> is secret too; strings cannot be zeroed, so write it straight to the custodian and do not log it.
/// </summary>
public sealed record CustodianShare : IDisposable
{
    /// <summary>The first field: the format and its version.</summary>
    public const string Prefix = "xks-share-v1";

    /// <summary>The longest vault id: a namespace (63), '_' and a name (63).</summary>
    public const int MaxVaultIdLength = 127;

    /// <summary>Bytes of SHA-256 kept as the checksum.</summary>
    public const int ChecksumBytes = 4;

    /// <summary>The longest share text, whitespace aside.</summary>
    public const int MaxTextLength = 12 /* xks-share-v1 */ + MaxVaultIdLength + 3 /* threshold */ + 3 /* x */
        + (Shamir.MaxSecretLength * 4 + 2) / 3 /* y */ + ChecksumChars + 5 /* dots */;

    private const int ChecksumChars = (ChecksumBytes * 4 + 2) / 3;

    /// <summary>Raw input beyond this is refused before any work, whitespace included.</summary>
    private const int MaxRawTextLength = 4 * MaxTextLength;

    private const string PrefixStart = "xks-share-";

    private const string UnexpectedCharacter = "unexpected character at position {0}: a share has only letters, digits, '-', '_' and '.', so it was mistyped or altered";

    private bool _disposed;

    /// <summary>A share of the Vault <paramref name="vaultId"/>; <paramref name="y"/> is copied.</summary>
    /// <exception cref="ArgumentException">The vault id is not valid, or <paramref name="y"/> is empty or longer than <see cref="Shamir.MaxSecretLength"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The threshold is outside 2–255 or x is 0.</exception>
    public CustodianShare(string vaultId, int threshold, byte x, ReadOnlySpan<byte> y)
    {
        ArgumentNullException.ThrowIfNull(vaultId);
        if (!IsValidVaultId(vaultId))
        {
            throw new ArgumentException(
                $"'{vaultId}' is not a vault id: 1 to {MaxVaultIdLength} characters of a-z, 0-9, '-' and '_', starting and ending with a letter or digit.",
                nameof(vaultId));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(threshold, Shamir.MinThreshold);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(threshold, Shamir.MaxShares);
        ArgumentOutOfRangeException.ThrowIfZero(x);
        if (y.IsEmpty || y.Length > Shamir.MaxSecretLength)
        {
            throw new ArgumentException($"A share has 1 to {Shamir.MaxSecretLength} y bytes (got {y.Length}).", nameof(y));
        }

        VaultId = vaultId;
        Threshold = threshold;
        X = x;
        Y = y.ToArray();
    }

    /// <summary>A copy (as made by <c>with</c>) gets its own <see cref="Y"/>, so disposing one leaves the other intact.</summary>
    private CustodianShare(CustodianShare original)
    {
        VaultId = original.VaultId;
        Threshold = original.Threshold;
        X = original.X;
        Y = (byte[])original.Y.Clone();
        _disposed = original._disposed;
    }

    /// <summary>Which Vault the share unseals (see <see cref="VaultIdFor"/>).</summary>
    public string VaultId { get; }

    /// <summary>How many shares the split needs.</summary>
    public int Threshold { get; }

    /// <summary>The share's x, 1–255: the custodian's number in the split.</summary>
    public byte X { get; }

    /// <summary>The share's y bytes, one per byte of the secret. Secret; zeroed by <see cref="Dispose"/>.</summary>
    public byte[] Y { get; }

    /// <summary>
    /// The vault id of the Vault <paramref name="name"/> in <paramref name="namespace"/>: <c>{namespace}_{name}</c>.
    /// Both are Kubernetes DNS labels (a–z, 0–9, '-'), which never contain '_', so different Vaults never get the same id.
    /// </summary>
    /// <exception cref="ArgumentException">Either part is not a DNS label of 1–63 characters.</exception>
    public static string VaultIdFor(string @namespace, string name)
    {
        CheckDnsLabel(@namespace, nameof(@namespace));
        CheckDnsLabel(name, nameof(name));
        return $"{@namespace}_{name}";
    }

    /// <summary>Whether <paramref name="vaultId"/> can be a share's vault id.</summary>
    public static bool IsValidVaultId([NotNullWhen(true)] string? vaultId)
    {
        if (string.IsNullOrEmpty(vaultId) || vaultId.Length > MaxVaultIdLength
            || !IsLowerAlphanumeric(vaultId[0]) || !IsLowerAlphanumeric(vaultId[^1]))
        {
            return false;
        }

        foreach (var c in vaultId)
        {
            if (!IsLowerAlphanumeric(c) && c != '-' && c != '_')
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The custodian share of one share from <see cref="Shamir.Split(ReadOnlySpan{byte}, int, int)"/> (x ‖ y); the bytes are copied.</summary>
    public static CustodianShare FromShare(string vaultId, int threshold, ReadOnlySpan<byte> share)
    {
        if (share.Length < 2)
        {
            throw new ArgumentException($"A share is its x byte followed by at least one y byte (got {share.Length} bytes).", nameof(share));
        }

        return new CustodianShare(vaultId, threshold, share[0], share[1..]);
    }

    /// <summary>The text of one share from <see cref="Shamir.Split(ReadOnlySpan{byte}, int, int)"/> (x ‖ y); see <see cref="Format()"/>.</summary>
    public static string Format(string vaultId, int threshold, ReadOnlySpan<byte> share)
    {
        using var custodianShare = FromShare(vaultId, threshold, share);
        return custodianShare.Format();
    }

    /// <summary>The share's text (see the type's summary). It contains the secret part: do not log it.</summary>
    public string Format()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var body = string.Create(CultureInfo.InvariantCulture, $"{Prefix}.{VaultId}.{Threshold}.{X}.{Base64Url.EncodeToString(Y)}");
        Span<char> checksum = stackalloc char[ChecksumChars];
        WriteChecksum(body, checksum);
        return string.Concat(body, ".", checksum);
    }

    /// <summary>x ‖ y, the form <see cref="Shamir.Combine"/> takes, in a new array the caller zeroes.</summary>
    public byte[] ToShare()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var share = new byte[1 + Y.Length];
        share[0] = X;
        Y.CopyTo(share, 1);
        return share;
    }

    /// <summary>
    /// Reads a share's text. Whitespace anywhere is ignored (a printed line may wrap). On failure,
    /// <paramref name="problem"/> says what is wrong in words that never quote the secret part, e.g.
    /// "checksum mismatch: the share was mistyped or altered", "not an xks share: …", "unsupported version 'v2': …".
    /// </summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out CustodianShare? share, [NotNullWhen(false)] out string? problem)
    {
        share = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            problem = $"empty: paste the whole share line, from '{Prefix}.' to its end";
            return false;
        }

        if (text.Length > MaxRawTextLength)
        {
            problem = $"too long: a share is at most {MaxTextLength} characters, so this is not one share";
            return false;
        }

        var buffer = new char[text.Length];
        try
        {
            var length = 0;
            var unexpectedAt = -1;
            for (var i = 0; i < text.Length; i++)
            {
                var c = text[i];
                if (char.IsWhiteSpace(c))
                {
                    continue;
                }

                // Noted here so the position is the one in the text as given (from 1), and reported once the line
                // is known to be a share of this version.
                if (unexpectedAt < 0 && !IsLowerAlphanumeric(c) && c is not ((>= 'A' and <= 'Z') or '-' or '_' or '.'))
                {
                    unexpectedAt = i + 1;
                }

                buffer[length++] = c;
            }

            problem = Parse(buffer.AsSpan(0, length), unexpectedAt, out share);
            return problem is null;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(AsBytes(buffer));
        }
    }

    /// <summary>
    /// Every reason <paramref name="shares"/> cannot be combined, one sentence each (shares numbered from 1, as given);
    /// empty when they can: all for the same Vault (<paramref name="vaultId"/>, when given), the same threshold and the
    /// same length, no custodian twice, and at least the threshold of them.
    /// </summary>
    public static IReadOnlyList<string> CheckSet(IReadOnlyList<CustodianShare> shares, string? vaultId = null)
    {
        ArgumentNullException.ThrowIfNull(shares);
        var problems = new List<string>();
        if (shares.Count == 0)
        {
            problems.Add("no shares were given.");
            return problems;
        }

        var first = shares[0] ?? throw new ArgumentException("shares[0] is null.", nameof(shares));
        var sameThreshold = true;
        Span<int> firstWithX = stackalloc int[256];
        firstWithX.Fill(-1);
        var distinct = 0;
        for (var i = 0; i < shares.Count; i++)
        {
            var share = shares[i] ?? throw new ArgumentException($"shares[{i}] is null.", nameof(shares));
            ObjectDisposedException.ThrowIf(share._disposed, share);
            var number = i + 1;
            if (vaultId is not null && share.VaultId != vaultId)
            {
                problems.Add($"share {number} (x = {share.X}) is for Vault '{share.VaultId}', not '{vaultId}'.");
            }
            else if (vaultId is null && share.VaultId != first.VaultId)
            {
                problems.Add($"share {number} (x = {share.X}) is for Vault '{share.VaultId}' but share 1 is for '{first.VaultId}'.");
            }

            if (share.Threshold != first.Threshold)
            {
                sameThreshold = false;
                problems.Add($"share {number} (x = {share.X}) says {share.Threshold} shares are needed but share 1 says {first.Threshold}: they come from different splits.");
            }

            if (share.Y.Length != first.Y.Length)
            {
                problems.Add($"share {number} (x = {share.X}) holds {share.Y.Length} bytes but share 1 holds {first.Y.Length}: they come from different splits.");
            }

            if (firstWithX[share.X] >= 0)
            {
                problems.Add($"shares {firstWithX[share.X] + 1} and {number} are both custodian x = {share.X}: each custodian's share counts once.");
            }
            else
            {
                firstWithX[share.X] = i;
                distinct++;
            }
        }

        if (sameThreshold && distinct < first.Threshold)
        {
            problems.Add($"{first.Threshold} custodians' shares are needed, {distinct} given.");
        }

        return problems;
    }

    /// <summary>
    /// Checks <paramref name="shares"/> with <see cref="CheckSet"/> for <paramref name="vaultId"/>, then combines them.
    /// As with <see cref="Shamir.Combine"/>, a mistaken share still gives a wrong key without error: verify the result
    /// against a key-check value, and zero it when done.
    /// </summary>
    /// <exception cref="ArgumentException">The shares cannot be combined; the message lists every reason.</exception>
    public static byte[] Combine(IReadOnlyList<CustodianShare> shares, string vaultId)
    {
        ArgumentNullException.ThrowIfNull(vaultId);
        var problems = CheckSet(shares, vaultId);
        if (problems.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", problems), nameof(shares));
        }

        var raw = new byte[shares.Count][];
        try
        {
            var memories = new ReadOnlyMemory<byte>[raw.Length];
            for (var i = 0; i < raw.Length; i++)
            {
                raw[i] = shares[i].ToShare();
                memories[i] = raw[i];
            }

            return Shamir.Combine(memories);
        }
        finally
        {
            foreach (var share in raw)
            {
                CryptographicOperations.ZeroMemory(share);
            }
        }
    }

    /// <summary>Zeroes <see cref="Y"/>; the share can then no longer be formatted or combined.</summary>
    public void Dispose()
    {
        CryptographicOperations.ZeroMemory(Y);
        _disposed = true;
    }

    /// <summary>Equal when every field is; <see cref="Y"/> is compared in constant time.</summary>
    public bool Equals(CustodianShare? other) =>
        other is not null
        && string.Equals(VaultId, other.VaultId, StringComparison.Ordinal)
        && Threshold == other.Threshold
        && X == other.X
        && Y.Length == other.Y.Length
        && CryptographicOperations.FixedTimeEquals(Y, other.Y);

    /// <summary>From the public fields only, so a hash code says nothing about <see cref="Y"/>.</summary>
    public override int GetHashCode() => HashCode.Combine(VaultId, Threshold, X, Y.Length);

    /// <summary>The fields, with the length of <see cref="Y"/> in place of its bytes.</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"CustodianShare {{ VaultId = {VaultId}, Threshold = {Threshold}, X = {X}, Y = ({Y.Length} bytes, not shown) }}");

    private static string? Parse(ReadOnlySpan<char> line, int unexpectedAt, out CustodianShare? share)
    {
        share = null;
        if (!line.StartsWith(PrefixStart, StringComparison.Ordinal))
        {
            return $"not an xks share: a share line starts with '{Prefix}.'";
        }

        var version = line[PrefixStart.Length..];
        var dot = version.IndexOf('.');
        version = dot < 0 ? version : version[..dot];
        if (!version.SequenceEqual(Prefix.AsSpan(PrefixStart.Length)))
        {
            // Quote the version only when it looks like one, so a line without dots is never echoed.
            return IsVersionToken(version)
                ? $"unsupported version '{version}': this build reads {Prefix} shares; use the release that wrote the share"
                : $"unsupported version: this build reads {Prefix} shares";
        }

        if (unexpectedAt > 0)
        {
            return string.Format(CultureInfo.InvariantCulture, UnexpectedCharacter, unexpectedAt);
        }

        if (line.Length > MaxTextLength)
        {
            return $"too long: a share is at most {MaxTextLength} characters, so this is not one share";
        }

        Span<Range> fields = stackalloc Range[7];
        var count = line.Split(fields, '.');
        if (count != 6)
        {
            return count > 6
                ? "too many fields: a share has 6 fields separated by '.' (version, vault id, threshold, x, share, checksum); it was altered or joined with other text"
                : $"too few fields: a share has 6 fields separated by '.' (version, vault id, threshold, x, share, checksum) and this has {count}; part of it is missing";
        }

        var body = line[..line.LastIndexOf('.')];
        Span<char> expected = stackalloc char[ChecksumChars];
        WriteChecksum(body, expected);
        if (!line[fields[5]].SequenceEqual(expected))
        {
            return "checksum mismatch: the share was mistyped or altered";
        }

        // The checksum holds, so what follows only fails for a line no xks release wrote.
        var vaultId = line[fields[1]].ToString();
        if (!IsValidVaultId(vaultId))
        {
            return $"invalid vault id: 1 to {MaxVaultIdLength} characters of a-z, 0-9, '-' and '_', starting and ending with a letter or digit";
        }

        if (!TryParseNumber(line[fields[2]], out var threshold) || threshold is < Shamir.MinThreshold or > Shamir.MaxShares)
        {
            return $"invalid threshold: a whole number from {Shamir.MinThreshold} to {Shamir.MaxShares} without leading zeros";
        }

        if (!TryParseNumber(line[fields[3]], out var x) || x is < 1 or > Shamir.MaxShares)
        {
            return $"invalid x: a whole number from 1 to {Shamir.MaxShares} without leading zeros";
        }

        return TryDecodeY(line[fields[4]], vaultId, threshold, (byte)x, out share)
            ? null
            : $"invalid share field: base64url without padding of 1 to {Shamir.MaxSecretLength} bytes";
    }

    private static bool TryDecodeY(ReadOnlySpan<char> text, string vaultId, int threshold, byte x, out CustodianShare? share)
    {
        share = null;
        // IsValid first: the decoder throws (rather than returns false) on malformed input such as a lone last character.
        if (text.Length > Base64Url.GetEncodedLength(Shamir.MaxSecretLength)
            || !Base64Url.IsValid(text, out var length) || length is < 1 or > Shamir.MaxSecretLength)
        {
            return false;
        }

        var y = new byte[length];
        var canonical = new char[text.Length];
        try
        {
            try
            {
                length = Base64Url.DecodeFromChars(text, y);
            }
            catch (FormatException)
            {
                return false;
            }

            // Canonical only: re-encoding gives back the same characters (no stray bits in the last one).
            if (length != y.Length || !Base64Url.TryEncodeToChars(y, canonical, out var written) || !canonical.AsSpan(0, written).SequenceEqual(text))
            {
                return false;
            }

            share = new CustodianShare(vaultId, threshold, x, y);
            return true;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(y);
            CryptographicOperations.ZeroMemory(AsBytes(canonical));
        }
    }

    private static void WriteChecksum(ReadOnlySpan<char> body, Span<char> destination)
    {
        // The body is ASCII (checked by the parser, produced by Format), so one byte per character.
        var ascii = new byte[body.Length];
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        try
        {
            Encoding.ASCII.GetBytes(body, ascii);
            SHA256.HashData(ascii, hash);
            Base64Url.EncodeToChars(hash[..ChecksumBytes], destination);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(ascii);
            CryptographicOperations.ZeroMemory(hash);
        }
    }

    private static bool TryParseNumber(ReadOnlySpan<char> text, out int value)
    {
        value = 0;
        if (text.IsEmpty || text.Length > 3 || (text[0] == '0' && text.Length > 1))
        {
            return false;
        }

        foreach (var c in text)
        {
            if (c is < '0' or > '9')
            {
                return false;
            }

            value = value * 10 + (c - '0');
        }

        return true;
    }

    private static bool IsVersionToken(ReadOnlySpan<char> token)
    {
        if (token.Length is < 2 or > 4 || token[0] != 'v')
        {
            return false;
        }

        foreach (var c in token[1..])
        {
            if (c is < '0' or > '9')
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsLowerAlphanumeric(char c) => c is (>= 'a' and <= 'z') or (>= '0' and <= '9');

    private static void CheckDnsLabel(string label, string paramName)
    {
        ArgumentNullException.ThrowIfNull(label, paramName);
        if (label.Length is < 1 or > 63 || !IsLowerAlphanumeric(label[0]) || !IsLowerAlphanumeric(label[^1])
            || label.Any(c => !IsLowerAlphanumeric(c) && c != '-'))
        {
            throw new ArgumentException(
                $"'{label}' is not a DNS label: 1 to 63 characters of a-z, 0-9 and '-', starting and ending with a letter or digit.", paramName);
        }
    }

    private static Span<byte> AsBytes(char[] chars) => MemoryMarshal.AsBytes(chars.AsSpan());
}
