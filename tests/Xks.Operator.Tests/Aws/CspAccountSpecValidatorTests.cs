using Xks.Operator.Entities;

namespace Xks.Operator.Aws.Tests;

public sealed class CspAccountSpecValidatorTests
{
    [Fact]
    public void Validate_Sample_HasNoProblems() =>
        Assert.Empty(CspAccountSpecValidator.Validate(AwsTestAccounts.Account(endpoint: "https://kms.eu-west-1.amazonaws.com")));

    [Fact]
    public void Validate_DefaultSourceWithoutSecretRef_HasNoProblems()
    {
        var account = AwsTestAccounts.Account();
        account.Spec.Credentials = new V1Alpha1AwsCredentials { Source = V1Alpha1CredentialsSource.Default };

        Assert.Empty(CspAccountSpecValidator.Validate(account));
    }

    public static TheoryData<string, Action<V1Alpha1CspAccountSpec>> Invalid => new()
    {
        { "spec.credentials.secretRef.name is required", s => s.Credentials.SecretRef = null },
        { "spec.credentials.secretRef.name is required", s => s.Credentials.SecretRef!.Name = "" },
        { "spec.credentials.secretRef is only used with credentials.source Secret", s => s.Credentials.Source = V1Alpha1CredentialsSource.Default },
        { "must name different keys", s => s.Credentials.SecretRef!.SecretAccessKeyKey = "accessKeyId" },
        { "spec.region is required", s => s.Region = "" },
        { "spec.assumeRole.roleArn is required", s => s.AssumeRole = new V1Alpha1AssumeRole() },
        { "spec.endpoint must be an absolute http(s) URL", s => s.Endpoint = "kms.local:4566" },
        { "spec.endpoint must be an absolute http(s) URL", s => s.Endpoint = "ftp://kms.local" },
        { "spec.endpoint must not have a query", s => s.Endpoint = "https://kms.local/?a=b" },
        { "accessKeyRotation needs credentials.source Secret", s => { s.Credentials = new V1Alpha1AwsCredentials { Source = V1Alpha1CredentialsSource.Default }; s.Credentials.AccessKeyRotation = new() { Every = "90d" }; } },
        { "accessKeyRotation needs long-term IAM user keys", s => { s.Credentials.SecretRef!.SessionTokenKey = "sessionToken"; s.Credentials.AccessKeyRotation = new() { Every = "90d" }; } },
        { "accessKeyRotation.every must be a duration", s => s.Credentials.AccessKeyRotation = new() { Every = "quarterly" } },
        { "accessKeyRotation.every must be at least 1h", s => s.Credentials.AccessKeyRotation = new() { Every = "5m" } },
        { "accessKeyRotation.gracePeriod must be a duration", s => s.Credentials.AccessKeyRotation = new() { Every = "90d", GracePeriod = "soon" } },
    };

    [Theory]
    [InlineData("90d")]
    [InlineData("2160h")]
    [InlineData("1d12h")]
    public void Validate_AccessKeyRotationWithSecretKeys_HasNoProblems(string every)
    {
        var account = AwsTestAccounts.Account();
        account.Spec.Credentials.AccessKeyRotation = new V1Alpha1AccessKeyRotation { Every = every };

        Assert.Empty(CspAccountSpecValidator.Validate(account));
    }

    [Fact]
    public void Validate_AccessKeyRotationWithAssumeRole_HasNoProblems()
    {
        // The rotated key is the base credential the role is assumed with.
        var account = AwsTestAccounts.Account();
        account.Spec.AssumeRole = new V1Alpha1AssumeRole { RoleArn = "arn:aws:iam::111122223333:role/xks-operator" };
        account.Spec.Credentials.AccessKeyRotation = new V1Alpha1AccessKeyRotation { Every = "90d", GracePeriod = "1d" };

        Assert.Empty(CspAccountSpecValidator.Validate(account));
    }

    [Theory]
    [MemberData(nameof(Invalid))]
    public void Validate_CrossFieldMistake_NamesTheField(string expected, Action<V1Alpha1CspAccountSpec> breakIt)
    {
        var account = AwsTestAccounts.Account();
        breakIt(account.Spec);

        Assert.Contains(CspAccountSpecValidator.Validate(account), p => p.Contains(expected, StringComparison.Ordinal));
    }
}
