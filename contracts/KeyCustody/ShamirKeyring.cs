using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Xks.Contracts.KeyWrap;

namespace Xks.Contracts.KeyCustody;

/// <summary>
/// The keyring of a Vault in <c>Shamir</c> mode: its root keys R_r (32 bytes, versions 1..255), each sealed with
/// AES-256-GCM under the Vault's <em>unseal key</em> U (32 bytes), which exists only as k-of-n custodian shares
/// (<see cref="CustodianShare"/>) and, once they are combined, in unsealed proxy memory. This is all etcd holds: without
/// k shares it opens nothing. Immutable and validated; read with <see cref="Parse"/> or <see cref="FromDocument"/>,
/// written with <see cref="Serialize"/>; made by <see cref="ShamirCeremony.Initialize"/>.
/// <list type="bullet">
/// <item><c>sealed</c> of root r: <c>iv (12) ‖ ct (32) ‖ tag (16)</c>, AAD UTF-8 <c>xks-keyring:{vaultId}:r{r}</c>, so a
/// sealed root moved to another Vault or version fails to open.</item>
/// <item>Key-check values (<see cref="WrappedKey.KeyCheckValue(ReadOnlySpan{byte})"/>) of U and of every R_r: a wrong
/// U (wrong or too few shares) is recognised before it is used (<see cref="TryUnseal"/>), and each opened root is
/// checked against its own.</item>
/// </list>
/// Messages name fields, versions and key-check values, never keys or sealed bytes.
/// </summary>
public sealed class ShamirKeyring
{
    /// <summary>Highest root version (key versions in format 4 name it in one byte).</summary>
    public const int MaxRootVersion = DerivedKey.MaxRootVersion;

    /// <summary>Bytes of a sealed root: IV, sealed key, tag.</summary>
    public const int SealedSize = WrappedKey.IvSize + WrappedKey.KeySize + WrappedKey.TagSize;

    /// <summary>Characters of the standard Base64 form of a sealed root.</summary>
    public const int SealedBase64Length = (SealedSize + 2) / 3 * 4;

    /// <summary>What <see cref="TryUnseal"/> says when the unseal key's key-check value is not the recorded one.</summary>
    public const string WrongUnsealKeyProblem = "the shares do not reconstruct this Vault's unseal key";

    private readonly ShamirKeyringRoot[] _roots;

    private ShamirKeyring(string vaultId, int threshold, int shares, string unsealKeyCheckValue, int currentRoot, ShamirKeyringRoot[] roots)
    {
        VaultId = vaultId;
        Threshold = threshold;
        Shares = shares;
        UnsealKeyCheckValue = unsealKeyCheckValue;
        CurrentRoot = currentRoot;
        _roots = [.. roots.OrderBy(r => r.Version)];
        Roots = Array.AsReadOnly(_roots);
        RootVersions = Array.AsReadOnly(_roots.Select(r => r.Version).ToArray());
    }

    /// <summary>The Vault: <c>{namespace}_{name}</c>, as in its custodians' shares.</summary>
    public string VaultId { get; }

    /// <summary>How many shares reconstruct the unseal key.</summary>
    public int Threshold { get; }

    /// <summary>How many shares there are.</summary>
    public int Shares { get; }

    /// <summary>The unseal key's key-check value, lowercase hex.</summary>
    public string UnsealKeyCheckValue { get; }

    /// <summary>The root version new key versions are derived from.</summary>
    public int CurrentRoot { get; }

    /// <summary>The sealed roots, by ascending version.</summary>
    public IReadOnlyList<ShamirKeyringRoot> Roots { get; }

    /// <summary>The root versions, ascending.</summary>
    public IReadOnlyList<int> RootVersions { get; }

    /// <summary>
    /// Reads a keyring document (JSON). Throws <see cref="FormatException"/> whose message lists every problem
    /// (<see cref="Validate"/>), or says where the JSON is broken.
    /// </summary>
    public static ShamirKeyring Parse(string json) =>
        TryParse(json, out var keyring, out var problems)
            ? keyring
            : throw new FormatException("Not a valid Shamir keyring: " + string.Join("; ", problems) + ".");

    /// <summary>Reads a keyring document (JSON); false with every problem (field names as in the JSON) when it is not valid.</summary>
    public static bool TryParse(string? json, [NotNullWhen(true)] out ShamirKeyring? keyring, out IReadOnlyList<string> problems)
    {
        keyring = null;
        if (string.IsNullOrWhiteSpace(json))
        {
            problems = ["the document is empty"];
            return false;
        }

        ShamirKeyringDocument? document;
        try
        {
            document = JsonSerializer.Deserialize(json, ShamirKeyringJsonContext.Default.ShamirKeyringDocument);
        }
        catch (JsonException ex)
        {
            problems = [$"not a keyring document: {ex.Message}"];
            return false;
        }

        return TryFromDocument(document, out keyring, out problems);
    }

    /// <summary>The keyring of a validated document; throws <see cref="FormatException"/> listing every problem otherwise.</summary>
    public static ShamirKeyring FromDocument(ShamirKeyringDocument document) =>
        TryFromDocument(document, out var keyring, out var problems)
            ? keyring
            : throw new FormatException("Not a valid Shamir keyring: " + string.Join("; ", problems) + ".");

    /// <summary>The keyring of <paramref name="document"/>, or false with every problem.</summary>
    public static bool TryFromDocument(ShamirKeyringDocument? document, [NotNullWhen(true)] out ShamirKeyring? keyring, out IReadOnlyList<string> problems)
    {
        keyring = null;
        problems = Validate(document);
        if (problems.Count > 0)
        {
            return false;
        }

        var roots = document!.Roots.Select(r => new ShamirKeyringRoot(r.Version, r.KeyCheckValue.ToLowerInvariant(), r.Sealed)).ToArray();
        keyring = new ShamirKeyring(document.VaultId, document.Threshold, document.Shares, document.UnsealKeyCheckValue.ToLowerInvariant(), document.CurrentRoot, roots);
        return true;
    }

    /// <summary>
    /// Every problem of <paramref name="document"/>, each starting with its field as written (<c>threshold: …</c>,
    /// <c>roots[1].sealed: …</c>); empty when it is a keyring: a vault id, 2 ≤ threshold ≤ shares ≤ 255, key-check
    /// values of 16 hex digits, at least one root, root versions 1..255 listed once, each sealed root standard Base64 of
    /// <see cref="SealedSize"/> bytes, and a current root that is listed.
    /// </summary>
    public static IReadOnlyList<string> Validate(ShamirKeyringDocument? document)
    {
        var problems = new List<string>();
        if (document is null)
        {
            problems.Add("the document is empty (null)");
            return problems;
        }

        if (string.IsNullOrEmpty(document.VaultId))
        {
            problems.Add("vaultId: required (the Vault's '<namespace>_<name>')");
        }
        else if (!CustodianShare.IsValidVaultId(document.VaultId))
        {
            problems.Add($"vaultId: '{document.VaultId}' is not a vault id: 1 to {CustodianShare.MaxVaultIdLength} characters of a-z, 0-9, '-' and '_', starting and ending with a letter or digit ('<namespace>_<name>')");
        }

        var thresholdValid = document.Threshold is >= Shamir.MinThreshold and <= Shamir.MaxShares;
        if (!thresholdValid)
        {
            problems.Add($"threshold: must be from {Shamir.MinThreshold} to {Shamir.MaxShares} (got {document.Threshold})");
        }

        if (document.Shares is < Shamir.MinThreshold or > Shamir.MaxShares)
        {
            problems.Add($"shares: must be from {Shamir.MinThreshold} to {Shamir.MaxShares} (got {document.Shares})");
        }
        else if (thresholdValid && document.Shares < document.Threshold)
        {
            problems.Add($"shares: {document.Shares} is fewer than the threshold {document.Threshold}: the unseal key could never be reconstructed");
        }

        if (!IsKeyCheckValue(document.UnsealKeyCheckValue))
        {
            problems.Add($"unsealKeyCheckValue: must be {WrappedKey.KeyCheckValueSize * 2} hex digits (the unseal key's key-check value)");
        }

        var roots = document.Roots ?? [];
        if (roots.Count == 0)
        {
            problems.Add("roots: list at least one root key");
        }

        var versions = new Dictionary<int, int>();
        for (var i = 0; i < roots.Count; i++)
        {
            var at = $"roots[{i}]";
            var root = roots[i];
            if (root is null)
            {
                problems.Add($"{at}: empty entry");
                continue;
            }

            if (root.Version is < 1 or > MaxRootVersion)
            {
                problems.Add($"{at}.version: must be from 1 to {MaxRootVersion} (got {root.Version})");
            }
            else if (!versions.TryAdd(root.Version, i))
            {
                problems.Add($"{at}.version: {root.Version} is also the version of roots[{versions[root.Version]}]");
            }

            if (!IsKeyCheckValue(root.KeyCheckValue))
            {
                problems.Add($"{at}.keyCheckValue: must be {WrappedKey.KeyCheckValueSize * 2} hex digits (the root key's key-check value)");
            }

            if (!IsSealedRoot(root.Sealed))
            {
                problems.Add($"{at}.sealed: must be standard Base64 of {SealedSize} bytes (iv {WrappedKey.IvSize}, sealed root {WrappedKey.KeySize}, tag {WrappedKey.TagSize}), {SealedBase64Length} characters (got {root.Sealed?.Length ?? 0} characters)");
            }
        }

        if (roots.Count > 0 && !versions.ContainsKey(document.CurrentRoot))
        {
            problems.Add($"currentRoot: {document.CurrentRoot} is not a listed root version (the roots are {(versions.Count == 0 ? "none valid" : string.Join(", ", versions.Keys.Order()))})");
        }

        return problems;
    }

    /// <summary>The document form (a new, independent copy).</summary>
    public ShamirKeyringDocument ToDocument() => new()
    {
        VaultId = VaultId,
        Threshold = Threshold,
        Shares = Shares,
        UnsealKeyCheckValue = UnsealKeyCheckValue,
        CurrentRoot = CurrentRoot,
        Roots = [.. _roots.Select(r => new ShamirRootDocument { Version = r.Version, KeyCheckValue = r.KeyCheckValue, Sealed = r.Sealed })],
    };

    /// <summary>The compact JSON document, members in the documented order, roots by version: one keyring, one text.</summary>
    public string Serialize() => JsonSerializer.Serialize(ToDocument(), ShamirKeyringJsonContext.Default.ShamirKeyringDocument);

    /// <summary>Whether <paramref name="unsealKey"/> has this keyring's unseal key-check value (compared in constant time).</summary>
    public bool IsUnsealKey(ReadOnlySpan<byte> unsealKey)
    {
        if (unsealKey.Length != WrappedKey.KeySize)
        {
            return false;
        }

        Span<byte> expected = stackalloc byte[WrappedKey.KeyCheckValueSize];
        Span<byte> actual = stackalloc byte[WrappedKey.KeyCheckValueSize];
        Convert.FromHexString(UnsealKeyCheckValue, expected, out _, out _);
        WrappedKey.KeyCheckValue(unsealKey, actual);
        return CryptographicOperations.FixedTimeEquals(expected, actual);
    }

    /// <summary>Whether <paramref name="other"/> is sealed under the same unseal key (same Vault and unseal key-check value).</summary>
    public bool HasSameUnsealKey(ShamirKeyring other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return string.Equals(VaultId, other.VaultId, StringComparison.Ordinal)
            && string.Equals(UnsealKeyCheckValue, other.UnsealKeyCheckValue, StringComparison.Ordinal);
    }

    /// <summary>Whether <paramref name="other"/> is the same keyring, field for field.</summary>
    public bool SameAs(ShamirKeyring? other) =>
        other is not null && string.Equals(Serialize(), other.Serialize(), StringComparison.Ordinal);

    /// <summary>
    /// Opens every root with <paramref name="unsealKey"/> and returns them as a <see cref="MasterKeyRing"/> whose current
    /// version is <see cref="CurrentRoot"/> (the caller disposes it). First the unseal key's key-check value is compared
    /// in constant time: a wrong or incomplete set of shares gives <see cref="WrongUnsealKeyProblem"/> and nothing is
    /// decrypted. Then each root must pass its GCM tag and match its recorded key-check value. Every plaintext copy is
    /// zeroed; the ring holds its own.
    /// </summary>
    public bool TryUnseal(ReadOnlySpan<byte> unsealKey, [NotNullWhen(true)] out MasterKeyRing? ring, [NotNullWhen(false)] out string? problem)
    {
        ring = null;
        if (unsealKey.Length != WrappedKey.KeySize)
        {
            problem = $"{WrongUnsealKeyProblem} (they combine to {unsealKey.Length} bytes, not {WrappedKey.KeySize})";
            return false;
        }

        if (!IsUnsealKey(unsealKey))
        {
            problem = WrongUnsealKeyProblem;
            return false;
        }

        var opened = new byte[_roots.Length][];
        try
        {
            var roots = new MasterKeyRoot[_roots.Length];
            Span<byte> kcv = stackalloc byte[WrappedKey.KeyCheckValueSize];
            Span<byte> recorded = stackalloc byte[WrappedKey.KeyCheckValueSize];
            for (var i = 0; i < _roots.Length; i++)
            {
                var root = _roots[i];
                opened[i] = GC.AllocateArray<byte>(WrappedKey.KeySize, pinned: true);
                if (!TryOpenRoot(unsealKey, VaultId, root, opened[i]))
                {
                    problem = $"root key version {root.Version} fails its integrity check under the unseal key: the keyring was altered, or the root was sealed for another Vault or version";
                    return false;
                }

                WrappedKey.KeyCheckValue(opened[i], kcv);
                Convert.FromHexString(root.KeyCheckValue, recorded, out _, out _);
                if (!CryptographicOperations.FixedTimeEquals(kcv, recorded))
                {
                    problem = $"root key version {root.Version} does not match its recorded key-check value {root.KeyCheckValue}: the keyring was altered";
                    return false;
                }

                roots[i] = new MasterKeyRoot(root.Version, opened[i], root.KeyCheckValue);
            }

            try
            {
                ring = new MasterKeyRing(roots, CurrentRoot);
            }
            catch (Exception ex) when (ex is ArgumentException or CryptographicException)
            {
                problem = $"the keyring's roots do not make a key ring: {ex.Message}";
                return false;
            }

            problem = null;
            return true;
        }
        finally
        {
            foreach (var key in opened)
            {
                if (key is not null)
                {
                    CryptographicOperations.ZeroMemory(key);
                }
            }
        }
    }

    /// <summary>
    /// A keyring with a new random root R_{max+1} sealed under <paramref name="unsealKey"/> and made current (the
    /// rotation ceremony); this one is unchanged. Every root already listed stays, so key versions derived from them
    /// still serve.
    /// </summary>
    /// <exception cref="CryptographicException"><paramref name="unsealKey"/> is not this keyring's unseal key.</exception>
    /// <exception cref="InvalidOperationException">Root version <see cref="MaxRootVersion"/> is already listed.</exception>
    public ShamirKeyring WithNewRoot(ReadOnlySpan<byte> unsealKey)
    {
        if (!IsUnsealKey(unsealKey))
        {
            throw new CryptographicException($"Vault '{VaultId}': {WrongUnsealKeyProblem}; no root was added.");
        }

        var next = _roots[^1].Version + 1;
        if (next > MaxRootVersion)
        {
            throw new InvalidOperationException($"Vault '{VaultId}' already has root version {MaxRootVersion}, the highest a key version can name; no root was added.");
        }

        var root = GC.AllocateArray<byte>(WrappedKey.KeySize, pinned: true);
        try
        {
            RandomNumberGenerator.Fill(root);
            return new ShamirKeyring(VaultId, Threshold, Shares, UnsealKeyCheckValue, next, [.. _roots, SealRoot(unsealKey, VaultId, next, root)]);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(root);
        }
    }

    /// <summary>The fields and root versions; nothing else (there is nothing secret in a keyring, but no sealed bytes either).</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"ShamirKeyring {{ VaultId = {VaultId}, Threshold = {Threshold}, Shares = {Shares}, CurrentRoot = {CurrentRoot}, Roots = [{string.Join(", ", RootVersions)}] }}");

    /// <summary>A keyring of one root, version 1, sealed under <paramref name="unsealKey"/> (for <see cref="ShamirCeremony"/>).</summary>
    internal static ShamirKeyring Create(string vaultId, int threshold, int shares, ReadOnlySpan<byte> unsealKey, ReadOnlySpan<byte> firstRoot) =>
        new(vaultId, threshold, shares, WrappedKey.KeyCheckValue(unsealKey), 1, [SealRoot(unsealKey, vaultId, 1, firstRoot)]);

    /// <summary>Root <paramref name="version"/> sealed under <paramref name="unsealKey"/> with a fresh random IV, and its key-check value.</summary>
    internal static ShamirKeyringRoot SealRoot(ReadOnlySpan<byte> unsealKey, string vaultId, int version, ReadOnlySpan<byte> root)
    {
        WrappedKey.CheckRootKey(root);
        Span<byte> blob = stackalloc byte[SealedSize];
        RandomNumberGenerator.Fill(blob[..WrappedKey.IvSize]);
        using (var gcm = new AesGcm(unsealKey, WrappedKey.TagSize))
        {
            gcm.Encrypt(blob[..WrappedKey.IvSize], root, blob.Slice(WrappedKey.IvSize, WrappedKey.KeySize), blob[(WrappedKey.IvSize + WrappedKey.KeySize)..], Aad(vaultId, version));
        }

        return new ShamirKeyringRoot(version, WrappedKey.KeyCheckValue(root), Convert.ToBase64String(blob));
    }

    private static bool TryOpenRoot(ReadOnlySpan<byte> unsealKey, string vaultId, ShamirKeyringRoot root, Span<byte> key)
    {
        Span<byte> blob = stackalloc byte[SealedSize + 3];
        if (!Convert.TryFromBase64String(root.Sealed, blob, out var length) || length != SealedSize)
        {
            return false;
        }

        using var gcm = new AesGcm(unsealKey, WrappedKey.TagSize);
        try
        {
            gcm.Decrypt(blob[..WrappedKey.IvSize], blob.Slice(WrappedKey.IvSize, WrappedKey.KeySize), blob.Slice(WrappedKey.IvSize + WrappedKey.KeySize, WrappedKey.TagSize), key, Aad(vaultId, root.Version));
            return true;
        }
        catch (AuthenticationTagMismatchException)
        {
            CryptographicOperations.ZeroMemory(key);
            return false;
        }
    }

    private static byte[] Aad(string vaultId, int version) =>
        Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"xks-keyring:{vaultId}:r{version}"));

    private static bool IsKeyCheckValue(string? text)
    {
        Span<byte> bytes = stackalloc byte[WrappedKey.KeyCheckValueSize];
        return text is { Length: WrappedKey.KeyCheckValueSize * 2 }
            && Convert.FromHexString(text, bytes, out _, out _) == OperationStatus.Done;
    }

    private static bool IsSealedRoot(string? text)
    {
        Span<byte> blob = stackalloc byte[SealedSize + 3];
        return text is { Length: SealedBase64Length }
            && Convert.TryFromBase64String(text, blob, out var length)
            && length == SealedSize;
    }
}

/// <summary>One root of a <see cref="ShamirKeyring"/>: its version, its key-check value (lowercase hex) and the Base64 of the sealed root.</summary>
public sealed record ShamirKeyringRoot(int Version, string KeyCheckValue, string Sealed);
