namespace Xks.Operator.Aws.Tests;

public sealed class KmsKeyArnTests
{
    [Theory]
    [InlineData("arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab", "aws", "us-east-1", "111122223333", "1234abcd-12ab-34cd-56ef-1234567890ab")]
    [InlineData("arn:aws-us-gov:kms:us-gov-west-1:111122223333:key/k", "aws-us-gov", "us-gov-west-1", "111122223333", "k")]
    [InlineData("arn:aws-cn:kms:cn-north-1:111122223333:key/k", "aws-cn", "cn-north-1", "111122223333", "k")]
    public void TryParse_KeyArn_ReadsPartitionRegionAccountAndKey(string text, string partition, string region, string account, string keyId)
    {
        Assert.True(KmsKeyArn.TryParse(text, out var arn));
        Assert.Equal(new KmsKeyArn(partition, region, account, keyId), arn);
        Assert.Equal(text, arn.ToString());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("1234abcd-12ab-34cd-56ef-1234567890ab")]
    [InlineData("arn:aws:kms:us-east-1:111122223333:alias/payments")]
    [InlineData("arn:aws:iam::111122223333:role/xks")]
    [InlineData("arn:aws:kms::111122223333:key/k")]
    [InlineData("arn:aws:kms:us-east-1:1111:key/k")]
    [InlineData("arn:aws:kms:us-east-1:11112222333x:key/k")]
    [InlineData("arn:aws:kms:us-east-1:111122223333:key/")]
    [InlineData("arn::kms:us-east-1:111122223333:key/k")]
    public void TryParse_NotAKeyArn_IsRefused(string? text)
    {
        Assert.False(KmsKeyArn.TryParse(text, out _));
    }
}
