using Xks.Proxy.Authorization;

namespace Xks.Proxy.Endpoints;

/// <summary>
/// Splits a raw request path into path prefix, operation and externalKeyId:
/// <c>[&lt;prefix&gt;]/kms/xks/v1/health</c> and <c>[&lt;prefix&gt;]/kms/xks/v1/keys/&lt;id&gt;/(metadata|encrypt|decrypt)</c>.
/// </summary>
public static class XksPath
{
    private const string Marker = "/kms/xks/v1/";

    public static bool TryParse(ReadOnlySpan<char> path, out Range prefix, out XksOperation operation, out Range keyId)
    {
        prefix = default;
        keyId = default;
        operation = default;
        var at = path.LastIndexOf(Marker);
        if (at < 0)
        {
            return false;
        }

        var rest = path[(at + Marker.Length)..];
        prefix = 0..at;
        if (rest.SequenceEqual("health"))
        {
            operation = XksOperation.GetHealthStatus;
            return true;
        }

        if (!rest.StartsWith("keys/"))
        {
            return false;
        }

        rest = rest[5..];
        var slash = rest.IndexOf('/');
        if (slash <= 0 || slash > 128)
        {
            return false;
        }

        var id = rest[..slash];
        foreach (var c in id)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
            {
                return false;
            }
        }

        var op = rest[(slash + 1)..];
        if (op.SequenceEqual("metadata"))
        {
            operation = XksOperation.GetKeyMetadata;
        }
        else if (op.SequenceEqual("encrypt"))
        {
            operation = XksOperation.Encrypt;
        }
        else if (op.SequenceEqual("decrypt"))
        {
            operation = XksOperation.Decrypt;
        }
        else
        {
            return false;
        }

        var idStart = at + Marker.Length + 5;
        keyId = idStart..(idStart + slash);
        return true;
    }
}
