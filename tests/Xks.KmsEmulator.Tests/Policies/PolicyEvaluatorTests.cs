using Xks.KmsEmulator.Kms;
using Xks.KmsEmulator.Policies;

namespace Xks.KmsEmulator.Tests.Policies;

public sealed class PolicyEvaluatorTests
{
    private const string Account = "111122223333";
    private const string Key = "arn:aws:kms:us-east-1:111122223333:key/k1";
    private const string Alice = "arn:aws:iam::111122223333:user/alice";
    private const string Bob = "arn:aws:iam::111122223333:user/bob";
    private const string AppSession = "arn:aws:sts::111122223333:assumed-role/app/session-1";
    private const string Eve = "arn:aws:iam::999988887777:user/eve";
    private const string Ec2 = "ec2.us-east-1.amazonaws.com";

    private const string Root = """{"Sid":"Root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}""";

    private static readonly Dictionary<string, string> KeyPolicies = new(StringComparer.Ordinal)
    {
        ["delegating"] = $$"""{"Statement":[{{Root}}]}""",
        ["account-id"] = """{"Statement":{"Sid":"Account","Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"kms:*","Resource":"*"}}""",
        ["named"] = $$$$"""
            {"Statement":[{{{{Root}}}},
              {"Sid":"AllowKeyUse","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:user/alice"]},"Action":["kms:Decrypt","kms:Encrypt"],"Resource":"*"},
              {"Sid":"AllowGrants","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":["kms:CreateGrant","kms:ListGrants","kms:RevokeGrant"],"Resource":"*","Condition":{"Bool":{"kms:GrantIsForAWSResource":"true"}}},
              {"Sid":"DenyBob","Effect":"Deny","Principal":{"AWS":"arn:aws:iam::111122223333:user/bob"},"Action":"kms:Decrypt","Resource":"*"}]}
            """,
        ["role-only"] = """{"Statement":{"Sid":"AppRole","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/app"},"Action":"kms:Decrypt","Resource":"*"}}""",
        ["conditioned"] = """
            {"Statement":{"Sid":"TenantA","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":"kms:Decrypt","Resource":"*",
              "Condition":{"StringEquals":{"kms:EncryptionContext:tenant":"a","kms:ViaService":["ec2.us-east-1.amazonaws.com","rds.us-east-1.amazonaws.com"]}}}}
            """,
        ["anyone-in-account"] = """{"Statement":{"Sid":"Anyone","Effect":"Allow","Principal":"*","Action":"kms:Decrypt","Resource":"*","Condition":{"StringEquals":{"kms:CallerAccount":"111122223333"}}}}""",
        ["deny-root"] = $$"""{"Statement":[{{Root}},{"Sid":"NoDecrypt","Effect":"Deny","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:Decrypt","Resource":"*"}]}""",
    };

    private static readonly Dictionary<string, string> IdentityPolicies = new(StringComparer.Ordinal)
    {
        ["none"] = """{"Statement":[]}""",
        ["kms-all"] = """{"Statement":{"Sid":"AllowKms","Effect":"Allow","Action":"kms:*","Resource":"*"}}""",
        ["deny-decrypt"] = """{"Statement":[{"Sid":"AllowKms","Effect":"Allow","Action":"kms:*","Resource":"*"},{"Sid":"DenyDecrypt","Effect":"Deny","Action":"kms:Decrypt","Resource":"*"}]}""",
        ["other-key"] = """{"Statement":{"Sid":"OtherKey","Effect":"Allow","Action":"kms:*","Resource":"arn:aws:kms:*:111122223333:key/other"}}""",
        ["this-key"] = """{"Statement":{"Sid":"ThisKey","Effect":"Allow","Action":"kms:*","Resource":"arn:aws:kms:*:111122223333:key/k*"}}""",
        ["not-decrypt"] = """{"Statement":{"Sid":"AllButDecrypt","Effect":"Allow","NotAction":"kms:Decrypt","Resource":"*"}}""",
    };

    /// <summary>key policy, identity policy, caller, action, condition keys (k=v;k=v), effect, source, deciding statement.</summary>
    public static TheoryData<string, string, string, string, string, PolicyEffect, PolicySource, string?> Cases => new()
    {
        { "delegating", "kms-all", Alice, "kms:Decrypt", "", PolicyEffect.Allow, PolicySource.IdentityPolicy, "AllowKms" },
        { "account-id", "kms-all", Alice, "kms:Decrypt", "", PolicyEffect.Allow, PolicySource.IdentityPolicy, "AllowKms" },
        { "delegating", "none", Alice, "kms:Decrypt", "", PolicyEffect.ImplicitDeny, PolicySource.IdentityPolicy, null },
        { "delegating", "kms-all", Eve, "kms:Decrypt", "", PolicyEffect.ImplicitDeny, PolicySource.KeyPolicy, null },
        { "delegating", "deny-decrypt", Alice, "kms:Decrypt", "", PolicyEffect.ExplicitDeny, PolicySource.IdentityPolicy, "DenyDecrypt" },
        { "delegating", "deny-decrypt", Alice, "kms:Encrypt", "", PolicyEffect.Allow, PolicySource.IdentityPolicy, "AllowKms" },
        { "delegating", "other-key", Alice, "kms:Decrypt", "", PolicyEffect.ImplicitDeny, PolicySource.IdentityPolicy, null },
        { "delegating", "this-key", Alice, "kms:Decrypt", "", PolicyEffect.Allow, PolicySource.IdentityPolicy, "ThisKey" },
        { "delegating", "not-decrypt", Alice, "kms:Decrypt", "", PolicyEffect.ImplicitDeny, PolicySource.IdentityPolicy, null },
        { "delegating", "not-decrypt", Alice, "kms:DescribeKey", "", PolicyEffect.Allow, PolicySource.IdentityPolicy, "AllButDecrypt" },
        { "named", "none", Alice, "kms:Decrypt", "", PolicyEffect.Allow, PolicySource.KeyPolicy, "AllowKeyUse" },
        { "named", "none", Alice, "KMS:decrypt", "", PolicyEffect.Allow, PolicySource.KeyPolicy, "AllowKeyUse" },
        { "named", "none", Alice, "kms:CreateGrant", "kms:GrantIsForAWSResource=true", PolicyEffect.Allow, PolicySource.KeyPolicy, "AllowGrants" },
        { "named", "none", Alice, "kms:CreateGrant", "kms:GrantIsForAWSResource=false", PolicyEffect.ImplicitDeny, PolicySource.IdentityPolicy, null },
        { "named", "kms-all", Alice, "kms:CreateGrant", "kms:GrantIsForAWSResource=false", PolicyEffect.Allow, PolicySource.IdentityPolicy, "AllowKms" },
        { "named", "kms-all", Bob, "kms:Decrypt", "", PolicyEffect.ExplicitDeny, PolicySource.KeyPolicy, "DenyBob" },
        { "named", "kms-all", Bob, "kms:Encrypt", "", PolicyEffect.Allow, PolicySource.IdentityPolicy, "AllowKms" },
        { "role-only", "none", AppSession, "kms:Decrypt", "", PolicyEffect.Allow, PolicySource.KeyPolicy, "AppRole" },
        { "role-only", "kms-all", Alice, "kms:Decrypt", "", PolicyEffect.ImplicitDeny, PolicySource.KeyPolicy, null },
        { "conditioned", "none", Alice, "kms:Decrypt", $"kms:EncryptionContext:tenant=a;kms:ViaService={Ec2}", PolicyEffect.Allow, PolicySource.KeyPolicy, "TenantA" },
        { "conditioned", "none", Alice, "kms:Decrypt", $"KMS:ENCRYPTIONCONTEXT:TENANT=a;kms:viaservice={Ec2}", PolicyEffect.Allow, PolicySource.KeyPolicy, "TenantA" },
        { "conditioned", "none", Alice, "kms:Decrypt", $"kms:EncryptionContext:tenant=b;kms:ViaService={Ec2}", PolicyEffect.ImplicitDeny, PolicySource.KeyPolicy, null },
        { "conditioned", "none", Alice, "kms:Decrypt", "kms:EncryptionContext:tenant=a", PolicyEffect.ImplicitDeny, PolicySource.KeyPolicy, null },
        { "anyone-in-account", "none", Bob, "kms:Decrypt", "kms:CallerAccount=111122223333", PolicyEffect.Allow, PolicySource.KeyPolicy, "Anyone" },
        { "anyone-in-account", "kms-all", Eve, "kms:Decrypt", "kms:CallerAccount=999988887777", PolicyEffect.ImplicitDeny, PolicySource.KeyPolicy, null },
        { "deny-root", "kms-all", Alice, "kms:Decrypt", "", PolicyEffect.ExplicitDeny, PolicySource.KeyPolicy, "NoDecrypt" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Evaluate_KeyPolicyAndIdentityPolicy_DecideLikeKms(
        string keyPolicy, string identityPolicy, string caller, string action, string context, PolicyEffect effect, PolicySource source, string? decidedBy)
    {
        var decision = PolicyEvaluator.Evaluate(
            PolicyDocument.Parse(KeyPolicies[keyPolicy], PolicyKind.Key), [],
            [PolicyDocument.Parse(IdentityPolicies[identityPolicy], PolicyKind.Identity)], Request(caller, action, Key, context));

        Assert.Equal(effect, decision.Effect);
        Assert.Equal(source, decision.Source);
        Assert.Equal(decidedBy, decision.DecidedBy);
    }

    /// <summary>grant operations, subset, equals, caller, action, request context, allowed.</summary>
    public static TheoryData<string, string, string, string, string, string, bool> GrantCases => new()
    {
        { "Decrypt", "", "", AppSession, "kms:Decrypt", "", true },
        { "Decrypt", "", "", "arn:aws:iam::111122223333:role/app", "kms:Decrypt", "", true },
        { "Decrypt", "", "", Alice, "kms:Decrypt", "", false },
        { "Decrypt", "", "", AppSession, "kms:Encrypt", "", false },
        { "Decrypt,Encrypt", "", "", AppSession, "kms:Encrypt", "", true },
        { "Decrypt", "tenant=a", "", AppSession, "kms:Decrypt", "tenant=a;volume=v1", true },
        { "Decrypt", "tenant=a", "", AppSession, "kms:Decrypt", "tenant=b", false },
        { "Decrypt", "tenant=a", "", AppSession, "kms:Decrypt", "", false },
        { "Decrypt", "", "tenant=a", AppSession, "kms:Decrypt", "tenant=a", true },
        { "Decrypt", "", "tenant=a", AppSession, "kms:Decrypt", "tenant=a;volume=v1", false },
    };

    [Theory]
    [MemberData(nameof(GrantCases))]
    public void Evaluate_Grant_AllowsItsGranteeItsOperationsWithinItsConstraints(
        string operations, string subset, string equals, string caller, string action, string encryptionContext, bool allowed)
    {
        var grant = new GrantRecord("g1", "token", "k1", Key, "arn:aws:iam::111122223333:role/app", null, operations.Split(','),
            subset.Length == 0 ? null : Pairs(subset), equals.Length == 0 ? null : Pairs(equals), null, DateTimeOffset.UnixEpoch, Account);
        var request = Request(caller, action, Key, "") with { EncryptionContext = Pairs(encryptionContext) };

        var decision = PolicyEvaluator.Evaluate(PolicyDocument.Parse(KeyPolicies["role-only"].Replace("role/app", "role/nobody", StringComparison.Ordinal), PolicyKind.Key), [grant],
            [PolicyDocument.Parse(IdentityPolicies["none"], PolicyKind.Identity)], request);

        Assert.Equal(allowed, decision.IsAllowed);
        Assert.Equal(allowed ? "grant:g1" : null, decision.DecidedBy);
    }

    [Fact]
    public void Evaluate_ExplicitDenyInKeyPolicy_WinsOverAGrant()
    {
        var grant = new GrantRecord("g1", "token", "k1", Key, Bob, null, ["Decrypt"], null, null, null, DateTimeOffset.UnixEpoch, Account);

        var decision = PolicyEvaluator.Evaluate(PolicyDocument.Parse(KeyPolicies["named"], PolicyKind.Key), [grant], [], Request(Bob, "kms:Decrypt", Key, ""));

        Assert.Equal(PolicyEffect.ExplicitDeny, decision.Effect);
        Assert.Equal("DenyBob", decision.DecidedBy);
    }

    [Theory]
    [InlineData("iam:CreateAccessKey", Alice, true)]
    [InlineData("iam:DeleteAccessKey", Alice, true)]
    [InlineData("iam:CreateAccessKey", Bob, false)]
    [InlineData("iam:CreateUser", Alice, false)]
    [InlineData("sts:GetCallerIdentity", "*", true)]
    public void Authorize_IdentityPolicyAlone_DecidesNonKmsActions(string action, string resource, bool allowed)
    {
        var policy = PolicyDocument.Parse("""
            {"Statement":[{"Effect":"Allow","Action":["iam:*AccessKey","iam:ListAccessKeys"],"Resource":"arn:aws:iam::111122223333:user/alice"},
                          {"Effect":"Allow","Action":"sts:GetCallerIdentity","Resource":"*"}]}
            """, PolicyKind.Identity);

        Assert.Equal(allowed, PolicyEvaluator.Authorize([policy], Request(Alice, action, resource, "")));
    }

    [Theory]
    [InlineData(PolicyEffect.ExplicitDeny, PolicySource.KeyPolicy, "with an explicit deny in a key policy")]
    [InlineData(PolicyEffect.ExplicitDeny, PolicySource.IdentityPolicy, "with an explicit deny in an identity-based policy")]
    [InlineData(PolicyEffect.ImplicitDeny, PolicySource.KeyPolicy, "because no resource-based policy allows the kms:Decrypt action")]
    [InlineData(PolicyEffect.ImplicitDeny, PolicySource.IdentityPolicy, "because no identity-based policy allows the kms:Decrypt action")]
    public void DeniedMessage_HasAwsShape(PolicyEffect effect, PolicySource source, string ending) =>
        Assert.Equal($"User: {Alice} is not authorized to perform: kms:Decrypt on resource: {Key} {ending}",
            new PolicyDecision(effect, source, null).DeniedMessage(Request(Alice, "kms:Decrypt", Key, "")));

    /// <summary>operator, qualifier, IfExists, condition values (|), request values (| ; "-" absent), holds.</summary>
    public static TheoryData<string, string, bool, string, string, bool> Conditions => new()
    {
        { "StringEquals", "", false, "a", "a", true },
        { "StringEquals", "", false, "a", "A", false },
        { "StringEquals", "", false, "a|b", "b", true },
        { "StringEquals", "", false, "a", "-", false },
        { "StringEquals", "", true, "a", "-", true },
        { "StringEquals", "", true, "a", "b", false },
        { "StringNotEquals", "", false, "a", "b", true },
        { "StringNotEquals", "", false, "a", "a", false },
        { "StringNotEquals", "", false, "a", "-", true },
        { "StringEqualsIgnoreCase", "", false, "a", "A", true },
        { "StringLike", "", false, "ec2.*.amazonaws.com", "ec2.us-east-1.amazonaws.com", true },
        { "StringLike", "", false, "ec2.*.amazonaws.com", "rds.us-east-1.amazonaws.com", false },
        { "Bool", "", false, "true", "True", true },
        { "Bool", "", false, "true", "false", false },
        { "Bool", "", false, "true", "-", false },
        { "ArnLike", "", false, "arn:aws:iam::*:role/app*", "arn:aws:iam::111122223333:role/app-x", true },
        { "ArnEquals", "", false, "arn:aws:iam::111122223333:role/app", "arn:aws:iam::111122223333:role/other", false },
        { "StringEquals", "ForAnyValue", false, "a|b", "c|b", true },
        { "StringEquals", "ForAnyValue", false, "a|b", "c", false },
        { "StringEquals", "ForAnyValue", false, "a|b", "-", false },
        { "StringEquals", "ForAllValues", false, "a|b", "a|b", true },
        { "StringEquals", "ForAllValues", false, "a|b", "a|c", false },
        { "StringEquals", "ForAllValues", false, "a|b", "-", true },
        { "StringLike", "ForAllValues", false, "t*", "tenant|team", true },
        { "StringLike", "ForAnyValue", false, "t*", "volume|team", true },
        { "Null", "", false, "true", "-", true },
        { "Null", "", false, "true", "x", false },
    };

    [Theory]
    [MemberData(nameof(Conditions))]
    public void Holds_Operator_FollowsIam(string op, string qualifier, bool ifExists, string values, string requestValues, bool holds)
    {
        var context = new Dictionary<string, IReadOnlyList<string>>(StringComparer.OrdinalIgnoreCase);
        if (requestValues != "-")
        {
            context["k"] = requestValues.Split('|');
        }

        Assert.Equal(holds, PolicyEvaluator.Holds(new PolicyCondition(qualifier.Length == 0 ? null : qualifier, op, ifExists, "K", values.Split('|')), context));
    }

    private static PolicyRequest Request(string caller, string action, string resource, string context)
    {
        var keys = new Dictionary<string, IReadOnlyList<string>>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in Pairs(context))
        {
            keys[key] = [value];
        }

        return new PolicyRequest(caller, caller.Split(':')[4], action, resource, keys);
    }

    private static Dictionary<string, string> Pairs(string text) =>
        text.Split(';', StringSplitOptions.RemoveEmptyEntries).Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);
}
