namespace Xks.Operator.Aws.Tests;

public sealed class AwsArnsTests
{
    [Theory]
    [InlineData("arn:aws:iam::111122223333:user/alice", "aws")]
    [InlineData("arn:aws-us-gov:sts::111122223333:assumed-role/xks/operator", "aws-us-gov")]
    [InlineData("arn:aws-cn:kms:cn-north-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab", "aws-cn")]
    [InlineData("arn:aws-iso-b:iam::111122223333:root", "aws-iso-b")]
    [InlineData("not an arn", "aws")]
    [InlineData("arn::iam::111122223333:root", "aws")]
    [InlineData("", "aws")]
    [InlineData(null, "aws")]
    public void PartitionOf_Arn_IsItsSecondField(string? arn, string partition) =>
        Assert.Equal(partition, AwsArns.PartitionOf(arn));
}
