using System.Text.Json;

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
        Assert.Equal(3, statements.Count);
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
}
