namespace Xks.Proxy.Errors;

/// <summary>Makes a string safe for the spec's <c>errorMessage</c>: printable ASCII (0x20–0x7E), under 512 characters.</summary>
public static class ErrorMessages
{
    public const int MaxLength = 511;

    public static string Sanitize(string message)
    {
        var clean = true;
        foreach (var c in message)
        {
            if (c < 0x20 || c > 0x7E)
            {
                clean = false;
                break;
            }
        }

        if (clean && message.Length <= MaxLength)
        {
            return message;
        }

        var length = Math.Min(message.Length, MaxLength);
        return string.Create(length, message, static (span, source) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                var c = source[i];
                span[i] = c is >= (char)0x20 and <= (char)0x7E ? c : '?';
            }
        });
    }
}
