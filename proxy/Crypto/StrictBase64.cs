using System.Buffers;
using System.Buffers.Text;

namespace Xks.Proxy.Crypto;

/// <summary>Standard Base64 (RFC 4648 §4) with padding; rejects URL-safe characters, whitespace and bad padding.</summary>
public static class StrictBase64
{
    private static readonly SearchValues<char> Alphabet =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");

    public static bool IsValid(ReadOnlySpan<char> text)
    {
        if (text.Length % 4 != 0)
        {
            return false;
        }

        // At most two '=' and only at the end; everything before them from the standard alphabet (vectorized scan).
        var data = text.TrimEnd('=');
        return text.Length - data.Length <= 2 && !data.ContainsAnyExcept(Alphabet) && Base64.IsValid(text);
    }

    public static int DecodedLength(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty)
        {
            return 0;
        }

        var padding = text[^1] == '=' ? (text[^2] == '=' ? 2 : 1) : 0;
        return (text.Length / 4 * 3) - padding;
    }

    /// <summary>Decodes validated text; returns false if it is not strict standard Base64 or does not fit.</summary>
    public static bool TryDecode(ReadOnlySpan<char> text, Span<byte> destination, out int written)
    {
        written = 0;
        return IsValid(text) && Convert.TryFromBase64Chars(text, destination, out written);
    }
}
