using System.Collections;
using System.ComponentModel;
using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using k8s.Models;
using Xks.Operator.Entities;
using Xks.Operator.Entities.Attributes;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Xks.Operator.Crds;

/// <summary>One generated CRD: its file name (<c>xks.dev_&lt;plural&gt;.yaml</c>) and YAML text.</summary>
public sealed record GeneratedCrd(string FileName, string Yaml);

/// <summary>
/// Generates the <c>apiextensions.k8s.io/v1</c> CustomResourceDefinitions of the xks.dev entities by reflection over the
/// entity classes and their schema attributes (<see cref="DescriptionAttribute"/>, <see cref="DefaultValueAttribute"/>,
/// <see cref="Entities.Attributes"/>). The output is deterministic: properties sorted by name, fixed key order, no
/// timestamps, so <c>config/crd/bases</c> can be compared byte for byte. Targets Kubernetes 1.20: structural schemas,
/// no CEL.
/// </summary>
public static partial class CrdGenerator
{
    /// <summary>The entities that get a CRD, in file order.</summary>
    public static IReadOnlyList<Type> EntityTypes { get; } =
        [typeof(V1Alpha1Vault), typeof(V1Alpha1CspAccount), typeof(V1Alpha1ClusterCspAccount), typeof(V1Alpha1KeySet), typeof(V1Alpha1CloudKey)];

    /// <summary>The CRD of every entity in <see cref="EntityTypes"/>.</summary>
    public static IReadOnlyList<GeneratedCrd> Generate() => [.. EntityTypes.Select(Generate)];

    /// <summary>The CRD of one entity class (one carrying <see cref="KubernetesEntityAttribute"/>).</summary>
    public static GeneratedCrd Generate(Type entityType)
    {
        ArgumentNullException.ThrowIfNull(entityType);
        var entity = entityType.GetCustomAttribute<KubernetesEntityAttribute>()
            ?? throw new ArgumentException($"{entityType.Name} has no [KubernetesEntity]", nameof(entityType));
        return new GeneratedCrd($"{entity.Group}_{entity.PluralName}.yaml", ToYaml(BuildCrd(entityType, entity)));
    }

    /// <summary>Writes every CRD into <paramref name="directory"/> (created if missing); returns the paths written.</summary>
    public static IReadOnlyList<string> WriteAll(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory.CreateDirectory(directory);
        var paths = new List<string>();
        foreach (var crd in Generate())
        {
            var path = Path.Combine(directory, crd.FileName);
            File.WriteAllText(path, crd.Yaml, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
            paths.Add(path);
        }

        return paths;
    }

    private static YamlMappingNode BuildCrd(Type entityType, KubernetesEntityAttribute entity)
    {
        var kind = entity.Kind;
        var singular = kind.ToLowerInvariant();
        var scope = entityType.GetCustomAttribute<EntityScopeAttribute>()?.Scope ?? EntityScope.Namespaced;

        var names = new YamlMappingNode();
        names.Add("kind", kind);
        names.Add("listKind", kind + "List");
        names.Add("plural", entity.PluralName);
        names.Add("singular", singular);
        var shortNames = entityType.GetCustomAttributes<ShortNameAttribute>().Select(s => s.Name).ToList();
        if (shortNames.Count > 0)
        {
            names.Add("shortNames", Sequence(shortNames));
        }

        var categories = entityType.GetCustomAttribute<CategoriesAttribute>()?.Categories ?? [];
        if (categories.Count > 0)
        {
            names.Add("categories", Sequence(categories));
        }

        var (specType, statusType) = SpecAndStatusTypes(entityType);
        var version = new YamlMappingNode();
        version.Add("name", entity.ApiVersion);
        version.Add("served", Plain("true"));
        version.Add("storage", Plain("true"));
        var columns = entityType.GetCustomAttributes<PrinterColumnAttribute>().ToList();
        if (columns.Count > 0)
        {
            var columnNodes = new YamlSequenceNode();
            foreach (var column in columns)
            {
                var node = new YamlMappingNode();
                node.Add("name", column.Name);
                node.Add("type", column.Type);
                node.Add("jsonPath", Scalar(column.JsonPath));
                if (column.Description is { } description)
                {
                    node.Add("description", Scalar(description));
                }

                if (column.Priority != 0)
                {
                    node.Add("priority", Plain(column.Priority.ToString(CultureInfo.InvariantCulture)));
                }

                columnNodes.Add(node);
            }

            version.Add("additionalPrinterColumns", columnNodes);
        }

        var root = new YamlMappingNode();
        root.Add("description", Scalar(DescriptionOf(entityType) ?? throw new InvalidOperationException($"{entityType.Name} has no [Description]")));
        root.Add("type", "object");
        var properties = new YamlMappingNode();
        properties.Add("apiVersion", Leaf("string",
            "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources"));
        properties.Add("kind", Leaf("string",
            "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds"));
        var metadata = new YamlMappingNode();
        metadata.Add("type", "object");
        properties.Add("metadata", metadata);
        var specSchema = ObjectSchema(specType, DescriptionOf(specType), [specType]);
        properties.Add("spec", specSchema);
        if (statusType is not null)
        {
            properties.Add("status", ObjectSchema(statusType, DescriptionOf(statusType), [statusType]));
        }

        root.Add("properties", properties);
        if (HasRequired(specType))
        {
            root.Add("required", Sequence(["spec"]));
        }

        var schema = new YamlMappingNode();
        schema.Add("openAPIV3Schema", root);
        version.Add("schema", schema);
        if (statusType is not null)
        {
            var subresources = new YamlMappingNode();
            subresources.Add("status", new YamlMappingNode());
            version.Add("subresources", subresources);
        }

        var spec = new YamlMappingNode();
        spec.Add("group", entity.Group);
        spec.Add("names", names);
        spec.Add("scope", scope.ToString());
        spec.Add("versions", new YamlSequenceNode(version));

        var crdMetadata = new YamlMappingNode();
        crdMetadata.Add("name", $"{entity.PluralName}.{entity.Group}");

        var crd = new YamlMappingNode();
        crd.Add("apiVersion", "apiextensions.k8s.io/v1");
        crd.Add("kind", "CustomResourceDefinition");
        crd.Add("metadata", crdMetadata);
        crd.Add("spec", spec);
        return crd;
    }

    private static (Type Spec, Type? Status) SpecAndStatusTypes(Type entityType)
    {
        for (var t = entityType; t is not null; t = t.BaseType)
        {
            if (t.IsGenericType && t.GetGenericTypeDefinition() == typeof(CustomResource<,>))
            {
                var args = t.GetGenericArguments();
                return (args[0], args[1]);
            }
        }

        throw new ArgumentException($"{entityType.Name} does not derive from CustomResource<TSpec, TStatus>", nameof(entityType));
    }

    private static bool HasRequired(Type type) => JsonProperties(type).Any(p => p.Property.GetCustomAttribute<RequiredAttribute>() is not null);

    /// <summary>The schema of a class: its JSON properties sorted by name, and the required ones.</summary>
    private static YamlMappingNode ObjectSchema(Type type, string? description, IReadOnlyList<Type> path)
    {
        var node = new YamlMappingNode();
        if (description is not null)
        {
            node.Add("description", Scalar(description));
        }

        node.Add("type", "object");
        var properties = new YamlMappingNode();
        var required = new List<string>();
        foreach (var (name, property) in JsonProperties(type).OrderBy(p => p.Name, StringComparer.Ordinal))
        {
            properties.Add(name, PropertySchema(type, property, path));
            if (property.GetCustomAttribute<RequiredAttribute>() is not null)
            {
                required.Add(name);
            }
        }

        if (properties.Children.Count > 0)
        {
            node.Add("properties", properties);
        }

        if (required.Count > 0)
        {
            node.Add("required", Sequence(required));
        }

        return node;
    }

    private static IEnumerable<(string Name, PropertyInfo Property)> JsonProperties(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetMethod is not null && p.GetIndexParameters().Length == 0)
            .Where(p => p.GetCustomAttribute<JsonIgnoreAttribute>() is not { Condition: JsonIgnoreCondition.Always })
            .Select(p => (p.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name ?? JsonNamingPolicyCamelCase(p.Name), p));

    private static string JsonNamingPolicyCamelCase(string name) => System.Text.Json.JsonNamingPolicy.CamelCase.ConvertName(name);

    private static YamlMappingNode PropertySchema(Type owner, PropertyInfo property, IReadOnlyList<Type> path)
    {
        var description = property.GetCustomAttribute<DescriptionAttribute>()?.Description;
        var type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
        description ??= DescriptionOf(type) ?? (ElementType(type) is { } element ? DescriptionOf(element) : null);
        var where = $"{owner.Name}.{property.Name}";

        YamlMappingNode node;
        if (property.GetCustomAttribute<PreserveUnknownFieldsAttribute>() is not null)
        {
            node = new YamlMappingNode();
            AddDescription(node, description);
            var unknown = new YamlMappingNode();
            unknown.Add("type", "object");
            unknown.Add("x-kubernetes-preserve-unknown-fields", Plain("true"));
            if (ElementType(type) is not null)
            {
                node.Add("type", "array");
                node.Add("items", unknown);
            }
            else
            {
                node.Add("type", "object");
                node.Add("x-kubernetes-preserve-unknown-fields", Plain("true"));
            }
        }
        else
        {
            node = TypeSchema(type, description, path, where);
        }

        ApplyConstraints(node, property, type, where);
        return node;
    }

    private static YamlMappingNode TypeSchema(Type type, string? description, IReadOnlyList<Type> path, string where)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (Scalar(type) is { } scalar)
        {
            var node = new YamlMappingNode();
            AddDescription(node, description);
            node.Add("type", scalar.Type);
            if (scalar.Format is not null)
            {
                node.Add("format", scalar.Format);
            }

            if (type.IsEnum)
            {
                node.Add("enum", Sequence(EnumNames(type)));
            }

            return node;
        }

        if (DictionaryValueType(type) is { } valueType)
        {
            var node = new YamlMappingNode();
            AddDescription(node, description);
            node.Add("type", "object");
            node.Add("additionalProperties", TypeSchema(valueType, null, path, where + "{}"));
            return node;
        }

        if (ElementType(type) is { } elementType)
        {
            var node = new YamlMappingNode();
            AddDescription(node, description);
            node.Add("type", "array");
            node.Add("items", TypeSchema(elementType, DescriptionOf(elementType), path, where + "[]"));
            return node;
        }

        if (type.IsClass && type != typeof(object))
        {
            if (path.Contains(type))
            {
                throw new InvalidOperationException($"{where}: recursive type {type.Name} cannot be a structural schema");
            }

            return ObjectSchema(type, description, [.. path, type]);
        }

        throw new InvalidOperationException($"{where}: no schema for type {type}");
    }

    private static void ApplyConstraints(YamlMappingNode node, PropertyInfo property, Type type, string where)
    {
        var isString = type == typeof(string);
        var isList = ElementType(type) is not null && !isString;

        if (property.GetCustomAttribute<AllowedValuesAttribute>() is { } allowed)
        {
            node.Add("enum", Sequence(allowed.Values));
        }

        if (property.GetCustomAttribute<FormatAttribute>() is { } format)
        {
            node.Add("format", format.Format);
        }

        if (property.GetCustomAttribute<PatternAttribute>() is { } pattern)
        {
            node.Add("pattern", Scalar(pattern.Pattern));
        }

        if (property.GetCustomAttribute<LengthAttribute>() is { } length)
        {
            var (min, max) = isString ? ("minLength", "maxLength") : isList ? ("minItems", "maxItems") :
                throw new InvalidOperationException($"{where}: [Length] needs a string or a list");
            if (length.Minimum > 0)
            {
                node.Add(min, Plain(length.Minimum.ToString(CultureInfo.InvariantCulture)));
            }

            if (length.Maximum >= 0)
            {
                node.Add(max, Plain(length.Maximum.ToString(CultureInfo.InvariantCulture)));
            }
        }

        if (property.GetCustomAttribute<RangeAttribute>() is { } range)
        {
            if (range.Minimum != long.MinValue)
            {
                node.Add("minimum", Plain(range.Minimum.ToString(CultureInfo.InvariantCulture)));
            }

            if (range.Maximum != long.MaxValue)
            {
                node.Add("maximum", Plain(range.Maximum.ToString(CultureInfo.InvariantCulture)));
            }
        }

        if (property.GetCustomAttribute<ItemPatternAttribute>() is { } itemPattern)
        {
            ((YamlMappingNode)node.Children[new YamlScalarNode("items")]).Add("pattern", Scalar(itemPattern.Pattern));
        }

        if (property.GetCustomAttribute<DefaultValueAttribute>() is { } defaultValue)
        {
            node.Add("default", DefaultNode(defaultValue.Value, type, where));
        }

        if (property.GetCustomAttribute<ListMapAttribute>() is { } listMap)
        {
            node.Add("x-kubernetes-list-map-keys", Sequence(listMap.Keys));
            node.Add("x-kubernetes-list-type", "map");
        }
    }

    private static YamlNode DefaultNode(object? value, Type type, string where) => value switch
    {
        "{}" when Scalar(type) is null && ElementType(type) is null => new YamlMappingNode(),
        bool b when type == typeof(bool) => Plain(b ? "true" : "false"),
        int or long when Scalar(type) is { Type: "integer" } => Plain(Convert.ToString(value, CultureInfo.InvariantCulture)!),
        Enum e when e.GetType() == type => Scalar(EnumName(type, e)),
        string s when type == typeof(string) => Scalar(s),
        _ => throw new InvalidOperationException($"{where}: default {value ?? "null"} does not fit {type.Name}"),
    };

    private static (string Type, string? Format)? Scalar(Type type) => type switch
    {
        _ when type == typeof(string) => ("string", null),
        _ when type == typeof(bool) => ("boolean", null),
        _ when type == typeof(int) || type == typeof(short) || type == typeof(uint) => ("integer", "int32"),
        _ when type == typeof(long) => ("integer", "int64"),
        _ when type == typeof(double) || type == typeof(float) || type == typeof(decimal) => ("number", null),
        _ when type == typeof(DateTime) || type == typeof(DateTimeOffset) => ("string", "date-time"),
        { IsEnum: true } => ("string", null),
        _ => null,
    };

    private static Type? DictionaryValueType(Type type)
    {
        var dictionary = type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IDictionary<,>)
            ? type
            : type.GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IDictionary<,>));
        if (dictionary is null)
        {
            return null;
        }

        var args = dictionary.GetGenericArguments();
        return args[0] == typeof(string) ? args[1] : throw new InvalidOperationException($"{type}: map keys must be strings");
    }

    private static Type? ElementType(Type type)
    {
        if (type == typeof(string) || DictionaryValueType(type) is not null || !typeof(IEnumerable).IsAssignableFrom(type))
        {
            return null;
        }

        if (type.IsArray)
        {
            return type.GetElementType();
        }

        var enumerable = type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IEnumerable<>)
            ? type
            : type.GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>));
        return enumerable?.GetGenericArguments()[0];
    }

    private static List<string> EnumNames(Type enumType) =>
        [.. enumType.GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => JsonName(f))];

    private static string EnumName(Type enumType, Enum value) =>
        JsonName(enumType.GetField(value.ToString(), BindingFlags.Public | BindingFlags.Static)!);

    private static string JsonName(FieldInfo field) => field.GetCustomAttribute<JsonStringEnumMemberNameAttribute>()?.Name ?? field.Name;

    private static string? DescriptionOf(Type type) => type.GetCustomAttribute<DescriptionAttribute>()?.Description;

    private static void AddDescription(YamlMappingNode node, string? description)
    {
        if (description is not null)
        {
            node.Add("description", Scalar(description));
        }
    }

    private static YamlMappingNode Leaf(string type, string description)
    {
        var node = new YamlMappingNode();
        node.Add("description", Scalar(description));
        node.Add("type", type);
        return node;
    }

    private static YamlSequenceNode Sequence(IEnumerable<string> items) => new(items.Select(Scalar));

    /// <summary>A plain scalar for numbers and booleans.</summary>
    private static YamlScalarNode Plain(string value) => new(value) { Style = ScalarStyle.Plain };

    /// <summary>
    /// A string scalar, quoted when a YAML 1.1 or 1.2 reader (Go's yaml.v2 in kubectl) would otherwise read it as a
    /// boolean, null, number or timestamp, e.g. the condition status values True/False.
    /// </summary>
    private static YamlScalarNode Scalar(string value) =>
        new(value) { Style = value.Length == 0 || AmbiguousPlainScalar().IsMatch(value) ? ScalarStyle.DoubleQuoted : ScalarStyle.Any };

    [GeneratedRegex(@"^(y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|null|Null|NULL|~|[-+.]?[0-9].*|\.(inf|Inf|INF|nan|NaN|NAN)|<<)$")]
    private static partial Regex AmbiguousPlainScalar();

    private static string ToYaml(YamlMappingNode crd)
    {
        using var writer = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
        var stream = new YamlStream(new YamlDocument(crd));
        stream.Save(new Emitter(writer, bestIndent: 2, bestWidth: int.MaxValue), assignAnchors: false);
        // YamlStream ends the document with "..."; a CRD file starts with "---" instead, like controller-gen's
        var text = writer.ToString().Replace("\r\n", "\n", StringComparison.Ordinal);
        return "---\n" + (text.EndsWith("...\n", StringComparison.Ordinal) ? text[..^4] : text);
    }
}
