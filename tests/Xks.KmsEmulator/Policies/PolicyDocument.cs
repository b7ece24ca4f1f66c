using System.Globalization;
using System.Text.Json;
using Xks.KmsEmulator.Kms;

namespace Xks.KmsEmulator.Policies;

/// <summary>Whose policy a document is: a key policy names its principals; an identity policy must not.</summary>
internal enum PolicyKind
{
    Key,
    Identity,
}

/// <summary>A statement's Principal: <c>"*"</c>, <c>{"AWS": ...}</c> and/or <c>{"Service": ...}</c>.</summary>
internal sealed record PolicyPrincipal(bool Anyone, IReadOnlyList<string> Aws, IReadOnlyList<string> Services);

/// <summary>
/// One condition test: <c>{"StringEquals": {"kms:ViaService": ["ec2.us-east-1.amazonaws.com"]}}</c> gives
/// Operator <c>StringEquals</c>, Key <c>kms:ViaService</c>, one value. <see cref="SetQualifier"/> is
/// <c>ForAnyValue</c>, <c>ForAllValues</c> or null; <see cref="IfExists"/> is the <c>...IfExists</c> suffix.
/// </summary>
internal sealed record PolicyCondition(string? SetQualifier, string Operator, bool IfExists, string Key, IReadOnlyList<string> Values);

/// <summary>One statement; <see cref="NotAction"/> says <see cref="Actions"/> lists what it does NOT cover.</summary>
internal sealed record PolicyStatement(
    string? Sid, bool IsAllow, PolicyPrincipal? Principal, IReadOnlyList<string> Actions, bool NotAction,
    IReadOnlyList<string> Resources, IReadOnlyList<PolicyCondition> Conditions);

/// <summary>
/// An IAM policy document (key policy or identity policy) parsed the way AWS reads one: Statement an object or an
/// array; Effect Allow|Deny; Principal, Action/NotAction, Resource and Condition as strings or lists. Anything the
/// emulator cannot evaluate faithfully is refused as <c>MalformedPolicyDocumentException</c> with the reason, rather
/// than silently ignored (an ignored Deny would allow what AWS refuses).
/// </summary>
internal sealed class PolicyDocument
{
    public const int MaxLength = 32768;

    /// <summary>The condition operators the evaluator implements (without ForAnyValue:/ForAllValues: and IfExists).</summary>
    public static readonly IReadOnlySet<string> Operators = new HashSet<string>(StringComparer.Ordinal)
    {
        "StringEquals", "StringNotEquals", "StringLike", "StringNotLike", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase",
        "Bool", "ArnLike", "ArnEquals", "ArnNotLike", "ArnNotEquals", "Null",
    };

    private static readonly HashSet<string> DocumentFields = new(StringComparer.Ordinal) { "Version", "Id", "Statement" };
    private static readonly HashSet<string> StatementFields = new(StringComparer.Ordinal) { "Sid", "Effect", "Principal", "Action", "NotAction", "Resource", "Condition" };

    private PolicyDocument(string? id, IReadOnlyList<PolicyStatement> statements)
    {
        Id = id;
        Statements = statements;
    }

    public string? Id { get; }

    public IReadOnlyList<PolicyStatement> Statements { get; }

    /// <summary>Parses <paramref name="json"/>; throws <see cref="KmsException"/> MalformedPolicyDocumentException saying what is wrong.</summary>
    public static PolicyDocument Parse(string? json, PolicyKind kind)
    {
        if (string.IsNullOrEmpty(json) || json.Length > MaxLength)
        {
            throw Malformed("The policy is empty or larger than 32 KB.");
        }

        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw Malformed("The policy must be a JSON object.");
            }

            foreach (var property in root.EnumerateObject())
            {
                if (!DocumentFields.Contains(property.Name))
                {
                    throw Malformed($"The policy has an unknown element '{property.Name}' (allowed: Version, Id, Statement).");
                }
            }

            if (root.TryGetProperty("Version", out var version) && (version.ValueKind != JsonValueKind.String || version.GetString() is not ("2012-10-17" or "2008-10-17")))
            {
                throw Malformed("The policy Version must be \"2012-10-17\" or \"2008-10-17\".");
            }

            if (!root.TryGetProperty("Statement", out var statement))
            {
                throw Malformed("The policy has no Statement.");
            }

            var statements = statement.ValueKind switch
            {
                JsonValueKind.Object => [ParseStatement(statement, 0, kind)],
                JsonValueKind.Array => statement.EnumerateArray().Select((s, i) => ParseStatement(s, i, kind)).ToList(),
                _ => throw Malformed("The policy Statement must be an object or an array of objects."),
            };
            var id = root.TryGetProperty("Id", out var idElement) && idElement.ValueKind == JsonValueKind.String ? idElement.GetString() : null;
            return new PolicyDocument(id, statements);
        }
        catch (JsonException ex)
        {
            throw Malformed($"The policy is not valid JSON: {ex.Message}");
        }
    }

    private static PolicyStatement ParseStatement(JsonElement element, int index, PolicyKind kind)
    {
        var where = $"Statement {index}";
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw Malformed($"{where} must be a JSON object.");
        }

        foreach (var property in element.EnumerateObject())
        {
            if (!StatementFields.Contains(property.Name))
            {
                throw Malformed($"{where} has an element the emulator does not support: '{property.Name}' (supported: {string.Join(", ", StatementFields)}).");
            }
        }

        string? sid = null;
        if (element.TryGetProperty("Sid", out var sidElement))
        {
            sid = sidElement.ValueKind == JsonValueKind.String ? sidElement.GetString() : throw Malformed($"{where}: Sid must be a string.");
            where = $"Statement '{sid}'";
        }

        var effect = element.TryGetProperty("Effect", out var effectElement) && effectElement.ValueKind == JsonValueKind.String ? effectElement.GetString() : null;
        if (effect is not ("Allow" or "Deny"))
        {
            throw Malformed($"{where}: Effect must be \"Allow\" or \"Deny\".");
        }

        PolicyPrincipal? principal = null;
        if (element.TryGetProperty("Principal", out var principalElement))
        {
            if (kind == PolicyKind.Identity)
            {
                throw Malformed($"{where}: an identity-based policy must not have a Principal.");
            }

            principal = ParsePrincipal(principalElement, where);
        }
        else if (kind == PolicyKind.Key)
        {
            throw Malformed($"{where}: a key policy statement must have a Principal.");
        }

        var hasAction = element.TryGetProperty("Action", out var actionElement);
        var hasNotAction = element.TryGetProperty("NotAction", out var notActionElement);
        if (hasAction == hasNotAction)
        {
            throw Malformed($"{where} must have exactly one of Action and NotAction.");
        }

        var actions = Strings(hasAction ? actionElement : notActionElement, $"{where}: {(hasAction ? "Action" : "NotAction")}");
        foreach (var action in actions)
        {
            if (action != "*" && action.IndexOf(':', StringComparison.Ordinal) <= 0)
            {
                throw Malformed($"{where}: action '{action}' must be '*' or '<service>:<action>'.");
            }
        }

        if (!element.TryGetProperty("Resource", out var resourceElement))
        {
            throw Malformed($"{where} has no Resource.");
        }

        var resources = Strings(resourceElement, $"{where}: Resource");
        foreach (var resource in resources)
        {
            if (resource != "*" && !resource.StartsWith("arn:", StringComparison.Ordinal))
            {
                throw Malformed($"{where}: resource '{resource}' must be '*' or an ARN.");
            }
        }

        var conditions = element.TryGetProperty("Condition", out var conditionElement) ? ParseConditions(conditionElement, where) : [];
        return new PolicyStatement(sid, effect == "Allow", principal, actions, hasNotAction, resources, conditions);
    }

    private static PolicyPrincipal ParsePrincipal(JsonElement element, string where)
    {
        if (element.ValueKind == JsonValueKind.String)
        {
            return element.GetString() == "*" ? new PolicyPrincipal(true, [], []) : throw Malformed($"{where}: Principal must be \"*\" or an object such as {{\"AWS\": ...}}.");
        }

        if (element.ValueKind != JsonValueKind.Object)
        {
            throw Malformed($"{where}: Principal must be \"*\" or an object such as {{\"AWS\": ...}}.");
        }

        IReadOnlyList<string> aws = [], services = [];
        foreach (var property in element.EnumerateObject())
        {
            switch (property.Name)
            {
                case "AWS":
                    aws = Strings(property.Value, $"{where}: Principal AWS");
                    foreach (var arn in aws)
                    {
                        if (arn != "*" && !IsAccountId(arn) && !arn.StartsWith("arn:", StringComparison.Ordinal))
                        {
                            throw Malformed($"{where}: Principal AWS '{arn}' must be \"*\", a 12-digit account ID or an IAM ARN.");
                        }
                    }

                    break;
                case "Service":
                    services = Strings(property.Value, $"{where}: Principal Service");
                    break;
                default:
                    throw Malformed($"{where}: Principal type '{property.Name}' is not supported by the emulator (AWS, Service).");
            }
        }

        if (aws.Count == 0 && services.Count == 0)
        {
            throw Malformed($"{where}: Principal names nobody.");
        }

        return new PolicyPrincipal(aws.Contains("*"), aws, services);
    }

    private static List<PolicyCondition> ParseConditions(JsonElement element, string where)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw Malformed($"{where}: Condition must be an object of operators.");
        }

        var conditions = new List<PolicyCondition>();
        foreach (var block in element.EnumerateObject())
        {
            var name = block.Name;
            string? qualifier = null;
            var colon = name.IndexOf(':', StringComparison.Ordinal);
            if (colon >= 0)
            {
                qualifier = name[..colon];
                if (qualifier is not ("ForAnyValue" or "ForAllValues"))
                {
                    throw Malformed($"{where}: condition qualifier '{qualifier}' must be ForAnyValue or ForAllValues.");
                }

                name = name[(colon + 1)..];
            }

            var ifExists = name.EndsWith("IfExists", StringComparison.Ordinal) && name != "IfExists";
            var op = ifExists ? name[..^"IfExists".Length] : name;
            if (!Operators.Contains(op))
            {
                throw Malformed($"{where}: condition operator '{block.Name}' is not supported by the emulator ({string.Join(", ", Operators.Order(StringComparer.Ordinal))}, with ForAnyValue:/ForAllValues: and IfExists).");
            }

            if (block.Value.ValueKind != JsonValueKind.Object)
            {
                throw Malformed($"{where}: condition operator '{block.Name}' must map condition keys to values.");
            }

            foreach (var test in block.Value.EnumerateObject())
            {
                if (test.Name.Length == 0)
                {
                    throw Malformed($"{where}: condition operator '{block.Name}' has an empty condition key.");
                }

                var values = Strings(test.Value, $"{where}: condition {block.Name} {test.Name}");
                if (op == "Bool" || op == "Null")
                {
                    foreach (var value in values)
                    {
                        if (!bool.TryParse(value, out _))
                        {
                            throw Malformed($"{where}: condition {block.Name} {test.Name} needs true or false, not '{value}'.");
                        }
                    }
                }

                conditions.Add(new PolicyCondition(qualifier, op, ifExists, test.Name, values));
            }
        }

        return conditions;
    }

    /// <summary>A string, boolean or number, or a non-empty list of them, as strings (booleans lower-case, like IAM).</summary>
    private static List<string> Strings(JsonElement element, string what)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Array:
                var list = element.EnumerateArray().Select(e => Scalar(e) ?? throw Malformed($"{what} must list strings.")).ToList();
                return list.Count > 0 ? list : throw Malformed($"{what} must not be an empty list.");
            default:
                return [Scalar(element) ?? throw Malformed($"{what} must be a string or a list of strings.")];
        }
    }

    private static string? Scalar(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => element.GetString() is { Length: > 0 } text ? text : null,
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        JsonValueKind.Number => element.GetRawText(),
        _ => null,
    };

    internal static bool IsAccountId(string text) =>
        text.Length == 12 && text.All(char.IsAsciiDigit) && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out _);

    private static KmsException Malformed(string message) => new("MalformedPolicyDocumentException", message);
}
