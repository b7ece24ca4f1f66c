using k8s.Models;
using Xks.Operator.Entities;
using Xks.Operator.Resources;

namespace Xks.Operator.Controllers.Tests;

/// <summary>
/// The seed settings a CloudKey honours, as pure decisions: its default alias, its description, its tags, the KeySet's
/// default rotation and a reversible expiration.
/// </summary>
public sealed class CloudKeySeedSettingsTests
{
    private static V1Alpha1CloudKey CloudKey(string name = "payments-db", string? alias = null, string? description = null, V1Alpha1Rotation? rotation = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "team-a", Uid = "0f8fad5b-d9cb-469f-a165-70867728950e" },
        Spec = new V1Alpha1CloudKeySpec { KeySetRef = new() { Name = "payments" }, Alias = alias, Description = description, Rotation = rotation },
    };

    [Theory]
    [InlineData("payments-db", null, "alias/payments-db")]
    [InlineData("payments-db", "payments/db", "alias/payments/db")]
    [InlineData("payments-db", "", null)]
    public void AliasName_SpecAlias_DefaultsToTheNameAndEmptyMeansNone(string name, string? alias, string? expected) =>
        Assert.Equal(expected, CloudKeyNames.AliasName(CloudKey(name, alias)));

    public static TheoryData<string, string?, string, string?> AliasProblems => new()
    {
        { "a DNS-label name is a valid default alias", null, "payments-db", null },
        { "an explicit alias is checked, not the name", "payments/db", "payments.db", null },
        { "\"\" means no alias, whatever the name", "", "payments.db", null },
        { "a name with a dot cannot be the default alias", null, "payments.db",
            "metadata.name 'payments.db' (the default alias, spec.alias is unset) is not a valid KMS alias (at most 250 characters of letters, digits, '/', '_' and '-'); set spec.alias, or spec.createAlias: false for no alias" },
        { "a name too long for an alias is refused", null, new string('k', 251),
            $"metadata.name '{new string('k', 251)}' (the default alias, spec.alias is unset) is not a valid KMS alias (at most 250 characters of letters, digits, '/', '_' and '-'); set spec.alias, or spec.createAlias: false for no alias" },
        { "an explicit alias in the AWS namespace is refused", "aws/s3", "db", "spec.alias 'aws/s3' must not start with aws/ (reserved for AWS managed keys)" },
        { "an explicit alias in the AWS namespace is refused in any case", "AWS/s3", "db", "spec.alias 'AWS/s3' must not start with aws/ (reserved for AWS managed keys)" },
        { "a name 'aws' alone is a valid alias (alias/aws is not in the aws/ namespace)", null, "aws", null },
    };

    [Theory]
    [MemberData(nameof(AliasProblems))]
    public void AliasProblem_SpecAliasAndName_RefusesExactlyTheInvalidAliases(string scenario, string? alias, string name, string? problem) =>
        Assert.True(problem == CloudKeySettingsDecisions.AliasProblem(alias, name), $"{scenario}: {CloudKeySettingsDecisions.AliasProblem(alias, name)}");

    [Theory]
    [InlineData("createAlias false, no alias: none", null, "payments.db", null)]
    [InlineData("createAlias false and an empty alias agree", "", "db", null)]
    [InlineData("createAlias false with an alias contradicts it", "payments/db", "db", "spec.alias 'payments/db' is set but spec.createAlias is false: unset one of them")]
    public void AliasProblem_CreateAliasFalse_RefusesOnlyAnAliasNamedToo(string scenario, string? alias, string name, string? problem) =>
        Assert.True(problem == CloudKeySettingsDecisions.AliasProblem(alias, name, createAlias: false), $"{scenario}: {CloudKeySettingsDecisions.AliasProblem(alias, name, createAlias: false)}");

    [Fact]
    public void AliasName_CreateAliasFalse_IsNoneWhateverTheName()
    {
        var key = CloudKey("payments-db");
        key.Spec.CreateAlias = false;

        Assert.Null(CloudKeyNames.AliasName(key));
    }

    [Fact]
    public void AliasTakeoverRefusal_DefaultAliasHeldByAnotherCloudKeysKey_IsAConflict()
    {
        // Two CloudKeys named payments-db in two namespaces of one account and region both default to this alias.
        var alias = CloudKeyNames.AliasName(CloudKey("payments-db"))!;

        var refusal = CloudKeyOwnershipDecisions.AliasTakeoverRefusal(alias, "1234abcd-other", targetCarriesOurUid: false);

        Assert.StartsWith("alias/payments-db already names KMS key 1234abcd-other, which is not this CloudKey's", refusal, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("alias/a", "", null, "alias/a", null)]
    [InlineData("alias/a", "alias/a", "alias/a", null, null)]
    [InlineData("alias/a", "alias/other-team", "alias/a", "alias/a", null)]
    [InlineData("alias/b", "alias/a", "alias/a", "alias/b", "alias/a")]
    [InlineData("alias/b", "alias/b,alias/a", "alias/a", null, "alias/a")]
    [InlineData(null, "alias/a", "alias/a", null, "alias/a")]
    [InlineData(null, "alias/someone-elses", null, null, null)]
    [InlineData("alias/b", "", "alias/a", "alias/b", null)]
    public void PlanAlias_DesiredAttachedRecorded_AttachesTheSpecsAndRemovesOnlyTheOneItRecorded(string? desired, string attached, string? recorded, string? attach, string? remove)
    {
        var names = attached.Split(',', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);

        Assert.Equal((attach, remove), CloudKeySettingsDecisions.PlanAlias(desired, names, recorded));
    }

    [Fact]
    public void Validate_NameWithADotAndNoAlias_IsInvalidSpecNamingTheFix()
    {
        var problem = Assert.Single(CloudKeyController.Validate(CloudKey("payments.db")));
        Assert.Contains("spec.createAlias: false", problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, "CloudKey team-a/payments-db (xks-operator)")]
    [InlineData("Envelope key", "Envelope key")]
    [InlineData("", "")]
    public void Description_SpecDescription_DefaultsToTheCloudKeysName(string? description, string expected) =>
        Assert.Equal(expected, CloudKeyNames.Description(CloudKey(description: description)));

    [Theory]
    [InlineData("same", "same", null)]
    [InlineData("old", "new", "new")]
    [InlineData(null, "", null)]
    [InlineData("", "", null)]
    [InlineData(null, "new", "new")]
    [InlineData("old", "", "")]
    public void DescriptionUpdate_CurrentAndDesired_UpdatesOnlyWhenTheyDiffer(string? current, string desired, string? update) =>
        Assert.Equal(update, CloudKeySettingsDecisions.DescriptionUpdate(current, desired));

    public static TheoryData<string, string?, string?, string?> Rotations => new()
    {
        { "the CloudKey's own rotation wins over the KeySet's default", "720h", "24h", "720h" },
        { "a CloudKey without rotation inherits the KeySet's default", null, "24h", "24h" },
        { "neither: no rotation", null, null, null },
        { "no KeySet default: the CloudKey's own", "720h", null, "720h" },
    };

    [Theory]
    [MemberData(nameof(Rotations))]
    public void EffectiveRotation_CloudKeyAndKeySetDefault_CloudKeyFirst(string scenario, string? own, string? keySetDefault, string? expected)
    {
        var key = CloudKey(rotation: own is null ? null : new V1Alpha1Rotation { Every = own });
        var keySet = new V1Alpha1KeySet
        {
            Metadata = new V1ObjectMeta { Name = "payments", NamespaceProperty = "team-a" },
            Spec = new V1Alpha1KeySetSpec { Defaults = keySetDefault is null ? null : new V1Alpha1KeySetDefaults { Rotation = new V1Alpha1Rotation { Every = keySetDefault } } },
        };

        Assert.True(expected == CloudKeySettingsDecisions.EffectiveRotation(key, keySet)?.Every, scenario);
    }

    [Fact]
    public void EffectiveRotation_NoKeySet_IsTheCloudKeysOwn() =>
        Assert.Equal("1h", CloudKeySettingsDecisions.EffectiveRotation(CloudKey(rotation: new V1Alpha1Rotation { Every = "1h" }), null)?.Every);

    private static readonly DateTimeOffset Now = new(2026, 12, 4, 12, 0, 0, TimeSpan.Zero);

    public static TheoryData<string, string?, int?> NextRotations => new()
    {
        { "every 720h: 30 days after the current version", "720h", 30 * 86_400 },
        { "every 90m", "90m", 5_400 },
        { "no schedule: none", null, null },
        { "an unparsable interval (refused by validation): none", "monthly", null },
    };

    [Theory]
    [MemberData(nameof(NextRotations))]
    public void NextRotation_CurrentVersionPlusEvery(string scenario, string? every, int? afterSeconds)
    {
        var next = CloudKeySettingsDecisions.NextRotation(every is null ? null : new V1Alpha1Rotation { Every = every }, Now);

        Assert.True((afterSeconds is { } s ? Now.AddSeconds(s) : (DateTimeOffset?)null) == next, $"{scenario}: got {next}");
    }

    public static TheoryData<string, bool, DateTimeOffset?, bool, bool> Expiries => new()
    {
        { "not marked, not expiring: nothing", false, null, false, false },
        { "not marked, expiring later: nothing", false, Now.AddDays(1), false, false },
        { "not marked, passed: marked expired", false, Now.AddSeconds(-1), true, false },
        { "exactly now counts as passed", false, Now, true, false },
        { "marked and still passed: stays expired", true, Now.AddDays(-1), true, false },
        { "marked, expiration moved later: unexpired", true, Now.AddDays(30), false, true },
        { "marked, expiration removed: unexpired", true, null, false, true },
    };

    [Theory]
    [MemberData(nameof(Expiries))]
    public void PlanExpiry_MarkAndExpiration_SetsOrClearsTheMark(string scenario, bool marked, DateTimeOffset? expiresAt, bool expired, bool unexpired)
    {
        var plan = CloudKeyKeyStateDecisions.PlanExpiry(marked, expiresAt, Now);

        Assert.True((expired, unexpired) == plan, $"{scenario}: {plan}");
    }

    public static TheoryData<string, Dictionary<string, string>?, string[]> TagProblemCases => new()
    {
        { "no tags", null, [] },
        { "ordinary tags", new() { ["team"] = "payments", ["cost-center"] = "4711", ["env:stage"] = "" }, [] },
        { "the operator's prefix is reserved", new() { ["xks.dev/cloudkey"] = "mine" },
            ["spec.tags key 'xks.dev/cloudkey' must not start with xks.dev/ (reserved for the operator's own tags: xks.dev/managed-by, xks.dev/cloudkey, xks.dev/cloudkey-uid)"] },
        { "the operator's prefix is reserved in any case", new() { ["XKS.dev/other"] = "x" },
            ["spec.tags key 'XKS.dev/other' must not start with xks.dev/ (reserved for the operator's own tags: xks.dev/managed-by, xks.dev/cloudkey, xks.dev/cloudkey-uid)"] },
        { "AWS's prefix is reserved", new() { ["aws:createdBy"] = "x" }, ["spec.tags key 'aws:createdBy' must not start with aws: (reserved by AWS)"] },
        { "an empty key", new() { [""] = "x" }, ["spec.tags key '' must be 1 to 128 characters"] },
        { "a key over 128 characters", new() { [new string('k', 129)] = "x" }, [$"spec.tags key '{new string('k', 129)}' must be 1 to 128 characters"] },
        { "a value over 256 characters", new() { ["team"] = new string('v', 257) }, ["spec.tags value of 'team' must be at most 256 characters"] },
        { "characters AWS does not allow", new() { ["team#1"] = "a,b" },
            ["spec.tags key 'team#1' may only hold letters, digits, spaces and _ . : / = + - @", "spec.tags value of 'team#1' may only hold letters, digits, spaces and _ . : / = + - @"] },
    };

    [Theory]
    [MemberData(nameof(TagProblemCases))]
    public void TagProblems_SpecTags_NameEveryProblemPrecisely(string scenario, Dictionary<string, string>? tags, string[] problems)
    {
        var found = CloudKeySettingsDecisions.TagProblems(tags);

        Assert.True(problems.SequenceEqual(found), $"{scenario}: {string.Join(" | ", found)}");
    }

    [Fact]
    public void TagProblems_FortyEightTags_IsOneTooMany()
    {
        var tags = Enumerable.Range(0, 48).ToDictionary(i => $"t{i}", i => "v");

        Assert.Equal(["spec.tags has 48 tags; at most 47 (AWS allows 50 per KMS key, the operator sets 3 of its own)"], CloudKeySettingsDecisions.TagProblems(tags));
        tags.Remove("t0");
        Assert.Empty(CloudKeySettingsDecisions.TagProblems(tags));
    }

    private static readonly Dictionary<string, string> OperatorTags = new()
    {
        [CloudKeyNames.ManagedByTag] = "xks-operator",
        [CloudKeyNames.NameTag] = "team-a/payments-db",
        [CloudKeyNames.UidTag] = "0f8fad5b",
    };

    private static Dictionary<string, string> Current(params (string Key, string Value)[] user)
    {
        var tags = new Dictionary<string, string>(OperatorTags);
        foreach (var (key, value) in user)
        {
            tags[key] = value;
        }

        return tags;
    }

    public static TheoryData<string, Dictionary<string, string>, Dictionary<string, string>, string[], string[], string[]> TagPlans => new()
    {
        { "nothing asked, nothing applied: nothing", Current(), new(), [], [], [] },
        { "new tags are added", Current(), new() { ["team"] = "payments", ["env"] = "prod" }, [], ["env=prod", "team=payments"], [] },
        { "tags already there: nothing", Current(("team", "payments")), new() { ["team"] = "payments" }, ["team"], [], [] },
        { "a changed value is set again", Current(("team", "payments")), new() { ["team"] = "ledger" }, ["team"], ["team=ledger"], [] },
        { "a tag the spec dropped that we applied is removed", Current(("team", "payments"), ("env", "prod")), new() { ["team"] = "payments" }, ["env", "team"], [], ["env"] },
        { "a tag added in AWS by hand is left alone", Current(("owner", "alice")), new(), [], [], [] },
        { "a hand-made tag the spec names becomes the CloudKey's value", Current(("owner", "alice")), new() { ["owner"] = "bob" }, [], ["owner=bob"], [] },
        { "a recorded tag already gone in AWS is not untagged", Current(), new(), ["env"], [], [] },
        { "a reserved key in status.tagKeys (edited by hand) is never removed", Current(), new(), [CloudKeyNames.UidTag], [], [] },
        { "a reserved key in the spec (unvalidated) is never set", Current(), new() { [CloudKeyNames.UidTag] = "forged" }, [], [], [] },
        { "add and remove in one plan", Current(("env", "prod")), new() { ["team"] = "payments" }, ["env"], ["team=payments"], ["env"] },
    };

    [Theory]
    [MemberData(nameof(TagPlans))]
    public void PlanTags_CurrentDesiredApplied_TagsTheDifferenceAndUntagsOnlyWhatItApplied(string scenario, Dictionary<string, string> current, Dictionary<string, string> desired, string[] applied, string[] tag, string[] untag)
    {
        var plan = CloudKeySettingsDecisions.PlanTags(current, desired, applied);

        Assert.Null(plan.Refusal);
        Assert.True(tag.SequenceEqual(plan.Tag.Select(t => $"{t.Key}={t.Value}")), $"{scenario}: tag {string.Join(", ", plan.Tag)}");
        Assert.True(untag.SequenceEqual(plan.Untag), $"{scenario}: untag {string.Join(", ", plan.Untag)}");
    }

    [Fact]
    public void PlanTags_HandMadeTagsPushOverFifty_IsRefusedWithNothingToCall()
    {
        var current = Current([.. Enumerable.Range(0, 45).Select(i => ($"hand{i}", "x"))]);
        var desired = new Dictionary<string, string> { ["a"] = "1", ["b"] = "2", ["c"] = "3" };

        var plan = CloudKeySettingsDecisions.PlanTags(current, desired, []);

        Assert.Equal("spec.tags would leave the KMS key with 51 tags, AWS allows 50 (45 of them were added in AWS by hand and are left alone); remove some", plan.Refusal);
        Assert.Empty(plan.Tag);
        Assert.Empty(plan.Untag);
    }

    [Fact]
    public void PlanTags_ExactlyFifty_IsAllowed()
    {
        var current = Current([.. Enumerable.Range(0, 45).Select(i => ($"hand{i}", "x"))]);
        var plan = CloudKeySettingsDecisions.PlanTags(current, new Dictionary<string, string> { ["a"] = "1", ["b"] = "2" }, []);

        Assert.Null(plan.Refusal);
        Assert.Equal(2, plan.Tag.Count);
    }
}
