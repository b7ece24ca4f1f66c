using System.Globalization;
using System.Text;
using System.Xml.Linq;
using Xks.KmsEmulator.Auth;

namespace Xks.KmsEmulator.Iam;

/// <summary>An IAM error: <c>&lt;ErrorResponse&gt;&lt;Error&gt;&lt;Type&gt;Sender&lt;/Type&gt;&lt;Code/&gt;&lt;Message/&gt;...</c>.</summary>
internal sealed class IamException(string code, string message, int status = 400) : Exception(message)
{
    public string Code { get; } = code;

    public int Status { get; } = status;
}

/// <summary>
/// IAM over the query protocol (form body <c>Action=...&amp;Version=2010-05-08</c>, XML answers): the access-key calls
/// CreateAccessKey, ListAccessKeys, UpdateAccessKey and DeleteAccessKey. Without <c>UserName</c> a call acts on the
/// user whose key signed it (as IAM does); a role's credentials must name the user. At most
/// <see cref="CredentialRegistry.MaxKeysPerUser"/> keys per user (LimitExceeded); a key IAM made signs as its user.
/// </summary>
internal sealed class IamOperations(CredentialRegistry credentials)
{
    public static readonly XNamespace Ns = "https://iam.amazonaws.com/doc/2010-05-08/";

    public static bool Knows(string action) => action is "CreateAccessKey" or "ListAccessKeys" or "UpdateAccessKey" or "DeleteAccessKey";

    public byte[] Invoke(string action, IReadOnlyDictionary<string, string> form, Caller caller, string requestId, DateTimeOffset now)
    {
        if (!Knows(action))
        {
            throw new IamException("InvalidAction", $"Could not find operation {action} for version 2010-05-08");
        }

        var user = UserName(form, caller);
        return action switch
        {
            "CreateAccessKey" => CreateAccessKey(user, requestId, now),
            "ListAccessKeys" => Response(action, requestId,
                new XElement(Ns + "AccessKeyMetadata", credentials.KeysOf(user).Select(k => new XElement(Ns + "member",
                    new XElement(Ns + "UserName", k.UserName),
                    new XElement(Ns + "AccessKeyId", k.AccessKeyId),
                    new XElement(Ns + "Status", k.Active ? "Active" : "Inactive"),
                    new XElement(Ns + "CreateDate", Date(k.CreateDate))))),
                new XElement(Ns + "IsTruncated", "false")),
            "UpdateAccessKey" => UpdateAccessKey(user, form, requestId),
            _ => DeleteAccessKey(user, form, requestId),
        };
    }

    public static byte[] Error(string code, string message, string requestId) => Xml(new XElement(Ns + "ErrorResponse",
        new XElement(Ns + "Error", new XElement(Ns + "Type", "Sender"), new XElement(Ns + "Code", code), new XElement(Ns + "Message", message)),
        new XElement(Ns + "RequestId", requestId)));

    private byte[] CreateAccessKey(string user, string requestId, DateTimeOffset now)
    {
        var key = credentials.CreateKey(user, now)
            ?? throw new IamException("LimitExceeded", $"Cannot exceed quota for AccessKeysPerUser: {CredentialRegistry.MaxKeysPerUser}", 409);
        return Response("CreateAccessKey", requestId, new XElement(Ns + "AccessKey",
            new XElement(Ns + "UserName", key.UserName),
            new XElement(Ns + "AccessKeyId", key.AccessKeyId),
            new XElement(Ns + "Status", "Active"),
            new XElement(Ns + "SecretAccessKey", key.SecretAccessKey),
            new XElement(Ns + "CreateDate", Date(key.CreateDate))));
    }

    private byte[] UpdateAccessKey(string user, IReadOnlyDictionary<string, string> form, string requestId)
    {
        var id = Required(form, "AccessKeyId");
        var status = Required(form, "Status");
        if (status is not ("Active" or "Inactive"))
        {
            throw new IamException("ValidationError", $"1 validation error detected: Value '{status}' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]");
        }

        if (!credentials.SetActive(user, id, status == "Active"))
        {
            throw NoSuchKey(id);
        }

        return Response("UpdateAccessKey", requestId);
    }

    private byte[] DeleteAccessKey(string user, IReadOnlyDictionary<string, string> form, string requestId)
    {
        var id = Required(form, "AccessKeyId");
        if (!credentials.DeleteKey(user, id))
        {
            throw NoSuchKey(id);
        }

        return Response("DeleteAccessKey", requestId);
    }

    private static string UserName(IReadOnlyDictionary<string, string> form, Caller caller)
    {
        if (form.TryGetValue("UserName", out var named) && !string.IsNullOrEmpty(named))
        {
            return named;
        }

        const string marker = ":user/";
        var at = caller.Arn.IndexOf(marker, StringComparison.Ordinal);
        return at < 0
            ? throw new IamException("ValidationError", "Must specify userName when calling with non-User credentials")
            : caller.Arn[(at + marker.Length)..].Split('/')[^1];
    }

    private static string Required(IReadOnlyDictionary<string, string> form, string name) =>
        form.TryGetValue(name, out var value) && !string.IsNullOrEmpty(value)
            ? value
            : throw new IamException("ValidationError", $"1 validation error detected: Value null at '{char.ToLowerInvariant(name[0])}{name[1..]}' failed to satisfy constraint: Member must not be null");

    private static IamException NoSuchKey(string id) => new("NoSuchEntity", $"The Access Key with id {id} cannot be found.", 404);

    private static string Date(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static byte[] Response(string action, string requestId, params object[] result) => Xml(new XElement(Ns + (action + "Response"),
        new XElement(Ns + (action + "Result"), result),
        new XElement(Ns + "ResponseMetadata", new XElement(Ns + "RequestId", requestId))));

    private static byte[] Xml(XElement element) => Encoding.UTF8.GetBytes(element.ToString(SaveOptions.DisableFormatting));
}
