using Xks.KmsEmulator.Kms;
using Xks.KmsEmulator.Policies;

namespace Xks.KmsEmulator.Tests.Policies;

public sealed class PolicyDocumentTests
{
    public static TheoryData<string, string> MalformedKeyPolicies => new()
    {
        { "", "empty" },
        { "[]", "must be a JSON object" },
        { "{\"Statement\":", "not valid JSON" },
        { """{"Version":"2012-10-17"}""", "has no Statement" },
        { """{"Version":"2019-01-01","Statement":[]}""", "Version must be" },
        { """{"Statement":"x"}""", "must be an object or an array" },
        { """{"Statement":[],"Extra":1}""", "unknown element 'Extra'" },
        { """{"Statement":{"Effect":"Permit","Principal":"*","Action":"kms:*","Resource":"*"}}""", "Effect must be" },
        { """{"Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*"}}""", "must have a Principal" },
        { """{"Statement":{"Effect":"Allow","Principal":"*","Resource":"*"}}""", "exactly one of Action and NotAction" },
        { """{"Statement":{"Effect":"Allow","Principal":"*","Action":"kms:*","NotAction":"kms:Decrypt","Resource":"*"}}""", "exactly one of Action and NotAction" },
        { """{"Statement":{"Effect":"Allow","Principal":"*","Action":"Decrypt","Resource":"*"}}""", "'<service>:<action>'" },
        { """{"Statement":{"Effect":"Allow","Principal":"*","Action":"kms:*"}}""", "has no Resource" },
        { """{"Statement":{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"key/1"}}""", "must be '*' or an ARN" },
        { """{"Statement":{"Effect":"Allow","Principal":"*","Action":[],"Resource":"*"}}""", "must not be an empty list" },
        { """{"Statement":{"Effect":"Allow","Principal":{"Federated":"x"},"Action":"kms:*","Resource":"*"}}""", "Principal type 'Federated'" },
        { """{"Statement":{"Effect":"Allow","Principal":{"AWS":"bob"},"Action":"kms:*","Resource":"*"}}""", "12-digit account ID or an IAM ARN" },
        { """{"Statement":{"Effect":"Allow","Principal":"*","NotPrincipal":"*","Action":"kms:*","Resource":"*"}}""", "'NotPrincipal'" },
        { """{"Statement":{"Sid":"S","Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"NumericEquals":{"a":"1"}}}}""", "Statement 'S': condition operator 'NumericEquals' is not supported" },
        { """{"Statement":{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"ForSome:StringEquals":{"a":"1"}}}}""", "qualifier 'ForSome'" },
        { """{"Statement":{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"yes"}}}}""", "needs true or false" },
        { """{"Statement":{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"StringEquals":"x"}}}""", "must map condition keys to values" },
    };

    [Theory]
    [MemberData(nameof(MalformedKeyPolicies))]
    public void Parse_MalformedKeyPolicy_ThrowsMalformedPolicyDocumentSayingWhy(string json, string expected)
    {
        var error = Assert.Throws<KmsException>(() => PolicyDocument.Parse(json, PolicyKind.Key));
        Assert.Equal("MalformedPolicyDocumentException", error.Type);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_IdentityPolicyWithPrincipal_IsMalformed()
    {
        var error = Assert.Throws<KmsException>(() => PolicyDocument.Parse("""{"Statement":{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"}}""", PolicyKind.Identity));
        Assert.Contains("must not have a Principal", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_SingleStatementObjectAndScalars_ReadAsLists()
    {
        var policy = PolicyDocument.Parse(
            """{"Version":"2012-10-17","Id":"p","Statement":{"Sid":"One","Effect":"Deny","Principal":{"AWS":"111122223333","Service":["ec2.amazonaws.com"]},"NotAction":"kms:Decrypt","Resource":"*","Condition":{"Bool":{"kms:GrantIsForAWSResource":true},"ForAnyValue:StringLike":{"kms:EncryptionContextKeys":["a*","b"]}}}}""",
            PolicyKind.Key);

        var statement = Assert.Single(policy.Statements);
        Assert.Equal("p", policy.Id);
        Assert.Equal("One", statement.Sid);
        Assert.False(statement.IsAllow);
        Assert.True(statement.NotAction);
        Assert.Equal(["kms:Decrypt"], statement.Actions);
        Assert.Equal(["111122223333"], statement.Principal!.Aws);
        Assert.Equal(["ec2.amazonaws.com"], statement.Principal.Services);
        Assert.False(statement.Principal.Anyone);
        Assert.Equal(2, statement.Conditions.Count);
        Assert.Equal(new PolicyCondition(null, "Bool", false, "kms:GrantIsForAWSResource", ["true"]).Key, statement.Conditions[0].Key);
        Assert.Equal(["true"], statement.Conditions[0].Values);
        Assert.Equal("ForAnyValue", statement.Conditions[1].SetQualifier);
        Assert.Equal("StringLike", statement.Conditions[1].Operator);
        Assert.Equal(["a*", "b"], statement.Conditions[1].Values);
    }

    [Fact]
    public void Parse_EmptyStatementListAndDefaultPolicy_AreWellFormed()
    {
        Assert.Empty(PolicyDocument.Parse("""{"Version":"2012-10-17","Statement":[]}""", PolicyKind.Key).Statements);
        var root = Assert.Single(PolicyDocument.Parse(KeyPolicies.Default("111122223333"), PolicyKind.Key).Statements);
        Assert.Equal(["arn:aws:iam::111122223333:root"], root.Principal!.Aws);
    }

    [Fact]
    public void Parse_IfExistsSuffix_IsKeptApartFromTheOperator()
    {
        var condition = Assert.Single(PolicyDocument.Parse(
            """{"Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*","Condition":{"StringEqualsIfExists":{"kms:ViaService":"s3.eu-west-1.amazonaws.com"}}}}""",
            PolicyKind.Identity).Statements[0].Conditions);
        Assert.Equal("StringEquals", condition.Operator);
        Assert.True(condition.IfExists);
    }
}
