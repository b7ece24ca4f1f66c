using System.Security.Cryptography;

namespace Xks.Operator.Resources;

/// <summary>
/// The SigV4 credential AWS KMS signs its calls to the proxy with (XksProxyAuthenticationCredential). Access key ID:
/// 26 characters of A-Z 2-7 (KMS allows 20–30); secret: 64 characters of A-Z a-z 0-9 (KMS allows 43–64), about 381
/// bits of entropy. <see cref="ToString"/> never shows the secret.
/// </summary>
public sealed record XksCredential(string AccessKeyId, string SecretAccessKey)
{
    public const int AccessKeyIdLength = 26;
    public const int SecretLength = 64;
    private const string AccessKeyAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    private const string SecretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    /// <summary>A fresh credential from the operating system's CSPRNG (uniform characters, no modulo bias).</summary>
    public static XksCredential Generate() =>
        new(RandomNumberGenerator.GetString(AccessKeyAlphabet, AccessKeyIdLength), RandomNumberGenerator.GetString(SecretAlphabet, SecretLength));

    /// <summary>True when both parts satisfy KMS's rules for an XKS proxy authentication credential.</summary>
    public static bool IsValid(string? accessKeyId, string? secretAccessKey) =>
        accessKeyId is { Length: >= 20 and <= 30 } && accessKeyId.All(c => c is (>= 'A' and <= 'Z') or (>= '2' and <= '7'))
        && secretAccessKey is { Length: >= 43 and <= 64 } && secretAccessKey.All(c => char.IsAsciiLetterOrDigit(c) || c is '/' or '+' or '=');

    public override string ToString() => $"XksCredential {{ AccessKeyId = {AccessKeyId}, SecretAccessKey = *** }}";
}
