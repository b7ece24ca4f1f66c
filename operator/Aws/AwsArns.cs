namespace Xks.Operator.Aws;

/// <summary>The parts of an ARN the operator needs (<c>arn:&lt;partition&gt;:&lt;service&gt;:&lt;region&gt;:&lt;account&gt;:&lt;resource&gt;</c>).</summary>
public static class AwsArns
{
    /// <summary>The default partition (commercial regions).</summary>
    public const string DefaultPartition = "aws";

    /// <summary>
    /// The partition of <paramref name="arn"/>: <c>aws</c>, <c>aws-us-gov</c> (GovCloud), <c>aws-cn</c> (China), …;
    /// <see cref="DefaultPartition"/> when the text is not an ARN.
    /// </summary>
    public static string PartitionOf(string? arn) =>
        arn?.Split(':', 6) is ["arn", { Length: > 0 } partition, _, _, _, _] ? partition : DefaultPartition;
}
