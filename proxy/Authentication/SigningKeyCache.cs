using System.Security.Cryptography;
using System.Text;

namespace Xks.Proxy.Authentication;

/// <summary>
/// Caches SigV4 signing keys (HMAC chain over date, region, service) for one secret. A handful of slots is enough:
/// a key store sees one date (two around midnight) and one or a few regions.
/// </summary>
internal sealed class SigningKeyCache
{
    private const int Slots = 4;
    private readonly byte[] _seed;
    private readonly Entry?[] _entries = new Entry?[Slots];
    private int _next;

    public SigningKeyCache(byte[] seed) => _seed = seed;

    public byte[] Get(ReadOnlySpan<char> date, ReadOnlySpan<char> region, string service)
    {
        var entries = _entries;
        for (var i = 0; i < entries.Length; i++)
        {
            var e = Volatile.Read(ref entries[i]);
            if (e is not null && date.SequenceEqual(e.Date) && region.SequenceEqual(e.Region) && ReferenceEquals(service, e.Service))
            {
                return e.Key;
            }
        }

        var key = Derive(_seed, date, region, service);
        var slot = (int)((uint)Interlocked.Increment(ref _next) % Slots);
        Volatile.Write(ref entries[slot], new Entry(date.ToString(), region.ToString(), service, key));
        return key;
    }

    internal static byte[] Derive(ReadOnlySpan<byte> seed, ReadOnlySpan<char> date, ReadOnlySpan<char> region, string service)
    {
        Span<byte> k1 = stackalloc byte[32];
        Span<byte> k2 = stackalloc byte[32];
        HMACSHA256.HashData(seed, Ascii(date, stackalloc byte[16]), k1);
        HMACSHA256.HashData(k1, Ascii(region, stackalloc byte[64]), k2);
        HMACSHA256.HashData(k2, Ascii(service, stackalloc byte[64]), k1);
        var key = new byte[32];
        HMACSHA256.HashData(k1, "aws4_request"u8, key);
        return key;
    }

    private static ReadOnlySpan<byte> Ascii(ReadOnlySpan<char> text, Span<byte> buffer)
    {
        var n = Encoding.ASCII.GetBytes(text.Length <= buffer.Length ? text : text[..buffer.Length], buffer);
        return buffer[..n];
    }

    private sealed record Entry(string Date, string Region, string Service, byte[] Key);
}
