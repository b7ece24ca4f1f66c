using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;

namespace Xks.Proxy.Crypto;

/// <summary>
/// The sub-keys of one key version by salt, at most <c>capacity</c> of them: when full, an arbitrary entry makes
/// room (it is derived again if a ciphertext names it later). Lookups allocate nothing.
/// </summary>
public sealed class SubKeyCache<T>(int capacity)
    where T : class
{
    private readonly ConcurrentDictionary<UInt128, T> _entries = new();

    public int Count => _entries.Count;

    public bool TryGet(ReadOnlySpan<byte> salt, [NotNullWhen(true)] out T? value) => _entries.TryGetValue(ToKey(salt), out value);

    /// <summary>Adds <paramref name="value"/> unless the salt has one already; returns the entry kept and the one evicted, if any.</summary>
    public T Add(ReadOnlySpan<byte> salt, T value, out T? evicted)
    {
        evicted = null;
        var key = ToKey(salt);
        if (_entries.Count >= capacity && !_entries.ContainsKey(key))
        {
            foreach (var entry in _entries)
            {
                if (_entries.TryRemove(entry.Key, out evicted))
                {
                    break;
                }
            }
        }

        return _entries.GetOrAdd(key, value);
    }

    private static UInt128 ToKey(ReadOnlySpan<byte> salt)
    {
        Span<byte> block = stackalloc byte[16];
        block[0] = 0;
        salt[..SubKeyDerivation.SaltSize].CopyTo(block[1..]);
        return BinaryPrimitives.ReadUInt128BigEndian(block);
    }
}
