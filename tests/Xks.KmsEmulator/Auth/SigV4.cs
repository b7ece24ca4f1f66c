using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Xks.KmsEmulator.Auth;

/// <summary>The parts of an <c>Authorization: AWS4-HMAC-SHA256 ...</c> header.</summary>
internal sealed record SigV4Authorization(string AccessKeyId, string Date, string Region, string Service, IReadOnlyList<string> SignedHeaders, string Signature)
{
    public string Scope => $"{Date}/{Region}/{Service}/aws4_request";
}

/// <summary>
/// AWS Signature Version 4, pure: canonical request, string to sign, signing key and signature, and the parsing of the
/// Authorization header. Used both to verify incoming KMS/STS calls and to sign outgoing XKS calls.
/// </summary>
internal static class SigV4
{
    public const string Algorithm = "AWS4-HMAC-SHA256";
    public const string AmzDateFormat = "yyyyMMdd'T'HHmmss'Z'";

    public static string FormatAmzDate(DateTimeOffset time) => time.UtcDateTime.ToString(AmzDateFormat, CultureInfo.InvariantCulture);

    public static bool TryParseAmzDate(string? value, out DateTimeOffset time) =>
        DateTimeOffset.TryParseExact(value, AmzDateFormat, CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out time);

    /// <summary>Header names must be lower case and listed in signing order (sorted); values are trimmed and their inner runs of spaces collapsed.</summary>
    public static string CanonicalRequest(string method, string canonicalUri, string canonicalQuery, IReadOnlyList<KeyValuePair<string, string>> headers, string payloadHashHex)
    {
        var sb = new StringBuilder();
        sb.Append(method).Append('\n');
        sb.Append(string.IsNullOrEmpty(canonicalUri) ? "/" : canonicalUri).Append('\n');
        sb.Append(canonicalQuery).Append('\n');
        foreach (var (name, value) in headers)
        {
            sb.Append(name).Append(':').Append(CanonicalHeaderValue(value)).Append('\n');
        }

        sb.Append('\n');
        sb.Append(string.Join(';', headers.Select(h => h.Key))).Append('\n');
        sb.Append(payloadHashHex);
        return sb.ToString();
    }

    public static string CanonicalHeaderValue(string value)
    {
        var trimmed = value.Trim();
        var sb = new StringBuilder(trimmed.Length);
        var previousSpace = false;
        foreach (var c in trimmed)
        {
            if (c == ' ' && previousSpace)
            {
                continue;
            }

            previousSpace = c == ' ';
            sb.Append(c);
        }

        return sb.ToString();
    }

    /// <summary>Sorted, RFC 3986-encoded name=value pairs of a raw query string (without '?').</summary>
    public static string CanonicalQueryString(string rawQuery)
    {
        var pairs = new List<(string Name, string Value)>();
        foreach (var part in rawQuery.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            var name = eq < 0 ? part : part[..eq];
            var value = eq < 0 ? "" : part[(eq + 1)..];
            pairs.Add((UriEncode(Uri.UnescapeDataString(name)), UriEncode(Uri.UnescapeDataString(value))));
        }

        pairs.Sort((a, b) => a.Name == b.Name ? string.CompareOrdinal(a.Value, b.Value) : string.CompareOrdinal(a.Name, b.Name));
        return string.Join('&', pairs.Select(p => p.Name + "=" + p.Value));
    }

    public static string UriEncode(string value)
    {
        var sb = new StringBuilder(value.Length);
        foreach (var b in Encoding.UTF8.GetBytes(value))
        {
            var c = (char)b;
            if (char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '~')
            {
                sb.Append(c);
            }
            else
            {
                sb.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return sb.ToString();
    }

    public static string StringToSign(string amzDate, string scope, string canonicalRequest) =>
        $"{Algorithm}\n{amzDate}\n{scope}\n{HexSha256(Encoding.UTF8.GetBytes(canonicalRequest))}";

    public static byte[] SigningKey(string secret, string date, string region, string service)
    {
        var key = HMACSHA256.HashData(Encoding.UTF8.GetBytes("AWS4" + secret), Encoding.UTF8.GetBytes(date));
        key = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(region));
        key = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(service));
        return HMACSHA256.HashData(key, "aws4_request"u8);
    }

    public static string Signature(string secret, string date, string region, string service, string stringToSign) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(SigningKey(secret, date, region, service), Encoding.UTF8.GetBytes(stringToSign)));

    public static string HexSha256(ReadOnlySpan<byte> data) => Convert.ToHexStringLower(SHA256.HashData(data));

    public static string AuthorizationHeader(string accessKeyId, string scope, IEnumerable<string> signedHeaders, string signature) =>
        $"{Algorithm} Credential={accessKeyId}/{scope}, SignedHeaders={string.Join(';', signedHeaders)}, Signature={signature}";

    public static bool TryParseAuthorization(string? header, out SigV4Authorization authorization)
    {
        authorization = null!;
        if (header is null || !header.StartsWith(Algorithm + " ", StringComparison.Ordinal))
        {
            return false;
        }

        string? credential = null, signedHeaders = null, signature = null;
        foreach (var raw in header[(Algorithm.Length + 1)..].Split(','))
        {
            var part = raw.Trim();
            if (part.StartsWith("Credential=", StringComparison.Ordinal))
            {
                credential = part["Credential=".Length..];
            }
            else if (part.StartsWith("SignedHeaders=", StringComparison.Ordinal))
            {
                signedHeaders = part["SignedHeaders=".Length..];
            }
            else if (part.StartsWith("Signature=", StringComparison.Ordinal))
            {
                signature = part["Signature=".Length..];
            }
            else
            {
                return false;
            }
        }

        var scope = credential?.Split('/');
        if (scope is not { Length: 5 } || scope[4] != "aws4_request" || string.IsNullOrEmpty(signedHeaders) || string.IsNullOrEmpty(signature))
        {
            return false;
        }

        authorization = new SigV4Authorization(scope[0], scope[1], scope[2], scope[3], signedHeaders.Split(';'), signature);
        return true;
    }
}
