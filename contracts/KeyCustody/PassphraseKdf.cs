using System.Security.Cryptography;
using System.Text;
using Konscious.Security.Cryptography;

namespace Xks.Contracts.KeyCustody;

/// <summary>
/// Argon2id (Konscious, version 0x13) from a passphrase to an AES-256 key. The passphrase is taken as the UTF-8 bytes
/// of the string exactly as given: no Unicode normalisation (this build runs with invariant globalization, where
/// <see cref="string.Normalize()"/> does nothing), so a passphrase typed with composed and decomposed accents differs.
/// No bounds are checked here; callers check <see cref="Argon2Parameters.Check"/> first.
/// </summary>
internal static class PassphraseKdf
{
    public const int SaltSize = 16;

    [ThreadStatic]
    private static int _derivationsOnThisThread;

    /// <summary>
    /// How many times <see cref="Derive"/> was entered on the calling thread: lets a test prove that a refusal came
    /// before the KDF (Open derives on the caller's thread), whatever runs in parallel.
    /// </summary>
    public static int DerivationsOnThisThread => _derivationsOnThisThread;

    /// <summary>Derives <paramref name="output"/>.Length bytes. Secret and associated data exist for the RFC 9106 known-answer test.</summary>
    public static void Derive(
        ReadOnlySpan<byte> password,
        ReadOnlySpan<byte> salt,
        int memoryKiB,
        int iterations,
        int parallelism,
        Span<byte> output,
        ReadOnlySpan<byte> secret = default,
        ReadOnlySpan<byte> associatedData = default)
    {
        _derivationsOnThisThread++;
        var passwordCopy = password.ToArray();
        byte[]? derived = null;
        try
        {
            using var argon2 = new Argon2id(passwordCopy)
            {
                Salt = salt.ToArray(),
                MemorySize = memoryKiB,
                Iterations = iterations,
                DegreeOfParallelism = parallelism,
                KnownSecret = secret.IsEmpty ? null : secret.ToArray(),
                AssociatedData = associatedData.IsEmpty ? null : associatedData.ToArray(),
            };
            derived = argon2.GetBytes(output.Length);
            derived.CopyTo(output);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(passwordCopy);
            if (derived is not null)
            {
                CryptographicOperations.ZeroMemory(derived);
            }
        }
    }

    /// <summary>Derives a 32-byte key from <paramref name="passphrase"/> (UTF-8, as given) under <paramref name="parameters"/>.</summary>
    public static void DeriveKey(string passphrase, ReadOnlySpan<byte> salt, Argon2Parameters parameters, Span<byte> key)
    {
        var password = Encoding.UTF8.GetBytes(passphrase);
        try
        {
            Derive(password, salt, parameters.MemoryKiB, parameters.Iterations, parameters.Parallelism, key);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(password);
        }
    }
}
