using System.Text;

namespace Xks.Pkcs11;

/// <summary>
/// The CKU_USER PIN, from a literal, a file (one trailing newline trimmed; a mounted Secret) or an environment
/// variable. The value is never shown: <see cref="ToString"/> and every message say only where it came from.
/// </summary>
public sealed class Pkcs11Pin
{
    private readonly byte[] _value;

    private Pkcs11Pin(byte[] value, string source)
    {
        _value = value;
        Source = source;
    }

    /// <summary>Where the PIN came from ("inline", "file '/x'", "environment variable X"), for messages.</summary>
    public string Source { get; }

    public static Pkcs11Pin FromLiteral(string pin)
    {
        ArgumentNullException.ThrowIfNull(pin);
        return new Pkcs11Pin(Encoding.UTF8.GetBytes(pin), "inline pin");
    }

    /// <summary>
    /// A PIN held as bytes elsewhere (e.g. the operator's copy of a Kubernetes Secret), copied; <paramref name="source"/>
    /// says where it came from in messages ("Secret ns/name key pin").
    /// </summary>
    public static Pkcs11Pin FromBytes(ReadOnlySpan<byte> pin, string source)
    {
        ArgumentException.ThrowIfNullOrEmpty(source);
        if (pin.IsEmpty)
        {
            throw new Pkcs11SetupException($"PKCS#11 PIN from {source} is empty");
        }

        return new Pkcs11Pin(pin.ToArray(), source);
    }

    /// <exception cref="Pkcs11SetupException">The file is missing, unreadable or empty.</exception>
    public static Pkcs11Pin FromFile(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path, Encoding.UTF8);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new Pkcs11SetupException($"PKCS#11 PIN file '{path}' cannot be read: {ex.GetType().Name}");
        }

        text = TrimOneNewline(text);
        if (text.Length == 0)
        {
            throw new Pkcs11SetupException($"PKCS#11 PIN file '{path}' is empty");
        }

        return new Pkcs11Pin(Encoding.UTF8.GetBytes(text), $"PIN file '{path}'");
    }

    /// <exception cref="Pkcs11SetupException">The variable is unset or empty.</exception>
    public static Pkcs11Pin FromEnvironment(string variable)
    {
        var text = Environment.GetEnvironmentVariable(variable);
        if (string.IsNullOrEmpty(text))
        {
            throw new Pkcs11SetupException($"PKCS#11 PIN environment variable '{variable}' is not set or empty");
        }

        return new Pkcs11Pin(Encoding.UTF8.GetBytes(TrimOneNewline(text)), $"environment variable '{variable}'");
    }

    /// <summary>A copy of the PIN bytes for C_Login; the caller clears it.</summary>
    internal byte[] CopyBytes() => (byte[])_value.Clone();

    /// <summary>Whether <paramref name="text"/> contains the PIN (for log-hygiene checks in tests).</summary>
    internal bool AppearsIn(string text) => text.Contains(Encoding.UTF8.GetString(_value), StringComparison.Ordinal);

    public override string ToString() => $"Pkcs11Pin({Source})";

    private static string TrimOneNewline(string text) =>
        text.EndsWith("\r\n", StringComparison.Ordinal) ? text[..^2] : text.EndsWith('\n') ? text[..^1] : text;
}
