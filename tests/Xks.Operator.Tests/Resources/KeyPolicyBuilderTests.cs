using System.Text.Json;
using Xks.Operator.Entities;

namespace Xks.Operator.Resources.Tests;

public sealed class KeyPolicyBuilderTests
{
    [Fact]
    public void Build_NoAdministratorsOrUsers_StillGivesTheAccountRootEverything()
    {
        using var policy = JsonDocument.Parse(KeyPolicyBuilder.Build("aws", "111122223333", null, []));
        var statements = policy.RootElement.GetProperty("Statement").EnumerateArray().ToList();
        var root = Assert.Single(statements);
        Assert.Equal("arn:aws:iam::111122223333:root", root.GetProperty("Principal").GetProperty("AWS")[0].GetString());
        Assert.Equal("kms:*", root.GetProperty("Action")[0].GetString());
        Assert.Equal("Allow", root.GetProperty("Effect").GetString());
    }

    [Fact]
    public void Build_AdministratorsAndUsers_GetSeparateStatementsSortedAndDeduplicated()
    {
        var text = KeyPolicyBuilder.Build("aws", "111122223333",
            ["arn:aws:iam::111122223333:role/b-admin", "arn:aws:iam::111122223333:role/a-admin", "arn:aws:iam::111122223333:role/a-admin"],
            ["arn:aws:iam::111122223333:role/app"]);
        using var policy = JsonDocument.Parse(text);
        var statements = policy.RootElement.GetProperty("Statement").EnumerateArray().ToDictionary(s => s.GetProperty("Sid").GetString()!);
        Assert.Equal(["EnableRootAccountPermissions", "AllowKeyAdministration", "AllowKeyUse", "AllowAttachmentOfPersistentResources"], statements.Keys);
        var admins = statements["AllowKeyAdministration"].GetProperty("Principal").GetProperty("AWS").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Equal(["arn:aws:iam::111122223333:role/a-admin", "arn:aws:iam::111122223333:role/b-admin"], admins);
        var userActions = statements["AllowKeyUse"].GetProperty("Action").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Contains("kms:Decrypt", userActions);
        Assert.DoesNotContain("kms:ScheduleKeyDeletion", userActions);
        Assert.Contains("kms:ScheduleKeyDeletion", statements["AllowKeyAdministration"].GetProperty("Action").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public void Build_SameSpecInAnotherOrder_RendersTheSameBytes() =>
        Assert.Equal(
            KeyPolicyBuilder.Build("aws", "111122223333", ["arn:x:b", "arn:x:a"], ["arn:x:u2", "arn:x:u1"]),
            KeyPolicyBuilder.Build("aws", "111122223333", ["arn:x:a", "arn:x:b"], ["arn:x:u1", "arn:x:u2"]));

    [Fact]
    public void Build_OtherPartition_NamesItsRoot() =>
        Assert.Contains("arn:aws-us-gov:iam::111122223333:root", KeyPolicyBuilder.Build("aws-us-gov", "111122223333", null, null), StringComparison.Ordinal);

    [Fact]
    public void AreEquivalent_WhitespaceAndKeyOrder_Ignored()
    {
        Assert.True(KeyPolicyBuilder.AreEquivalent("{\"a\":1,\"b\":[1,2]}", "{ \"b\" : [1, 2], \"a\": 1 }"));
        Assert.False(KeyPolicyBuilder.AreEquivalent("{\"a\":1}", "{\"a\":2}"));
        Assert.False(KeyPolicyBuilder.AreEquivalent("{\"a\":1}", "not json"));
    }

    private const string App = "arn:aws:iam::111122223333:role/app";

    [Fact]
    public void Build_Users_MayLetAwsServicesCreateGrantsForAwsResources()
    {
        var statements = Statements(KeyPolicyBuilder.Build("aws", "111122223333", null, [App]));

        var grants = statements["AllowAttachmentOfPersistentResources"];
        Assert.Equal([App], Strings(grants.GetProperty("Principal").GetProperty("AWS")));
        Assert.Equal(["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"], Strings(grants.GetProperty("Action")));
        Assert.Equal("*", grants.GetProperty("Resource").GetString());
        Assert.Equal("true", grants.GetProperty("Condition").GetProperty("Bool").GetProperty("kms:GrantIsForAWSResource").GetString());
        Assert.False(statements["AllowKeyUse"].TryGetProperty("Condition", out _));
    }

    public static TheoryData<string[], bool?, string[]> GrantStatementCases => new()
    {
        { [App], null, ["EnableRootAccountPermissions", "AllowKeyUse", "AllowAttachmentOfPersistentResources"] },
        { [App], true, ["EnableRootAccountPermissions", "AllowKeyUse", "AllowAttachmentOfPersistentResources"] },
        { [App], false, ["EnableRootAccountPermissions", "AllowKeyUse"] },
        { [], true, ["EnableRootAccountPermissions"] },
    };

    [Theory]
    [MemberData(nameof(GrantStatementCases))]
    public void Build_AllowGrantsForAwsResources_DecidesTheGrantStatement(string[] users, bool? allowGrants, string[] sids)
    {
        var conditions = allowGrants is { } allow ? new V1Alpha1KeyPolicyConditions { AllowGrantsForAwsResources = allow } : null;

        Assert.Equal(sids, Statements(KeyPolicyBuilder.Build("aws", "111122223333", null, users, conditions)).Keys);
    }

    [Fact]
    public void Build_ViaServices_ConditionTheUsersStatementsNotTheAdministrators()
    {
        var statements = Statements(KeyPolicyBuilder.Build("aws", "111122223333", ["arn:aws:iam::111122223333:role/admin"], [App],
            new V1Alpha1KeyPolicyConditions { ViaServices = ["rds.eu-west-1.amazonaws.com", "ec2.eu-west-1.amazonaws.com", "rds.eu-west-1.amazonaws.com"] }));

        string[] expected = ["ec2.eu-west-1.amazonaws.com", "rds.eu-west-1.amazonaws.com"];
        Assert.Equal(expected, Strings(statements["AllowKeyUse"].GetProperty("Condition").GetProperty("StringEquals").GetProperty("kms:ViaService")));
        var grants = statements["AllowAttachmentOfPersistentResources"].GetProperty("Condition");
        Assert.Equal(expected, Strings(grants.GetProperty("StringEquals").GetProperty("kms:ViaService")));
        Assert.Equal("true", grants.GetProperty("Bool").GetProperty("kms:GrantIsForAWSResource").GetString());
        Assert.False(statements["AllowKeyAdministration"].TryGetProperty("Condition", out _));
        Assert.False(statements["EnableRootAccountPermissions"].TryGetProperty("Condition", out _));
    }

    [Fact]
    public void Build_EncryptionContext_ConditionsTheCryptoStatementAndKeepsDescribeKeyApart()
    {
        var statements = Statements(KeyPolicyBuilder.Build("aws", "111122223333", null, [App],
            new V1Alpha1KeyPolicyConditions { EncryptionContext = new Dictionary<string, string> { ["tenant"] = "payments", ["app"] = "db" } }));

        var use = statements["AllowKeyUse"];
        var equals = use.GetProperty("Condition").GetProperty("StringEquals");
        Assert.Equal(["kms:EncryptionContext:app", "kms:EncryptionContext:tenant"], equals.EnumerateObject().Select(p => p.Name));
        Assert.Equal("payments", equals.GetProperty("kms:EncryptionContext:tenant").GetString());
        Assert.DoesNotContain("kms:DescribeKey", Strings(use.GetProperty("Action")));
        Assert.Contains("kms:Decrypt", Strings(use.GetProperty("Action")));
        var describe = statements["AllowKeyDescription"];
        Assert.Equal(["kms:DescribeKey"], Strings(describe.GetProperty("Action")));
        Assert.False(describe.TryGetProperty("Condition", out _));
        Assert.False(statements["AllowAttachmentOfPersistentResources"].GetProperty("Condition").TryGetProperty("StringEquals", out _));
    }

    [Fact]
    public void Build_SameConditionsInAnotherOrder_RendersTheSameBytes() =>
        Assert.Equal(
            KeyPolicyBuilder.Build("aws", "111122223333", null, [App], new V1Alpha1KeyPolicyConditions
            {
                ViaServices = ["s3.eu-west-1.amazonaws.com", "ec2.eu-west-1.amazonaws.com"],
                EncryptionContext = new Dictionary<string, string> { ["b"] = "2", ["a"] = "1" },
            }),
            KeyPolicyBuilder.Build("aws", "111122223333", null, [App], new V1Alpha1KeyPolicyConditions
            {
                ViaServices = ["ec2.eu-west-1.amazonaws.com", "s3.eu-west-1.amazonaws.com"],
                EncryptionContext = new Dictionary<string, string> { ["a"] = "1", ["b"] = "2" },
            }));

    [Theory]
    [InlineData("aws-us-gov", "arn:aws-us-gov:iam::111122223333:root")]
    [InlineData("aws-cn", "arn:aws-cn:iam::111122223333:root")]
    public void Build_Partition_NamesTheRootInIt(string partition, string root) =>
        Assert.Equal([root], Strings(Statements(KeyPolicyBuilder.Build(partition, "111122223333", null, [App]))["EnableRootAccountPermissions"].GetProperty("Principal").GetProperty("AWS")));

    public static TheoryData<string[], string[], string[]> ProblemCases => new()
    {
        { ["ec2.eu-west-1.amazonaws.com", "rds.us-gov-west-1.amazonaws.com", "s3.cn-north-1.amazonaws.com.cn"], ["tenant=a"], [] },
        { ["ec2"], [], ["spec.keyPolicy.viaServices 'ec2' must be an AWS service endpoint name"] },
        { ["ec2.amazonaws.com"], [], ["spec.keyPolicy.viaServices 'ec2.amazonaws.com' must be"] },
        { ["EC2.eu-west-1.amazonaws.com"], [], ["spec.keyPolicy.viaServices 'EC2.eu-west-1.amazonaws.com' must be"] },
        { ["ec2.eu-west-1.example.com"], [], ["spec.keyPolicy.viaServices 'ec2.eu-west-1.example.com' must be"] },
        { [], [" =x"], ["spec.keyPolicy.encryptionContext has an empty key"] },
        { [], ["tenant="], ["spec.keyPolicy.encryptionContext 'tenant' has an empty value"] },
        { ["ec2"], ["=x"], ["spec.keyPolicy.viaServices 'ec2'", "spec.keyPolicy.encryptionContext has an empty key"] },
    };

    [Theory]
    [MemberData(nameof(ProblemCases))]
    public void Problems_KeyPolicyConditions_NameEachBadEntry(string[] viaServices, string[] context, string[] expected)
    {
        var problems = KeyPolicyBuilder.Problems(new V1Alpha1KeyPolicyConditions
        {
            ViaServices = viaServices,
            EncryptionContext = context.Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p[1]),
        });

        Assert.Equal(expected.Length, problems.Count);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.StartsWith(expected[i], problems[i], StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Problems_NoKeyPolicy_None() => Assert.Empty(KeyPolicyBuilder.Problems(null));

    private static Dictionary<string, JsonElement> Statements(string policy)
    {
        using var document = JsonDocument.Parse(policy);
        return document.RootElement.GetProperty("Statement").EnumerateArray().ToDictionary(s => s.GetProperty("Sid").GetString()!, s => s.Clone());
    }

    private static List<string?> Strings(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetString())];
}
