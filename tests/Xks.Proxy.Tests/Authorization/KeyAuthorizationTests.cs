using Xks.Contracts.ProxyConfig;
using Xks.Proxy.Contracts;

namespace Xks.Proxy.Authorization.Tests;

public sealed class KeyAuthorizationTests
{
    [Theory]
    [InlineData("arn:aws:iam::111122223333:role/*", "arn:aws:iam::111122223333:role/Alice", true)]
    [InlineData("arn:aws:iam::111122223333:role/*", "arn:aws:iam::444455556666:role/Alice", false)]
    [InlineData("arn:aws:iam::*:role/Backup*", "arn:aws:iam::111122223333:role/BackupWriter", true)]
    [InlineData("arn:aws:iam::*:role/Backup*", "arn:aws:iam::111122223333:role/Writer", false)]
    [InlineData("*", "", true)]
    [InlineData("ec2.amazonaws.com", "ec2.amazonaws.com", true)]
    [InlineData("ec2.amazonaws.com", "ec2xamazonaws.com", false)]
    [InlineData("a*b*c", "aXXbYYc", true)]
    [InlineData("a*b*c", "aXXbYY", false)]
    [InlineData("", "x", false)]
    [InlineData("arn:aws:iam::1:role/x", "arn:aws:iam::1:role/xy", false)]
    [InlineData("registry.example:5000/xks/xks-proxy:*", "registry.example:5000/xks/xks-proxy-evil:1", false)]
    [InlineData("arn:*:role/a*a", "arn:x:role/a", false)]
    [InlineData("arn:*:role/a*a", "arn:x:role/aa", true)]
    public void WildcardMatches_Pattern_MatchesOnlyWhatTheStarsAllow(string pattern, string text, bool match) =>
        Assert.Equal(match, Wildcard.Matches(pattern, text));

    private static readonly KeyAuthorization Policy = new(new AuthorizationOptions
    {
        Principals = ["arn:aws:iam::111122223333:role/*"],
        ViaServices = ["ebs", "s3"],
        SourceVpcs = ["vpc-0123"],
    });

    private static RequestMetadata Request(string principal = "arn:aws:iam::111122223333:role/App", string? via = "s3", string? vpc = "vpc-0123") =>
        new() { AwsPrincipalArn = principal, KmsViaService = via, AwsSourceVpc = vpc, KmsOperation = "Encrypt", KmsRequestId = "1" };

    [Fact]
    public void Evaluate_RequestMatchingEveryRule_IsAllowed() =>
        Assert.Null(Policy.Evaluate(XksOperation.Encrypt, Request()));

    [Theory]
    [InlineData("arn:aws:iam::999999999999:role/App", "s3", "vpc-0123", "principals")]
    [InlineData("arn:aws:iam::111122223333:role/App", "rds", "vpc-0123", "viaServices")]
    [InlineData("arn:aws:iam::111122223333:role/App", null, "vpc-0123", "viaServices")]
    [InlineData("arn:aws:iam::111122223333:role/App", "s3", "vpc-9999", "sourceVpcs")]
    [InlineData("arn:aws:iam::111122223333:role/App", "s3", null, "sourceVpcs")]
    public void Evaluate_RequestFailingARule_NamesThatRule(string principal, string? via, string? vpc, string rule) =>
        Assert.Equal(rule, Policy.Evaluate(XksOperation.Decrypt, Request(principal, via, vpc)));

    [Fact]
    public void Evaluate_GetKeyMetadataWithoutViaService_IsNotDeniedByTheViaServiceRule() =>
        Assert.Null(Policy.Evaluate(XksOperation.GetKeyMetadata, Request(via: null)));

    [Fact]
    public void Evaluate_EmptyPolicy_AllowsAnything() =>
        Assert.Null(new KeyAuthorization(new AuthorizationOptions()).Evaluate(XksOperation.Encrypt, new RequestMetadata()));
}
