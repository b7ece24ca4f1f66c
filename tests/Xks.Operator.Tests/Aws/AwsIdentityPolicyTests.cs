using k8s.Models;
using Xks.Operator.Entities;

namespace Xks.Operator.Aws.Tests;

/// <summary>What a namespaced CspAccount may ask of the operator's AWS identity, by the operator's flags.</summary>
public sealed class AwsIdentityPolicyTests
{
    private const string Role = "arn:aws:iam::444455556666:role/xks-team-b";

    private static V1Alpha1CspAccount Account(string ns, Action<V1Alpha1CspAccountSpec> change)
    {
        var account = new V1Alpha1CspAccount
        {
            Metadata = new V1ObjectMeta { Name = "prod", NamespaceProperty = ns },
            Spec = new V1Alpha1CspAccountSpec
            {
                Region = "eu-west-1",
                Credentials = new V1Alpha1AwsCredentials { Source = V1Alpha1CredentialsSource.Secret, SecretRef = new V1Alpha1AwsSecretReference { Name = "aws" } },
            },
        };
        change(account.Spec);
        return account;
    }

    private static readonly AwsIdentityPolicy Platform = new()
    {
        AmbientNamespaces = new HashSet<string> { "xks-system" },
        AllowedRoleArns = ["arn:aws:iam::444455556666:role/xks-*"],
    };

    public static TheoryData<string, string, Action<V1Alpha1CspAccountSpec>, string?> Cases => new()
    {
        { "Secret credentials in any namespace", "team-b", _ => { }, null },
        { "the operator's own identity in a tenant namespace", "team-b", s => s.Credentials = new V1Alpha1AwsCredentials { Source = V1Alpha1CredentialsSource.Default }, "spec.credentials.source Default would lend the operator's own AWS identity to namespace team-b" },
        { "the operator's own identity in the platform namespace", "xks-system", s => s.Credentials = new V1Alpha1AwsCredentials { Source = V1Alpha1CredentialsSource.Default }, null },
        { "the operator's identity only to assume an allowed role", "team-b", s => { s.Credentials = new V1Alpha1AwsCredentials { Source = V1Alpha1CredentialsSource.Default }; s.AssumeRole = new V1Alpha1AssumeRole { RoleArn = Role }; }, null },
        { "a role outside the allow-list", "team-b", s => s.AssumeRole = new V1Alpha1AssumeRole { RoleArn = "arn:aws:iam::111122223333:role/admin" }, "spec.assumeRole.roleArn arn:aws:iam::111122223333:role/admin is not among the roles this operator may assume" },
        { "a role that only starts like an allowed one in another account", "team-b", s => s.AssumeRole = new V1Alpha1AssumeRole { RoleArn = "arn:aws:iam::999999999999:role/xks-team-b" }, "is not among the roles" },
        { "a tenant-chosen external ID", "team-b", s => s.AssumeRole = new V1Alpha1AssumeRole { RoleArn = Role, ExternalId = "xks:team-a/prod" }, "have the role's trust policy require sts:ExternalId 'xks:team-b/prod'" },
        { "the derived external ID written out", "team-b", s => s.AssumeRole = new V1Alpha1AssumeRole { RoleArn = Role, ExternalId = "xks:team-b/prod" }, null },
        { "an https endpoint", "team-b", s => s.Endpoint = "https://kms.eu-west-1.amazonaws.com", null },
        { "an http endpoint on another host", "team-b", s => s.Endpoint = "http://collector.team-b.svc:8080", "spec.endpoint http://collector.team-b.svc:8080 is plain http" },
        { "an http endpoint on loopback", "team-b", s => s.Endpoint = "http://127.0.0.1:4566", null },
        { "an http endpoint on IPv6 loopback", "team-b", s => s.Endpoint = "http://[::1]:4566", null },
        { "an http endpoint on localhost", "team-b", s => s.Endpoint = "http://localhost:4566", null },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Refusals_PlatformPolicy_OnlyWhatTheFlagsAllow(string because, string ns, Action<V1Alpha1CspAccountSpec> change, string? refusal)
    {
        var refusals = Platform.Refusals(Account(ns, change));

        if (refusal is null)
        {
            Assert.True(refusals.Count == 0, $"{because}: {string.Join("; ", refusals)}");
        }
        else
        {
            Assert.True(refusals.Count == 1 && refusals[0].Contains(refusal, StringComparison.Ordinal), $"{because}: {string.Join("; ", refusals)}");
        }
    }

    [Fact]
    public void Refusals_DefaultPolicy_NoNamespaceHasTheOperatorsIdentity()
    {
        var refusals = new AwsIdentityPolicy().Refusals(Account("xks-system", s => s.Credentials = new V1Alpha1AwsCredentials { Source = V1Alpha1CredentialsSource.Default }));

        Assert.Contains("only CspAccounts in no namespace may use it", Assert.Single(refusals), StringComparison.Ordinal);
    }

    [Fact]
    public void Refusals_AllowHttpEndpoints_AcceptsPlainHttpAnywhere() =>
        Assert.Empty((Platform with { AllowHttpEndpoints = true }).Refusals(Account("team-b", s => s.Endpoint = "http://10.0.0.7:4566")));

    [Fact]
    public void ExternalId_NamespaceAndName() =>
        Assert.Equal("xks:team-b/prod", AwsIdentityPolicy.ExternalId(Account("team-b", _ => { })));

    private static AwsAccount ClusterAccount(Action<V1Alpha1CspAccountSpec> change)
    {
        var account = new V1Alpha1ClusterCspAccount
        {
            Metadata = new V1ObjectMeta { Name = "shared" },
            Spec = new V1Alpha1ClusterCspAccountSpec { Region = "eu-west-1", Credentials = new V1Alpha1AwsCredentials { Source = V1Alpha1CredentialsSource.Default } },
        };
        change(account.Spec);
        return AwsAccount.Of(account, "xks-system");
    }

    [Fact]
    public void Refusals_ClusterCspAccount_MayUseTheOperatorsOwnIdentityUnderTheDefaultPolicy() =>
        Assert.Empty(new AwsIdentityPolicy().Refusals(ClusterAccount(_ => { })));

    [Fact]
    public void Refusals_ClusterCspAccount_RoleAllowListAndHttpRulesStillApply()
    {
        var refusals = Platform.Refusals(ClusterAccount(s =>
        {
            s.AssumeRole = new V1Alpha1AssumeRole { RoleArn = "arn:aws:iam::111122223333:role/admin", ExternalId = "xks:team-a/prod" };
            s.Endpoint = "http://collector.team-b.svc:8080";
        }));

        Assert.Collection(
            refusals,
            r => Assert.Contains("is not among the roles", r, StringComparison.Ordinal),
            r => Assert.Contains("require sts:ExternalId 'xks:cluster:shared'", r, StringComparison.Ordinal),
            r => Assert.Contains("is plain http", r, StringComparison.Ordinal));
    }

    [Fact]
    public void ExternalId_ClusterCspAccount_NeverEqualsANamespacedOne()
    {
        var cluster = ClusterAccount(_ => { });
        var namespaced = AwsAccount.Of(Account("cluster", _ => { }));
        namespaced = namespaced with { Name = "shared" };

        Assert.Equal("xks:cluster:shared", cluster.ExternalId);
        Assert.Equal("xks:cluster/shared", namespaced.ExternalId);
        Assert.Equal("xks-system", cluster.SecretNamespace);
        Assert.Equal("ClusterCspAccount shared", cluster.Description);
    }
}
