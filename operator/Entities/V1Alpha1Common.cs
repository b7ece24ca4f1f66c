using System.ComponentModel;
using System.Text.Json.Serialization;
using Xks.Operator.Entities.Attributes;

namespace Xks.Operator.Entities;

/// <summary>What every xks.dev status has: conditions and the generation they describe.</summary>
public abstract class V1Alpha1Status
{
    [JsonPropertyName("conditions")]
    [ListMap("type")]
    [Description("Current state of the resource as conditions (Ready, …), one per type. Wait on it with `kubectl wait --for=condition=Ready`.")]
    public IList<V1Alpha1Condition> Conditions { get; set; } = [];

    [JsonPropertyName("observedGeneration")]
    [Description("The metadata.generation the operator last reconciled. When it is lower than metadata.generation, the status is out of date.")]
    public long? ObservedGeneration { get; set; }
}

[Description("A reference to another object in the same namespace.")]
public sealed class V1Alpha1LocalObjectReference
{
    [JsonPropertyName("name")]
    [Required]
    [Length(1, 253)]
    [Description("Name of the object, in the same namespace.")]
    public string Name { get; set; } = "";
}

[Description("A schedule for rotation.")]
public sealed class V1Alpha1Rotation
{
    [JsonPropertyName("every")]
    [Pattern(Patterns.Duration)]
    [Description("Interval between rotations as a Go duration, e.g. 2160h (90 days). Unset: no automatic rotation.")]
    public string? Every { get; set; }
}

[JsonConverter(typeof(JsonStringEnumConverter<V1Alpha1DeletionPolicy>))]
public enum V1Alpha1DeletionPolicy
{
    /// <summary>Deleting the resource leaves the AWS object in place.</summary>
    Retain,

    /// <summary>Deleting the resource deletes (or schedules deletion of) the AWS object.</summary>
    Delete,
}

/// <summary>Regular expressions shared by several fields. All RE2-compatible.</summary>
public static class Patterns
{
    /// <summary>A Go duration such as 90m, 2160h or 1h30m.</summary>
    public const string Duration = @"^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$";

    /// <summary>A Go duration that may also use days (d = 24h), such as 90d or 1d12h.</summary>
    public const string DurationWithDays = @"^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h|d))+$";

    /// <summary>A lowercase DNS name with at least two labels; no port, no IP address, no trailing dot.</summary>
    public const string Hostname = @"^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]([-a-z0-9]*[a-z0-9])?$";

    /// <summary>An AWS region such as eu-west-1 or us-gov-east-1.</summary>
    public const string AwsRegion = @"^[a-z]{2}(-[a-z]+)+-\d$";

    /// <summary>An IAM role ARN.</summary>
    public const string IamRoleArn = @"^arn:aws[a-z-]*:iam::\d{12}:role/.+$";

    /// <summary>The URI path prefix of a key store on the proxy.</summary>
    public const string UriPathPrefix = "^(/|(/[A-Za-z0-9._-]+)*)$";

    /// <summary>A KMS alias name without the alias/ prefix; empty (spec.alias: "") means no alias.</summary>
    public const string KmsAlias = "^[a-zA-Z0-9/_-]*$";
}
