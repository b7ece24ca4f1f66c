using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http.Features;

namespace Xks.KmsEmulator.Auth;

/// <summary>
/// Verifies SigV4 on an incoming KMS or STS call: the headers listed in SignedHeaders, the raw path and query, the hash
/// of the exact body, the emulator's region, the service, ±5 minutes of clock skew and, for AssumeRole credentials,
/// X-Amz-Security-Token.
/// </summary>
internal sealed class RequestVerifier
{
    public static readonly TimeSpan MaxClockSkew = TimeSpan.FromMinutes(5);
    private readonly CredentialRegistry _credentials;
    private readonly string _region;
    private readonly TimeProvider _time;

    public RequestVerifier(CredentialRegistry credentials, string region, TimeProvider time)
    {
        _credentials = credentials;
        _region = region;
        _time = time;
    }

    public Caller Verify(HttpRequest request, byte[] body, string service)
    {
        var header = request.Headers.Authorization.ToString();
        if (string.IsNullOrEmpty(header))
        {
            throw new AuthFailure(AuthFailureKind.MissingAuthentication, "Request is missing Authentication Token");
        }

        if (!SigV4.TryParseAuthorization(header, out var authorization)
            || !authorization.SignedHeaders.Contains("host")
            || !SigV4.TryParseAmzDate(request.Headers["X-Amz-Date"].ToString(), out var signedAt))
        {
            throw new AuthFailure(AuthFailureKind.IncompleteSignature, "Authorization header or X-Amz-Date is malformed or incomplete");
        }

        if (!_credentials.TryFind(authorization.AccessKeyId, out var secret, out var caller, out var temporary))
        {
            throw new AuthFailure(AuthFailureKind.UnknownAccessKey, "The security token included in the request is invalid.");
        }

        if (temporary is not null)
        {
            var token = request.Headers["X-Amz-Security-Token"].ToString();
            if (!FixedTimeEquals(token, temporary.SessionToken))
            {
                throw new AuthFailure(AuthFailureKind.InvalidSessionToken, "The security token included in the request is invalid.");
            }

            if (_time.GetUtcNow() >= temporary.Expiration)
            {
                throw new AuthFailure(AuthFailureKind.ExpiredToken, "The security token included in the request is expired");
            }
        }

        if (authorization.Region != _region || authorization.Service != service)
        {
            throw new AuthFailure(AuthFailureKind.SignatureMismatch, $"Credential should be scoped to region '{_region}' and service '{service}'.");
        }

        var amzDate = SigV4.FormatAmzDate(signedAt);
        if (authorization.Date != amzDate[..8])
        {
            throw new AuthFailure(AuthFailureKind.SignatureMismatch, "Credential scope date differs from X-Amz-Date.");
        }

        var skew = _time.GetUtcNow() - signedAt;
        if (skew > MaxClockSkew || skew < -MaxClockSkew)
        {
            throw new AuthFailure(AuthFailureKind.SignatureMismatch, "Signature expired: X-Amz-Date is more than 5 minutes away from the server's time.");
        }

        var headers = new List<KeyValuePair<string, string>>();
        foreach (var name in authorization.SignedHeaders)
        {
            if (!request.Headers.TryGetValue(name, out var values))
            {
                throw new AuthFailure(AuthFailureKind.SignatureMismatch, $"Signed header '{name}' is missing from the request.");
            }

            headers.Add(new(name, string.Join(',', values.Select(v => SigV4.CanonicalHeaderValue(v ?? "")))));
        }

        var rawTarget = request.HttpContext.Features.Get<IHttpRequestFeature>()?.RawTarget ?? request.Path.Value ?? "/";
        var question = rawTarget.IndexOf('?', StringComparison.Ordinal);
        var path = question < 0 ? rawTarget : rawTarget[..question];
        var query = question < 0 ? "" : SigV4.CanonicalQueryString(rawTarget[(question + 1)..]);
        var canonical = SigV4.CanonicalRequest(request.Method, path, query, headers, SigV4.HexSha256(body));
        var expected = SigV4.Signature(secret, authorization.Date, authorization.Region, authorization.Service,
            SigV4.StringToSign(amzDate, authorization.Scope, canonical));
        if (!FixedTimeEquals(expected, authorization.Signature))
        {
            throw new AuthFailure(AuthFailureKind.SignatureMismatch,
                "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.");
        }

        return caller;
    }

    private static bool FixedTimeEquals(string a, string b) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(a), Encoding.UTF8.GetBytes(b));
}
