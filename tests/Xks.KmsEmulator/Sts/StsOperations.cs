using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Xks.KmsEmulator.Auth;

namespace Xks.KmsEmulator.Sts;

/// <summary>An STS error: <c>&lt;ErrorResponse&gt;&lt;Error&gt;&lt;Type&gt;Sender&lt;/Type&gt;&lt;Code/&gt;&lt;Message/&gt;...</c>.</summary>
internal sealed class StsException(string code, string message, int status = 400) : Exception(message)
{
    public string Code { get; } = code;

    public int Status { get; } = status;
}

/// <summary>STS over the query protocol (form body <c>Action=...&amp;Version=2011-06-15</c>, XML answers): GetCallerIdentity and AssumeRole.</summary>
internal sealed partial class StsOperations
{
    public static readonly XNamespace Ns = "https://sts.amazonaws.com/doc/2011-06-15/";
    private readonly CredentialRegistry _credentials;
    private readonly KmsEmulatorOptions _options;

    public StsOperations(CredentialRegistry credentials, KmsEmulatorOptions options)
    {
        _credentials = credentials;
        _options = options;
    }

    public static bool Knows(string action) => action is "GetCallerIdentity" or "AssumeRole";

    public byte[] Invoke(string action, IReadOnlyDictionary<string, string> form, Caller caller, string requestId, DateTimeOffset now) => action switch
    {
        "GetCallerIdentity" => Response(action, requestId,
            new XElement(Ns + "Arn", caller.Arn), new XElement(Ns + "UserId", caller.UserId), new XElement(Ns + "Account", caller.Account)),
        "AssumeRole" => AssumeRole(form, requestId, now),
        _ => throw new StsException("InvalidAction", $"Could not find operation {action} for version 2011-06-15"),
    };

    public static byte[] Error(string code, string message, string requestId) => Xml(new XElement(Ns + "ErrorResponse",
        new XElement(Ns + "Error", new XElement(Ns + "Type", "Sender"), new XElement(Ns + "Code", code), new XElement(Ns + "Message", message)),
        new XElement(Ns + "RequestId", requestId)));

    private byte[] AssumeRole(IReadOnlyDictionary<string, string> form, string requestId, DateTimeOffset now)
    {
        var roleArn = form.GetValueOrDefault("RoleArn");
        var sessionName = form.GetValueOrDefault("RoleSessionName");
        if (roleArn is null || !RoleArnPattern().IsMatch(roleArn))
        {
            throw new StsException("ValidationError", "1 validation error detected: Value at 'roleArn' failed to satisfy constraint: Member must be an IAM role ARN");
        }

        if (sessionName is null || !SessionNamePattern().IsMatch(sessionName))
        {
            throw new StsException("ValidationError", "1 validation error detected: Value at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]{2,64}");
        }

        var duration = 3600;
        if (form.TryGetValue("DurationSeconds", out var text)
            && (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out duration) || duration is < 900 or > 43200))
        {
            throw new StsException("ValidationError", "1 validation error detected: Value at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 43200");
        }

        if (_options.RoleExternalIds.TryGetValue(roleArn, out var required) && form.GetValueOrDefault("ExternalId") != required)
        {
            throw new StsException("AccessDenied", $"User is not authorized to perform: sts:AssumeRole on resource: {roleArn}", 403);
        }

        var issued = _credentials.Issue(roleArn, sessionName, TimeSpan.FromSeconds(duration), now);
        return Response("AssumeRole", requestId,
            new XElement(Ns + "Credentials",
                new XElement(Ns + "AccessKeyId", issued.AccessKeyId),
                new XElement(Ns + "SecretAccessKey", issued.SecretAccessKey),
                new XElement(Ns + "SessionToken", issued.SessionToken),
                new XElement(Ns + "Expiration", issued.Expiration.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture))),
            new XElement(Ns + "AssumedRoleUser",
                new XElement(Ns + "AssumedRoleId", issued.Caller.UserId),
                new XElement(Ns + "Arn", issued.Caller.Arn)));
    }

    private static byte[] Response(string action, string requestId, params object[] result) => Xml(new XElement(Ns + (action + "Response"),
        new XElement(Ns + (action + "Result"), result),
        new XElement(Ns + "ResponseMetadata", new XElement(Ns + "RequestId", requestId))));

    private static byte[] Xml(XElement element) => Encoding.UTF8.GetBytes(element.ToString(SaveOptions.DisableFormatting));

    [GeneratedRegex(@"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")]
    private static partial Regex RoleArnPattern();

    [GeneratedRegex(@"^[\w+=,.@-]{2,64}$")]
    private static partial Regex SessionNamePattern();
}
