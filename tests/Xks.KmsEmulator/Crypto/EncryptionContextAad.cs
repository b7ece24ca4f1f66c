using System.Text.Json;

namespace Xks.KmsEmulator.Crypto;

/// <summary>
/// The AAD the emulator gives the proxy for an encryption context: a compact JSON object with the pairs sorted by key
/// (ordinal), so the same context always yields the same bytes. No context (or an empty one) means no AAD.
/// </summary>
internal static class EncryptionContextAad
{
    public static byte[]? Build(IReadOnlyDictionary<string, string>? context)
    {
        if (context is null || context.Count == 0)
        {
            return null;
        }

        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            foreach (var (key, value) in context.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                writer.WriteString(key, value);
            }

            writer.WriteEndObject();
        }

        return stream.ToArray();
    }
}
