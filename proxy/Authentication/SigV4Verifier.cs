using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Primitives;
using Xks.Proxy.Errors;
using Xks.Proxy.Options;

namespace Xks.Proxy.Authentication;

/// <summary>
/// Verifies AWS Signature Version 4 on an XKS request: service <c>kms-xks-proxy</c>, a configured region, exactly
/// the headers listed in SignedHeaders (which must include host and x-amz-date), the raw request path, the hash of
/// the exact body, ±5 minutes of clock skew, and a constant-time comparison. Every failure is an
/// <see cref="XksErrorName.AuthenticationFailedException"/> whose public message says nothing about the cause.
/// </summary>
public sealed class SigV4Verifier
{
    public const string Service = "kms-xks-proxy";
    public const string Algorithm = "AWS4-HMAC-SHA256";
    public static readonly TimeSpan MaxClockSkew = TimeSpan.FromMinutes(5);

    private readonly TimeProvider _time;

    public SigV4Verifier(TimeProvider time) => _time = time;

    /// <summary>
    /// The checks that need no body — the Authorization header's shape, service, region, signed headers, X-Amz-Date
    /// within the skew, and an access key ID of this key store — so that a request that cannot authenticate is refused
    /// before its body is read. Returns the credential the request claims (not yet proven), or throws.
    /// </summary>
    public SigV4Credential CheckHeaders(IHeaderDictionary headers, KeyStore keyStore, ProxyConfiguration configuration) =>
        ParseHeaders(headers, keyStore, configuration).Credential;

    /// <summary>Returns the credential that signed the request, or throws.</summary>
    public SigV4Credential Verify(
        string method,
        ReadOnlySpan<char> rawPath,
        ReadOnlySpan<char> rawQuery,
        IHeaderDictionary headers,
        ReadOnlySpan<byte> body,
        KeyStore keyStore,
        ProxyConfiguration configuration)
    {
        var parsed = ParseHeaders(headers, keyStore, configuration);
        var credential = parsed.Credential;
        var signedHeaders = parsed.SignedHeaders;
        var signature = parsed.Signature;
        var amzDate = parsed.AmzDate;
        var scopeDate = parsed.ScopeDate;
        var region = parsed.Region;

        Span<byte> canonicalHash = stackalloc byte[32];
        var canonical = new AsciiBuffer(1024);
        try
        {
            if (!BuildCanonicalRequest(ref canonical, method, rawPath, rawQuery, headers, signedHeaders, body))
            {
                throw XksException.AuthenticationFailed("a header listed in SignedHeaders is missing from the request");
            }

            SHA256.HashData(canonical.Written, canonicalHash);
        }
        finally
        {
            canonical.Dispose();
        }

        Span<byte> expected = stackalloc byte[64];
        var stringToSign = new AsciiBuffer(256);
        try
        {
            stringToSign.Append("AWS4-HMAC-SHA256\n"u8);
            stringToSign.Append(amzDate);
            stringToSign.Append((byte)'\n');
            stringToSign.Append(scopeDate);
            stringToSign.Append((byte)'/');
            stringToSign.Append(region);
            stringToSign.Append("/kms-xks-proxy/aws4_request\n"u8);
            stringToSign.AppendLowerHex(canonicalHash);

            var signingKey = credential.SigningKeys.Get(scopeDate, region, Service);
            Span<byte> mac = stackalloc byte[32];
            HMACSHA256.HashData(signingKey, stringToSign.Written, mac);
            Convert.TryToHexStringLower(mac, expected, out _);
        }
        finally
        {
            stringToSign.Dispose();
        }

        Span<byte> provided = stackalloc byte[64];
        for (var i = 0; i < 64; i++)
        {
            var c = signature[i];
            provided[i] = c < 128 ? (byte)c : (byte)0;
        }

        if (!CryptographicOperations.FixedTimeEquals(expected, provided))
        {
            throw XksException.AuthenticationFailed($"signature mismatch for access key id '{credential.AccessKeyId}'");
        }

        return credential;
    }

    private HeaderClaims ParseHeaders(IHeaderDictionary headers, KeyStore keyStore, ProxyConfiguration configuration)
    {
        var authorization = headers.Authorization;
        if (authorization.Count != 1 || string.IsNullOrEmpty(authorization[0]))
        {
            throw XksException.AuthenticationFailed("missing Authorization header");
        }

        var header = authorization[0]!.AsSpan();
        if (!TryParseAuthorization(header, out var credentialScope, out var signedHeaders, out var signature))
        {
            throw XksException.AuthenticationFailed("malformed Authorization header");
        }

        // Credential=<akid>/<yyyymmdd>/<region>/<service>/aws4_request
        Span<Range> parts = stackalloc Range[6];
        if (credentialScope.Split(parts, '/') != 5)
        {
            throw XksException.AuthenticationFailed("malformed credential scope");
        }

        var accessKeyId = credentialScope[parts[0]];
        var scopeDate = credentialScope[parts[1]];
        var region = credentialScope[parts[2]];
        var service = credentialScope[parts[3]];
        if (!credentialScope[parts[4]].SequenceEqual("aws4_request"))
        {
            throw XksException.AuthenticationFailed("credential scope does not end in aws4_request");
        }

        if (!service.SequenceEqual(Service))
        {
            throw XksException.AuthenticationFailed($"service '{service}' is not {Service}");
        }

        if (region.IsEmpty || !configuration.IsRegionAllowed(region))
        {
            throw XksException.AuthenticationFailed($"region '{region}' is not accepted");
        }

        if (!ContainsHeader(signedHeaders, "host") || !ContainsHeader(signedHeaders, "x-amz-date"))
        {
            throw XksException.AuthenticationFailed("SignedHeaders must include host and x-amz-date");
        }

        var amzDateValues = headers["x-amz-date"];
        if (amzDateValues.Count != 1 || !TryParseAmzDate(amzDateValues[0], out var signedAt))
        {
            throw XksException.AuthenticationFailed("missing or malformed X-Amz-Date");
        }

        var amzDate = amzDateValues[0].AsSpan();
        if (!amzDate[..8].SequenceEqual(scopeDate))
        {
            throw XksException.AuthenticationFailed("credential scope date differs from X-Amz-Date");
        }

        var skew = _time.GetUtcNow() - signedAt;
        if (skew > MaxClockSkew || skew < -MaxClockSkew)
        {
            throw XksException.AuthenticationFailed($"X-Amz-Date is {skew.TotalSeconds:F0} s away from the proxy's clock (limit {MaxClockSkew.TotalSeconds:F0} s)");
        }

        if (!keyStore.TryGetCredential(accessKeyId, out var credential))
        {
            throw XksException.AuthenticationFailed($"access key id '{accessKeyId}' is not configured for key store '{keyStore.Name}'");
        }

        if (signature.Length != 64)
        {
            throw XksException.AuthenticationFailed("signature is not 64 hex characters");
        }

        return new HeaderClaims(credential, signedHeaders, signature, amzDate, scopeDate, region);
    }

    /// <summary>What the headers claim, checked as far as it can be without the body.</summary>
    private readonly ref struct HeaderClaims(SigV4Credential credential, ReadOnlySpan<char> signedHeaders, ReadOnlySpan<char> signature, ReadOnlySpan<char> amzDate, ReadOnlySpan<char> scopeDate, ReadOnlySpan<char> region)
    {
        public SigV4Credential Credential { get; } = credential;

        public ReadOnlySpan<char> SignedHeaders { get; } = signedHeaders;

        public ReadOnlySpan<char> Signature { get; } = signature;

        public ReadOnlySpan<char> AmzDate { get; } = amzDate;

        public ReadOnlySpan<char> ScopeDate { get; } = scopeDate;

        public ReadOnlySpan<char> Region { get; } = region;
    }

    internal static bool TryParseAuthorization(
        ReadOnlySpan<char> header,
        out ReadOnlySpan<char> credential,
        out ReadOnlySpan<char> signedHeaders,
        out ReadOnlySpan<char> signature)
    {
        credential = signedHeaders = signature = default;
        if (!header.StartsWith(Algorithm) || header.Length <= Algorithm.Length || header[Algorithm.Length] != ' ')
        {
            return false;
        }

        var rest = header[(Algorithm.Length + 1)..];
        bool haveCredential = false, haveSigned = false, haveSignature = false;
        while (!rest.IsEmpty)
        {
            var comma = rest.IndexOf(',');
            var part = (comma < 0 ? rest : rest[..comma]).Trim(' ');
            rest = comma < 0 ? [] : rest[(comma + 1)..];
            if (part.StartsWith("Credential="))
            {
                credential = part["Credential=".Length..];
                haveCredential = !haveCredential;
            }
            else if (part.StartsWith("SignedHeaders="))
            {
                signedHeaders = part["SignedHeaders=".Length..];
                haveSigned = !haveSigned;
            }
            else if (part.StartsWith("Signature="))
            {
                signature = part["Signature=".Length..];
                haveSignature = !haveSignature;
            }
            else
            {
                return false;
            }
        }

        return haveCredential && haveSigned && haveSignature && !credential.IsEmpty && !signedHeaders.IsEmpty;
    }

    internal static bool TryParseAmzDate(string? value, out DateTimeOffset time) =>
        DateTimeOffset.TryParseExact(value, "yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out time);

    private static bool ContainsHeader(ReadOnlySpan<char> signedHeaders, string name)
    {
        foreach (var range in signedHeaders.Split(';'))
        {
            if (signedHeaders[range].SequenceEqual(name))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Builds the SigV4 canonical request. Returns false when a signed header is absent.</summary>
    internal static bool BuildCanonicalRequest(
        ref AsciiBuffer buffer,
        string method,
        ReadOnlySpan<char> rawPath,
        ReadOnlySpan<char> rawQuery,
        IHeaderDictionary headers,
        ReadOnlySpan<char> signedHeaders,
        ReadOnlySpan<byte> body)
    {
        buffer.Append(method);
        buffer.Append((byte)'\n');
        // The raw request path, as the client sent it: XKS paths only hold characters that SigV4 leaves unencoded.
        buffer.Append(rawPath.IsEmpty ? "/" : rawPath);
        buffer.Append((byte)'\n');
        if (!rawQuery.IsEmpty)
        {
            buffer.Append(CanonicalQueryString(rawQuery));
        }

        buffer.Append((byte)'\n');
        foreach (var range in signedHeaders.Split(';'))
        {
            var name = signedHeaders[range];
            var values = headers[name.ToString()];
            if (StringValues.IsNullOrEmpty(values) && !headers.ContainsKey(name.ToString()))
            {
                return false;
            }

            buffer.Append(name);
            buffer.Append((byte)':');
            for (var i = 0; i < values.Count; i++)
            {
                if (i > 0)
                {
                    buffer.Append((byte)',');
                }

                AppendCanonicalHeaderValue(ref buffer, values[i]);
            }

            buffer.Append((byte)'\n');
        }

        buffer.Append((byte)'\n');
        buffer.Append(signedHeaders);
        buffer.Append((byte)'\n');
        Span<byte> bodyHash = stackalloc byte[32];
        SHA256.HashData(body, bodyHash);
        buffer.AppendLowerHex(bodyHash);
        return true;
    }

    // Trim, and collapse runs of spaces into one, as SigV4 requires.
    private static void AppendCanonicalHeaderValue(ref AsciiBuffer buffer, string? value)
    {
        var span = value.AsSpan().Trim();
        var previousSpace = false;
        var start = 0;
        for (var i = 0; i < span.Length; i++)
        {
            var isSpace = span[i] == ' ';
            if (isSpace && previousSpace)
            {
                buffer.Append(span[start..i]);
                start = i + 1;
            }

            previousSpace = isSpace;
        }

        buffer.Append(span[start..]);
    }

    internal static string CanonicalQueryString(ReadOnlySpan<char> rawQuery)
    {
        var query = rawQuery.TrimStart('?').ToString();
        var pairs = new List<(string Name, string Value)>();
        foreach (var part in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            var name = eq < 0 ? part : part[..eq];
            var value = eq < 0 ? "" : part[(eq + 1)..];
            pairs.Add((Encode(Uri.UnescapeDataString(name.Replace('+', ' '))), Encode(Uri.UnescapeDataString(value.Replace('+', ' ')))));
        }

        pairs.Sort((a, b) =>
        {
            var byName = string.CompareOrdinal(a.Name, b.Name);
            return byName != 0 ? byName : string.CompareOrdinal(a.Value, b.Value);
        });
        return string.Join('&', pairs.Select(p => p.Name + "=" + p.Value));
    }

    private static string Encode(string value)
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
}
