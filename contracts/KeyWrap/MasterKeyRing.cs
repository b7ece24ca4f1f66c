using System.Buffers;
using System.Security.Cryptography;

namespace Xks.Contracts.KeyWrap;

/// <summary>
/// The master keys a party can unwrap with, by root version, and the current one it wraps with — the foundation of
/// master-key rotation. Immutable once built (safe to share between threads); <see cref="Dispose"/> zeroes the keys,
/// after which every use throws <see cref="ObjectDisposedException"/>.
/// <para>
/// Every wrap is format 2 (<see cref="WrappedKey"/>) under <see cref="CurrentVersion"/>. Unwrapping reads format 1
/// (root version 1) and format 2 (and says that a format-4 blob is derived, not wrapped: <see cref="TryDerive(string, int, ReadOnlySpan{byte}, Span{byte}, out UnwrapOutcome, out string?)"/>
/// derives those from the root they name), and checks a format-2 blob's key-check value against the ring's for its root
/// version before using the key, so a blob from another master key is reported as such
/// (<see cref="UnwrapOutcome.KeyCheckMismatch"/>) rather than as tampering. A root with a recorded key-check value
/// must match it, or the ring refuses to build: it never wraps under a master key other than the one recorded.
/// </para>
/// <para>Messages (problems and exceptions) name versions and key-check values, never key bytes or wrapped material.</para>
/// </summary>
public sealed class MasterKeyRing : IDisposable
{
    private readonly Root[] _roots;
    private readonly Root _current;
    private volatile bool _disposed;

    /// <summary>
    /// A ring of <paramref name="roots"/> that wraps under <paramref name="currentVersion"/>. Throws
    /// <see cref="ArgumentException"/> for no roots, a version below 1 or listed twice, a key that is not 32 bytes, the
    /// same key under two versions, a recorded key-check value that is not 16 hex digits, or a current version the
    /// ring does not hold; <see cref="CryptographicException"/> when a key's key-check value is not the recorded one.
    /// </summary>
    public MasterKeyRing(IEnumerable<MasterKeyRoot> roots, int currentVersion)
    {
        ArgumentNullException.ThrowIfNull(roots);
        var built = new List<Root>();
        try
        {
            foreach (var root in roots)
            {
                built.Add(Build(root, built));
            }

            if (built.Count == 0)
            {
                throw new ArgumentException("A master-key ring needs at least one master key.", nameof(roots));
            }

            _roots = [.. built.OrderBy(r => r.Version)];
            _current = Array.Find(_roots, r => r.Version == currentVersion)
                ?? throw new ArgumentException($"The current master key version {currentVersion} is not in the ring (it holds {List(_roots)}).", nameof(currentVersion));
        }
        catch
        {
            foreach (var root in built)
            {
                root.Clear();
            }

            throw;
        }

        CurrentVersion = currentVersion;
        Versions = Array.AsReadOnly(_roots.Select(r => r.Version).ToArray());
    }

    /// <summary>The root version new wraps name.</summary>
    public int CurrentVersion { get; }

    /// <summary>The root versions the ring holds, ascending.</summary>
    public IReadOnlyList<int> Versions { get; }

    /// <summary>A ring of one master key, <paramref name="rootVersion"/> (1 by default), which is also the current one.</summary>
    public static MasterKeyRing Single(ReadOnlySpan<byte> rootKey, int rootVersion = 1, string? recordedKeyCheckValue = null)
    {
        var copy = rootKey.ToArray();
        try
        {
            return new MasterKeyRing([new MasterKeyRoot(rootVersion, copy, recordedKeyCheckValue)], rootVersion);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(copy);
        }
    }

    /// <summary>The key-check value (hex) of root version <paramref name="rootVersion"/>.</summary>
    public string KeyCheckValue(int rootVersion)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var root = rootVersion >= 1 ? Find((uint)rootVersion) : null;
        return root is null
            ? throw new ArgumentOutOfRangeException(nameof(rootVersion), rootVersion, $"Master key version {rootVersion} is not in the ring (it holds {List(_roots)}).")
            : Convert.ToHexStringLower(root.Kcv);
    }

    /// <summary>
    /// Wraps <paramref name="material"/> (32 bytes) for <paramref name="keyId"/> version <paramref name="version"/>
    /// in format 2 under the current master key, with a fresh random IV; returns the Base64 form.
    /// </summary>
    public string Wrap(string keyId, int version, ReadOnlySpan<byte> material)
    {
        Span<byte> iv = stackalloc byte[WrappedKey.IvSize];
        RandomNumberGenerator.Fill(iv);
        return Wrap(keyId, version, material, iv);
    }

    /// <summary>
    /// <see cref="Wrap(string, int, ReadOnlySpan{byte})"/> with a given IV, for known-answer tests only: an IV must
    /// never be used twice under one master key.
    /// </summary>
    internal string Wrap(string keyId, int version, ReadOnlySpan<byte> material, ReadOnlySpan<byte> iv)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return WrappedKey.WrapFormat2(_current.Key, _current.Version, _current.Kcv, keyId, version, material, iv);
    }

    /// <inheritdoc cref="TryUnwrap(string, int, string?, Span{byte}, out string?)"/>
    public UnwrapOutcome TryUnwrap(string keyId, int version, string? wrappedBase64, Span<byte> material) =>
        TryUnwrap(keyId, version, wrappedBase64, material, out _);

    /// <summary>
    /// Unwraps <paramref name="wrappedBase64"/> (format 1 or 2) for <paramref name="keyId"/> version
    /// <paramref name="version"/> into <paramref name="material"/> (32 bytes). Unless the outcome is
    /// <see cref="UnwrapOutcome.Ok"/>, <paramref name="material"/> is zeroed and <paramref name="problem"/> says why, as
    /// a phrase that follows "version N " (e.g. "fails its integrity check under master key version 2 (…)").
    /// </summary>
    public UnwrapOutcome TryUnwrap(string keyId, int version, string? wrappedBase64, Span<byte> material, out string? problem)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        WrappedKey.CheckKey(keyId, version);
        if (material.Length != WrappedKey.KeySize)
        {
            throw new ArgumentException($"The material buffer must be {WrappedKey.KeySize} bytes (got {material.Length}).", nameof(material));
        }

        var outcome = Unwrap(keyId, version, wrappedBase64, material, out problem);
        if (outcome != UnwrapOutcome.Ok)
        {
            CryptographicOperations.ZeroMemory(material);
        }

        return outcome;
    }

    private UnwrapOutcome Unwrap(string keyId, int version, string? wrappedBase64, Span<byte> material, out string? problem)
    {
        Span<byte> buffer = stackalloc byte[WrappedKey.ParseBufferSize];
        problem = WrappedKey.Parse(wrappedBase64, buffer, out var parts);
        if (problem is not null)
        {
            return UnwrapOutcome.Malformed;
        }

        var root = Find(parts.RootVersion);
        if (root is null)
        {
            problem = parts.Format == 1
                ? $"is in format 1, which unwraps under master key version 1 only, and the ring holds {List(_roots)}"
                : $"is wrapped under master key version {parts.RootVersion}, which is not in the ring (it holds {List(_roots)})";
            return UnwrapOutcome.UnknownRootVersion;
        }

        if (parts.Format == 2 && !CryptographicOperations.FixedTimeEquals(parts.KeyCheckValue, root.Kcv))
        {
            var owner = FindByKeyCheckValue(parts.KeyCheckValue);
            if (owner is not null)
            {
                problem = $"fails its integrity check: it names master key version {parts.RootVersion} but carries the key-check value of master key version {owner.Version} (its master key version was changed)";
                return UnwrapOutcome.IntegrityFailure;
            }

            problem = $"was wrapped under another master key that also claims version {parts.RootVersion} (key-check value {Convert.ToHexStringLower(parts.KeyCheckValue)}; this ring's master key version {root.Version} has {Convert.ToHexStringLower(root.Kcv)})";
            return UnwrapOutcome.KeyCheckMismatch;
        }

        if (!WrappedKey.TryDecrypt(root.Key, keyId, version, parts, material))
        {
            problem = parts.Format == 1
                ? "fails its integrity check under master key version 1 (corrupted, tampered, moved from another key id or version, or wrapped by another master key: format 1 carries no key-check value)"
                : $"fails its integrity check under master key version {root.Version} (corrupted, tampered, or moved from another key id or version)";
            return UnwrapOutcome.IntegrityFailure;
        }

        return UnwrapOutcome.Ok;
    }

    /// <inheritdoc cref="TryDerive(string, int, ReadOnlySpan{byte}, Span{byte}, out UnwrapOutcome, out string?)"/>
    public bool TryDerive(string keyId, int version, ReadOnlySpan<byte> blob, Span<byte> key, out UnwrapOutcome outcome) =>
        TryDerive(keyId, version, blob, key, out outcome, out _);

    /// <summary>
    /// Derives the key of <paramref name="keyId"/> version <paramref name="version"/> from a format-4 blob
    /// (<see cref="DerivedKey"/>: root version and salt) and the ring's root key of that version, into
    /// <paramref name="key"/> (32 bytes). False, with <paramref name="key"/> zeroed and <paramref name="problem"/> a
    /// phrase that follows "version N ", when the blob is malformed (<see cref="UnwrapOutcome.Malformed"/>) or names a
    /// root version the ring does not hold (<see cref="UnwrapOutcome.UnknownRootVersion"/>). A derived key carries no
    /// integrity check: the ring's roots are the ones whose key-check values the keyring recorded.
    /// </summary>
    public bool TryDerive(string keyId, int version, ReadOnlySpan<byte> blob, Span<byte> key, out UnwrapOutcome outcome, out string? problem)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        WrappedKey.CheckKey(keyId, version);
        if (key.Length != WrappedKey.KeySize)
        {
            throw new ArgumentException($"The key buffer must be {WrappedKey.KeySize} bytes (got {key.Length}).", nameof(key));
        }

        CryptographicOperations.ZeroMemory(key);
        if (!DerivedKey.TryParse(blob, out var rootVersion, out var salt))
        {
            problem = DerivedKey.Problem(blob);
            outcome = UnwrapOutcome.Malformed;
            return false;
        }

        var root = Find((uint)rootVersion);
        if (root is null)
        {
            problem = $"is derived from root key version {rootVersion}, which is not in the ring (it holds {List(_roots)})";
            outcome = UnwrapOutcome.UnknownRootVersion;
            return false;
        }

        DerivedKey.Derive(root.Key, keyId, version, rootVersion, salt, key);
        problem = null;
        outcome = UnwrapOutcome.Ok;
        return true;
    }

    /// <summary>Whether <paramref name="wrappedBase64"/> unwraps for this key id and version; the material is zeroed at once.</summary>
    public bool CanUnwrap(string keyId, int version, string? wrappedBase64)
    {
        Span<byte> material = stackalloc byte[WrappedKey.KeySize];
        try
        {
            return TryUnwrap(keyId, version, wrappedBase64, material) == UnwrapOutcome.Ok;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(material);
        }
    }

    /// <summary>
    /// Unwraps <paramref name="wrappedBase64"/> and wraps the same material again under the current master key (format 2,
    /// fresh IV) — the step of a master-key rotation. Throws <see cref="UnwrapException"/> when it does not unwrap.
    /// It always rewraps; <see cref="NeedsRewrap"/> tells whether that is needed.
    /// </summary>
    public string Rewrap(string keyId, int version, string? wrappedBase64)
    {
        Span<byte> material = stackalloc byte[WrappedKey.KeySize];
        try
        {
            var outcome = TryUnwrap(keyId, version, wrappedBase64, material, out var problem);
            return outcome == UnwrapOutcome.Ok
                ? Wrap(keyId, version, material)
                : throw new UnwrapException(outcome, $"key '{keyId}' version {version} {problem}");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(material);
        }
    }

    /// <summary>
    /// Whether <paramref name="wrappedBase64"/> is not yet under the current master key: format 1, or a format-2 root
    /// version other than <see cref="CurrentVersion"/>. Reads the header only (no key is used); throws
    /// <see cref="UnwrapException"/> (<see cref="UnwrapOutcome.Malformed"/>) for a blob that is not a wrapped key.
    /// </summary>
    public bool NeedsRewrap(string? wrappedBase64)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Span<byte> buffer = stackalloc byte[WrappedKey.ParseBufferSize];
        var problem = WrappedKey.Parse(wrappedBase64, buffer, out var parts);
        return problem is not null
            ? throw new UnwrapException(UnwrapOutcome.Malformed, $"The wrapped key {problem}.")
            : parts.Format == 1 || parts.RootVersion != (uint)CurrentVersion;
    }

    /// <summary>Zeroes every key the ring holds; any later use throws <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        _disposed = true;
        foreach (var root in _roots)
        {
            root.Clear();
        }
    }

    /// <summary>Test hook: whether every key buffer the ring holds is all zeroes (true after <see cref="Dispose"/>).</summary>
    internal bool KeysAreZeroed => _roots.All(r => !r.Key.AsSpan().ContainsAnyExcept((byte)0));

    private static Root Build(MasterKeyRoot root, List<Root> built)
    {
        if (root.Version < 1)
        {
            throw new ArgumentException($"Master key versions start at 1 (got {root.Version}).", nameof(root));
        }

        if (built.Exists(r => r.Version == root.Version))
        {
            throw new ArgumentException($"Master key version {root.Version} is listed twice.", nameof(root));
        }

        WrappedKey.CheckRootKey(root.Key.Span);
        var key = GC.AllocateArray<byte>(WrappedKey.KeySize, pinned: true);
        root.Key.Span.CopyTo(key);
        var entry = new Root(root.Version, key);
        try
        {
            WrappedKey.KeyCheckValue(key, entry.Kcv);
            if (root.RecordedKeyCheckValue is { } recorded)
            {
                Span<byte> expected = stackalloc byte[WrappedKey.KeyCheckValueSize];
                if (recorded.Length != WrappedKey.KeyCheckValueSize * 2
                    || Convert.FromHexString(recorded, expected, out _, out _) != OperationStatus.Done)
                {
                    throw new ArgumentException($"The recorded key-check value of master key version {root.Version} must be {WrappedKey.KeyCheckValueSize * 2} hex digits.", nameof(root));
                }

                if (!CryptographicOperations.FixedTimeEquals(expected, entry.Kcv))
                {
                    throw new CryptographicException($"Master key version {root.Version}: this is not the master key the keyring recorded (its key-check value is {Convert.ToHexStringLower(entry.Kcv)}, the keyring recorded {recorded.ToLowerInvariant()}).");
                }
            }

            foreach (var other in built)
            {
                if (CryptographicOperations.FixedTimeEquals(other.Key, key))
                {
                    throw new ArgumentException($"Master key versions {other.Version} and {root.Version} are the same key.", nameof(root));
                }
            }
        }
        catch
        {
            entry.Clear();
            throw;
        }

        return entry;
    }

    private Root? Find(uint rootVersion)
    {
        foreach (var root in _roots)
        {
            if ((uint)root.Version == rootVersion)
            {
                return root;
            }
        }

        return null;
    }

    private Root? FindByKeyCheckValue(ReadOnlySpan<byte> kcv)
    {
        foreach (var root in _roots)
        {
            if (CryptographicOperations.FixedTimeEquals(kcv, root.Kcv))
            {
                return root;
            }
        }

        return null;
    }

    private static string List(IReadOnlyCollection<Root> roots) =>
        (roots.Count == 1 ? "version " : "versions ") + string.Join(", ", roots.Select(r => r.Version));

    private sealed class Root(int version, byte[] key)
    {
        public int Version { get; } = version;

        /// <summary>Pinned, so the collector leaves no stray copy; zeroed by <see cref="Clear"/>.</summary>
        public byte[] Key { get; } = key;

        public byte[] Kcv { get; } = new byte[WrappedKey.KeyCheckValueSize];

        public void Clear()
        {
            CryptographicOperations.ZeroMemory(Key);
            CryptographicOperations.ZeroMemory(Kcv);
        }
    }
}
