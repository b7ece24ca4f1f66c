using Xks.KmsEmulator.Policies;

namespace Xks.KmsEmulator.Tests.Policies;

public sealed class WildcardTests
{
    [Theory]
    [InlineData("kms:*", "kms:Decrypt", false, true)]
    [InlineData("kms:Generate*", "kms:GenerateDataKey", false, true)]
    [InlineData("kms:Generate*", "kms:Decrypt", false, false)]
    [InlineData("kms:?ecrypt", "kms:Decrypt", false, true)]
    [InlineData("kms:?ecrypt", "kms:ReDecrypt", false, false)]
    [InlineData("KMS:decrypt", "kms:Decrypt", true, true)]
    [InlineData("KMS:decrypt", "kms:Decrypt", false, false)]
    [InlineData("*", "", false, true)]
    [InlineData("a*b*c", "axxbyyc", false, true)]
    [InlineData("a*b*c", "axxbyy", false, false)]
    [InlineData("arn:aws:kms:*:111122223333:key/*", "arn:aws:kms:us-east-1:111122223333:key/k1", false, true)]
    public void Matches_Pattern_FollowsIamWildcards(string pattern, string text, bool ignoreCase, bool expected) =>
        Assert.Equal(expected, Wildcard.Matches(pattern, text, ignoreCase));

    [Theory]
    [InlineData("arn:aws:sts::111122223333:assumed-role/ebs-role/session-1", "arn:aws:iam::111122223333:role/ebs-role")]
    [InlineData("arn:aws-us-gov:sts::111122223333:assumed-role/r/s", "arn:aws-us-gov:iam::111122223333:role/r")]
    [InlineData("arn:aws:iam::111122223333:user/alice", "arn:aws:iam::111122223333:user/alice")]
    public void IdentityOf_CallerArn_IsItsIamIdentity(string caller, string identity) =>
        Assert.Equal(identity, PrincipalArns.IdentityOf(caller));
}
