namespace Xks.Operator.Entities.Attributes;

/// <summary>
/// Schema facts read by <c>Xks.Operator.Crds.CrdGenerator</c>. Descriptions come from
/// <see cref="System.ComponentModel.DescriptionAttribute"/> and defaults from
/// <see cref="System.ComponentModel.DefaultValueAttribute"/>; everything else is declared with the attributes below.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class RequiredAttribute : Attribute;

/// <summary>The string must match this regular expression. Keep it RE2-compatible (no lookaround, no backreferences).</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class PatternAttribute(string pattern) : Attribute
{
    public string Pattern { get; } = pattern;
}

/// <summary>Inclusive numeric bounds (<c>minimum</c>/<c>maximum</c>).</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class RangeAttribute(long minimum, long maximum) : Attribute
{
    public long Minimum { get; } = minimum;

    public long Maximum { get; } = maximum;
}

/// <summary>
/// Inclusive length bounds: <c>minLength</c>/<c>maxLength</c> on strings, <c>minItems</c>/<c>maxItems</c> on lists.
/// A minimum of 0 or less and a negative maximum are not emitted.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class LengthAttribute(int minimum = -1, int maximum = -1) : Attribute
{
    public int Minimum { get; } = minimum;

    public int Maximum { get; } = maximum;
}

/// <summary>For a list of strings: the pattern every item must match.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class ItemPatternAttribute(string pattern) : Attribute
{
    public string Pattern { get; } = pattern;
}

/// <summary>The allowed values of a string property (an enum in the schema). C# enums get theirs automatically.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class AllowedValuesAttribute(params string[] values) : Attribute
{
    public IReadOnlyList<string> Values { get; } = values;
}

/// <summary>The OpenAPI <c>format</c> of a string or number (e.g. <c>uri</c>); date-times and int64 are inferred.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class FormatAttribute(string format) : Attribute
{
    public string Format { get; } = format;
}

/// <summary>
/// The field is schemaless below this point (<c>x-kubernetes-preserve-unknown-fields: true</c>); used for embedded
/// Kubernetes types such as resources, tolerations and affinity, which the API server validates when the pod is made.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class PreserveUnknownFieldsAttribute : Attribute;

/// <summary>A list of objects keyed by one or more of their fields (<c>x-kubernetes-list-type: map</c>).</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class ListMapAttribute(params string[] keys) : Attribute
{
    public IReadOnlyList<string> Keys { get; } = keys;
}

/// <summary>A column of <c>kubectl get</c> (<c>additionalPrinterColumns</c>), in declaration order.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true)]
public sealed class PrinterColumnAttribute(string name, string type, string jsonPath, int priority = 0) : Attribute
{
    public string Name { get; } = name;

    /// <summary>string, integer, number, boolean or date.</summary>
    public string Type { get; } = type;

    public string JsonPath { get; } = jsonPath;

    /// <summary>0 shows in the default view, 1 only with <c>-o wide</c>.</summary>
    public int Priority { get; } = priority;

    public string? Description { get; init; }
}

/// <summary>A short name of the resource for kubectl (e.g. <c>xv</c>).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true)]
public sealed class ShortNameAttribute(string name) : Attribute
{
    public string Name { get; } = name;
}

/// <summary>Categories the resource belongs to (<c>kubectl get xks</c> lists all of them).</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class CategoriesAttribute(params string[] categories) : Attribute
{
    public IReadOnlyList<string> Categories { get; } = categories;
}

/// <summary>Whether the resource lives in a namespace. Entities without the attribute are namespaced.</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class EntityScopeAttribute(EntityScope scope) : Attribute
{
    public EntityScope Scope { get; } = scope;
}

public enum EntityScope
{
    Namespaced,
    Cluster,
}
