using Xks.Operator.Entities;
using Xks.Operator.Resources;

namespace Xks.Operator.Controllers.Tests;

/// <summary>When released key material may be destroyed, and when a master key may be created (docs/key-custody.md).</summary>
public sealed class KeyCustodyDecisionsTests
{
    private const string Account = "111122223333";
    private const string Region = "eu-west-1";
    private const string Arn = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd";
    private static readonly DateTimeOffset Now = new(2026, 12, 4, 12, 0, 0, TimeSpan.Zero);

    private static readonly KeyMaterialMarks Released = KeyMaterialMarks.None with
    {
        KmsKeyId = "1234abcd",
        KmsKeyArn = Arn,
        Released = V1Alpha1DeletionPolicy.Delete,
        DeletionDate = Now.AddDays(-1),
    };

    public static TheoryData<string, KeyMaterialMarks, string?, string, KmsKeyAnswer?, MaterialFate, bool> Destructions => new()
    {
        { "still used by its CloudKey", KeyMaterialMarks.None with { KmsKeyId = "1234abcd", KmsKeyArn = Arn }, Account, Region, KmsKeyAnswer.NotFound, MaterialFate.Keep, false },
        { "released with Retain: never destroyed", Released with { Released = V1Alpha1DeletionPolicy.Retain }, Account, Region, KmsKeyAnswer.NotFound, MaterialFate.Keep, false },
        { "released by an older operator: no ARN recorded", Released with { KmsKeyArn = null }, Account, Region, null, MaterialFate.Keep, true },
        { "a recorded ARN that is not a key ARN", Released with { KmsKeyArn = "arn:aws:kms:eu-west-1:111122223333:alias/x" }, Account, Region, null, MaterialFate.Keep, true },
        { "the KeySet now points at another account", Released, "444455556666", Region, null, MaterialFate.Keep, true },
        { "the KeySet now points at another region", Released, Account, "us-east-1", null, MaterialFate.Keep, true },
        { "the account is not known yet", Released, null, Region, null, MaterialFate.Keep, true },
        { "another account answering NotFound changes nothing", Released, "444455556666", Region, KmsKeyAnswer.NotFound, MaterialFate.Keep, true },
        { "before the scheduled deletion date: AWS is not even asked", Released with { DeletionDate = Now.AddDays(3) }, Account, Region, null, MaterialFate.Keep, false },
        { "before the date even if AWS said NotFound", Released with { DeletionDate = Now.AddSeconds(1) }, Account, Region, KmsKeyAnswer.NotFound, MaterialFate.Keep, false },
        { "after the date, not asked yet", Released, Account, Region, null, MaterialFate.AskAws, false },
        { "no date recorded, not asked yet", Released with { DeletionDate = null }, Account, Region, null, MaterialFate.AskAws, false },
        { "after the date, the key still exists (deletion cancelled)", Released, Account, Region, KmsKeyAnswer.Exists, MaterialFate.Keep, false },
        { "after the date, AWS answered NotFound by ARN", Released, Account, Region, KmsKeyAnswer.NotFound, MaterialFate.Destroy, false },
        { "exactly at the date", Released with { DeletionDate = Now }, Account, Region, KmsKeyAnswer.NotFound, MaterialFate.Destroy, false },
    };

    [Theory]
    [MemberData(nameof(Destructions))]
    public void MaterialDestruction_DestroysOnlyWhatAwsProvesDeletedInItsOwnAccountAndRegion(string because, KeyMaterialMarks marks, string? account, string region, KmsKeyAnswer? answer, MaterialFate expected, bool warn)
    {
        var decision = KeyCustodyDecisions.MaterialDestruction(marks, account, region, Now, answer);

        Assert.True(expected == decision.Fate, $"{because}: {decision.Fate} ({decision.Why})");
        Assert.True(warn == decision.Warn, $"{because}: warn {decision.Warn} ({decision.Why})");
        Assert.False(string.IsNullOrWhiteSpace(decision.Why), because);
    }

    [Fact]
    public void MaterialDestruction_AnotherAccount_NamesWhereTheKeyLives()
    {
        var decision = KeyCustodyDecisions.MaterialDestruction(Released, "444455556666", "us-east-1", Now, answer: null);

        Assert.Contains("account 111122223333, region eu-west-1", decision.Why, StringComparison.Ordinal);
        Assert.Contains("account 444455556666, region us-east-1", decision.Why, StringComparison.Ordinal);
    }

    private static readonly KeyMaterialMarks Pending = Released with { DeletionDate = Now.AddDays(7) };

    public static TheoryData<string, KeyMaterialMarks[], string?, string, TimeSpan?> MaterialDue => new()
    {
        { "no material", [], Account, Region, null },
        { "one key pending deletion: its date, plus the grace", [Pending], Account, Region, TimeSpan.FromDays(7) + KeyCustodyDecisions.DeletionDateGrace },
        { "the earliest date of several", [Pending, Pending with { DeletionDate = Now.AddSeconds(7) }, Pending with { DeletionDate = Now.AddDays(30) }], Account, Region, TimeSpan.FromSeconds(7) + KeyCustodyDecisions.DeletionDateGrace },
        { "a date already passed counts no more (the resync asks again)", [Pending with { DeletionDate = Now.AddSeconds(-1) }, Pending], Account, Region, TimeSpan.FromDays(7) + KeyCustodyDecisions.DeletionDateGrace },
        { "only passed dates", [Released], Account, Region, null },
        { "exactly now is not ahead", [Pending with { DeletionDate = Now }], Account, Region, null },
        { "no date recorded", [Pending with { DeletionDate = null }], Account, Region, null },
        { "material still used by its CloudKey", [Pending with { Released = null }], Account, Region, null },
        { "released with Retain: never destroyed, never waited for", [Pending with { Released = V1Alpha1DeletionPolicy.Retain }], Account, Region, null },
        { "no ARN recorded: kept with a warning, not looked at again for it", [Pending with { KmsKeyArn = null }], Account, Region, null },
        { "the KeySet now points at another account", [Pending], "444455556666", Region, null },
        { "the KeySet now points at another region", [Pending], Account, "us-east-1", null },
        { "a key elsewhere does not hide one here", [Pending with { KmsKeyArn = "arn:aws:kms:us-east-1:111122223333:key/9", DeletionDate = Now.AddSeconds(1) }, Pending], Account, Region, TimeSpan.FromDays(7) + KeyCustodyDecisions.DeletionDateGrace },
    };

    [Theory]
    [MemberData(nameof(MaterialDue))]
    public void UntilReleasedMaterialDue_LooksAgainAtTheEarliestDateMaterialWaitsFor(string because, KeyMaterialMarks[] material, string? account, string region, TimeSpan? expected)
    {
        var due = KeyCustodyDecisions.UntilReleasedMaterialDue(material, account, region, Now);

        Assert.True(expected == due, $"{because}: {due}");
    }

    [Fact]
    public void UntilReleasedMaterialDue_AtThatTime_MaterialDestructionAsksAws()
    {
        var due = KeyCustodyDecisions.UntilReleasedMaterialDue([Pending], Account, Region, Now)!.Value;

        Assert.Equal(MaterialFate.Keep, KeyCustodyDecisions.MaterialDestruction(Pending, Account, Region, Now + due - KeyCustodyDecisions.DeletionDateGrace - TimeSpan.FromSeconds(1), answer: null).Fate);
        Assert.Equal(MaterialFate.AskAws, KeyCustodyDecisions.MaterialDestruction(Pending, Account, Region, Now + due, answer: null).Fate);
    }

    public static TheoryData<string, MasterKeyState, string[], MasterKeyAction, string?> MasterKeys => new()
    {
        { "a valid master key is used", MasterKeyState.Valid, [], MasterKeyAction.Use, null },
        { "a valid master key is used whatever material exists", MasterKeyState.Valid, ["a-key-material"], MasterKeyAction.Use, null },
        { "a new Vault gets one", MasterKeyState.Missing, [], MasterKeyAction.Create, null },
        { "missing while material it wrapped exists: never re-created", MasterKeyState.Missing, ["a-key-material", "b-key-material"], MasterKeyAction.Refuse, Reasons.MasterKeyMissing },
        { "malformed: left alone", MasterKeyState.Malformed, [], MasterKeyAction.Refuse, Reasons.MasterKeyInvalid },
        { "malformed with material: left alone", MasterKeyState.Malformed, ["a-key-material"], MasterKeyAction.Refuse, Reasons.MasterKeyInvalid },
    };

    [Theory]
    [MemberData(nameof(MasterKeys))]
    public void MasterKey_IsCreatedOnlyWhenNoMaterialNeedsTheOldOne(string because, MasterKeyState state, string[] material, MasterKeyAction expected, string? reason)
    {
        var (action, actualReason, problem) = KeyCustodyDecisions.MasterKey("v-master-key", state, material);

        Assert.True(expected == action, $"{because}: {action}");
        Assert.Equal(reason, actualReason);
        Assert.Equal(reason is null, problem is null);
    }

    [Fact]
    public void MasterKey_MissingWithMaterial_NamesTheKeysAndTheWayBack()
    {
        var material = Enumerable.Range(1, 7).Select(i => $"k{i}-key-material").ToArray();

        var (_, _, problem) = KeyCustodyDecisions.MasterKey("v-master-key", MasterKeyState.Missing, material);

        Assert.Contains("7 key-material Secret(s)", problem, StringComparison.Ordinal);
        Assert.Contains("k1-key-material, k2-key-material, k3-key-material, k4-key-material, k5-key-material, …", problem, StringComparison.Ordinal);
        Assert.DoesNotContain("k6-key-material", problem, StringComparison.Ordinal);
        Assert.Contains("restore v-master-key from a backup", problem, StringComparison.Ordinal);
    }

    public static TheoryData<string, string?, string?> Keyrings()
    {
        var (keyring, _) = Xks.Contracts.KeyCustody.ShamirCeremony.Initialize("team-a_xks", 2, 3);
        var (other, _) = Xks.Contracts.KeyCustody.ShamirCeremony.Initialize("team-b_xks", 2, 3);
        var rootless = System.Text.Json.Nodes.JsonNode.Parse(keyring.Serialize())!.AsObject();
        rootless["roots"] = new System.Text.Json.Nodes.JsonArray();
        return new()
        {
            { "this Vault's keyring", keyring.Serialize(), null },
            { "no keyring.json", null, "it has no keyring.json" },
            { "an empty one", " ", "it has no keyring.json" },
            { "not JSON", "{not json", "keyring.json is not a keyring: Not a valid Shamir keyring" },
            { "a keyring without roots", rootless.ToJsonString(), "keyring.json is not a keyring" },
            { "another Vault's keyring", other.Serialize(), "keyring.json is the keyring of Vault team-b_xks, not team-a_xks" },
        };
    }

    [Theory]
    [MemberData(nameof(Keyrings))]
    public void KeyringProblem_Document_IsNamedOrNull(string because, string? json, string? expected)
    {
        var problem = KeyCustodyDecisions.KeyringProblem(json, "team-a_xks");

        if (expected is null)
        {
            Assert.True(problem is null, $"{because}: {problem}");
        }
        else
        {
            Assert.True(problem?.StartsWith(expected, StringComparison.Ordinal) == true, $"{because}: {problem}");
        }
    }
}
