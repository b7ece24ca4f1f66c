using System.Net.Sockets;
using System.Text.RegularExpressions;
using Amazon.Runtime;
using Xks.Operator.Controllers;

namespace Xks.Operator.Aws;

/// <summary>
/// Turns whatever an AWS call threw into a condition reason (CamelCase) and a short message that is safe for a
/// status, an Event or a log line: AWS's own message (it never carries credentials), with anything that looks like a
/// secret access key or a session token redacted, on one line, at most <see cref="MaxMessageLength"/> characters.
/// Request ids are left out on purpose: a message must stay the same across retries, or every retry would rewrite
/// the status.
/// </summary>
public static partial class AwsErrors
{
    public const int MaxMessageLength = 300;

    private const string Redacted = "[redacted]";

    private static readonly HashSet<string> InvalidCredentialCodes = new(StringComparer.Ordinal)
    {
        "UnrecognizedClientException", "InvalidClientTokenId", "InvalidSignatureException", "SignatureDoesNotMatch",
        "ExpiredToken", "ExpiredTokenException", "IncompleteSignature", "IncompleteSignatureException",
        "MissingAuthenticationToken", "MissingAuthenticationTokenException", "InvalidAccessKeyId", "AuthFailure",
        "InvalidToken", "TokenRefreshRequired",
    };

    private static readonly HashSet<string> AccessDeniedCodes = new(StringComparer.Ordinal)
    {
        "AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedAccess",
    };

    private static readonly HashSet<string> ThrottledCodes = new(StringComparer.Ordinal)
    {
        "ThrottlingException", "Throttling", "ThrottledException", "LimitExceeded", "LimitExceededException",
        "TooManyRequestsException", "RequestLimitExceeded", "SlowDown", "RequestThrottled", "RequestThrottledException",
    };

    /// <summary>Maps <paramref name="exception"/> (from an AWS call or from <see cref="AwsClients"/>) to (Reason, Message).</summary>
    public static (string Reason, string Message) Describe(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        if (Find<AwsAccountException>(exception) is { } account)
        {
            return (account.Reason, Short(account.Message));
        }

        if (Find<IamException>(exception) is { ErrorCode: "LimitExceeded" } quota)
        {
            // IAM's LimitExceeded is a quota (e.g. two access keys per user), not throttling.
            return ("LimitExceeded", Short($"LimitExceeded: {quota.Message}"));
        }

        if (Find<AmazonServiceException>(exception) is { ErrorCode: { Length: > 0 } code } service)
        {
            var text = string.IsNullOrWhiteSpace(service.Message) ? code : $"{code}: {service.Message}";
            return (ReasonForCode(code), Short(text));
        }

        if (FindNetworkFailure(exception) is { } network)
        {
            return (Reasons.EndpointUnreachable, Short(network));
        }

        if (Find<AmazonServiceException>(exception) is { StatusCode: var status } httpOnly && (int)status >= 400)
        {
            // An error response without an AWS error code (e.g. an HTML page from a proxy in front of the endpoint).
            return ((int)status >= 500 ? Reasons.EndpointUnreachable : "AwsError", Short($"HTTP {(int)status}: {httpOnly.Message}"));
        }

        return ("AwsError", Short($"{exception.GetType().Name}: {exception.Message}"));
    }

    /// <summary>The reason for an AWS error code: the fixed groups above, else the code without its "Exception" suffix.</summary>
    public static string ReasonForCode(string errorCode)
    {
        ArgumentNullException.ThrowIfNull(errorCode);
        if (InvalidCredentialCodes.Contains(errorCode))
        {
            return Reasons.InvalidCredentials;
        }

        if (AccessDeniedCodes.Contains(errorCode))
        {
            return Reasons.AccessDenied;
        }

        if (ThrottledCodes.Contains(errorCode))
        {
            return Reasons.Throttled;
        }

        // Query-protocol codes may carry a namespace ("Sender.Foo"); condition reasons allow only [A-Za-z0-9_,:].
        var code = errorCode[(errorCode.LastIndexOf('.') + 1)..];
        if (code.EndsWith("Exception", StringComparison.Ordinal) && code.Length > "Exception".Length)
        {
            code = code[..^"Exception".Length];
        }

        code = NotReasonCharacter().Replace(code, "");
        return code.Length > 0 && char.IsLetter(code[0]) ? code : "AwsError";
    }

    /// <summary>
    /// Redacts anything that looks like a secret access key (exactly 40 base64 characters) or a session token (100
    /// or more), collapses the text to one line and cuts it to <see cref="MaxMessageLength"/>.
    /// </summary>
    public static string Scrub(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return "";
        }

        var scrubbed = LongToken().Replace(text, Redacted);
        scrubbed = SecretAccessKey().Replace(scrubbed, Redacted);
        return Whitespace().Replace(scrubbed, " ").Trim();
    }

    private static string Short(string text)
    {
        var scrubbed = Scrub(text);
        return scrubbed.Length <= MaxMessageLength ? scrubbed : scrubbed[..(MaxMessageLength - 3)] + "...";
    }

    private static string? FindNetworkFailure(Exception exception)
    {
        for (Exception? e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case HttpRequestException http:
                    return $"cannot reach the AWS endpoint: {http.Message}"; // e.g. "Connection refused (127.0.0.1:4566)"
                case SocketException socket:
                    return $"cannot connect to the AWS endpoint: {socket.Message}";
                case TimeoutException or TaskCanceledException:
                    return "the AWS endpoint did not answer in time";
            }
        }

        return null;
    }

    private static T? Find<T>(Exception exception)
        where T : Exception
    {
        for (Exception? e = exception; e is not null; e = e.InnerException)
        {
            if (e is T found)
            {
                return found;
            }

            if (e is AggregateException { InnerExceptions.Count: > 0 } aggregate)
            {
                return aggregate.InnerExceptions.Select(Find<T>).FirstOrDefault(x => x is not null);
            }
        }

        return null;
    }

    [GeneratedRegex("(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")]
    private static partial Regex SecretAccessKey();

    [GeneratedRegex("[A-Za-z0-9/+=_-]{100,}")]
    private static partial Regex LongToken();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();

    [GeneratedRegex("[^A-Za-z0-9_]")]
    private static partial Regex NotReasonCharacter();
}
