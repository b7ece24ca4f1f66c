using k8s.Models;
using Xks.Operator.Entities;

namespace Xks.Operator.Resources.Tests;

public sealed class KeyMaterialMarksTests
{
    private static V1Secret Secret(params (string Name, string Value)[] annotations) => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = "k-key-material",
            Annotations = annotations.Length == 0 ? null : annotations.ToDictionary(a => a.Name, a => a.Value),
        },
    };

    public static TheoryData<string, (string, string)[], KeyMaterialMarks> Readings => new()
    {
        { "no annotations", [], KeyMaterialMarks.None },
        { "the KMS key", [("xks.dev/kms-key-id", "1234abcd")], KeyMaterialMarks.None with { KmsKeyId = "1234abcd" } },
        { "released to be deleted", [("xks.dev/released", "Delete")], KeyMaterialMarks.None with { Released = V1Alpha1DeletionPolicy.Delete } },
        { "released and retained", [("xks.dev/released", "Retain")], KeyMaterialMarks.None with { Released = V1Alpha1DeletionPolicy.Retain } },
        { "an unknown release reads as retained (never destroyed)", [("xks.dev/released", "delete")], KeyMaterialMarks.None with { Released = V1Alpha1DeletionPolicy.Retain } },
        { "an empty release is no release", [("xks.dev/released", "")], KeyMaterialMarks.None },
        { "expired", [("xks.dev/expired", "true")], KeyMaterialMarks.None with { Expired = true } },
        { "expired only when true", [("xks.dev/expired", "yes")], KeyMaterialMarks.None },
        { "a handled rotation request", [("xks.dev/handled-rotation-request", "2026-12-01")], KeyMaterialMarks.None with { HandledRotationRequest = "2026-12-01" } },
        { "other annotations are not marks", [("xks.dev/description", "Key versions")], KeyMaterialMarks.None },
        { "the KMS key's ARN", [("xks.dev/kms-key-arn", "arn:aws:kms:eu-west-1:111122223333:key/k")], KeyMaterialMarks.None with { KmsKeyArn = "arn:aws:kms:eu-west-1:111122223333:key/k" } },
        { "the scheduled deletion date", [("xks.dev/deletion-date", "2026-12-11T10:00:00Z")], KeyMaterialMarks.None with { DeletionDate = new DateTimeOffset(2026, 12, 11, 10, 0, 0, TimeSpan.Zero) } },
        { "an unreadable deletion date is no date", [("xks.dev/deletion-date", "next week")], KeyMaterialMarks.None },
        {
            "all of them",
            [("xks.dev/kms-key-id", "k"), ("xks.dev/released", "Delete"), ("xks.dev/expired", "true"), ("xks.dev/handled-rotation-request", "r")],
            new KeyMaterialMarks("k", V1Alpha1DeletionPolicy.Delete, true, "r")
        },
    };

    [Theory]
    [MemberData(nameof(Readings))]
    public void Of_ReadsTheMarksFromTheAnnotations(string because, (string, string)[] annotations, KeyMaterialMarks expected)
    {
        Assert.True(expected == KeyMaterialMarks.Of(Secret(annotations)), because);
    }

    public static TheoryData<string, KeyMaterialMarks, KeyMaterialMarks, Dictionary<string, string?>> Transitions => new()
    {
        { "equal marks change nothing", KeyMaterialMarks.None with { KmsKeyId = "k" }, KeyMaterialMarks.None with { KmsKeyId = "k" }, new() },
        { "a KMS key is recorded", KeyMaterialMarks.None, KeyMaterialMarks.None with { KmsKeyId = "k" }, new() { ["xks.dev/kms-key-id"] = "k" } },
        {
            "the KMS key and the expiry in one patch",
            KeyMaterialMarks.None,
            KeyMaterialMarks.None with { KmsKeyId = "k", Expired = true },
            new() { ["xks.dev/expired"] = "true", ["xks.dev/kms-key-id"] = "k" }
        },
        { "a release is recorded", KeyMaterialMarks.None, KeyMaterialMarks.None with { Released = V1Alpha1DeletionPolicy.Delete }, new() { ["xks.dev/released"] = "Delete" } },
        {
            "adopted again: the release is removed",
            KeyMaterialMarks.None with { KmsKeyId = "k", Released = V1Alpha1DeletionPolicy.Retain },
            KeyMaterialMarks.None with { KmsKeyId = "k" },
            new() { ["xks.dev/released"] = null }
        },
        {
            "a release changes its policy",
            KeyMaterialMarks.None with { Released = V1Alpha1DeletionPolicy.Retain },
            KeyMaterialMarks.None with { Released = V1Alpha1DeletionPolicy.Delete },
            new() { ["xks.dev/released"] = "Delete" }
        },
        {
            "a release with the key's ARN and deletion date",
            KeyMaterialMarks.None with { KmsKeyId = "k" },
            KeyMaterialMarks.None with { KmsKeyId = "k", Released = V1Alpha1DeletionPolicy.Delete, KmsKeyArn = "arn:aws:kms:us-east-1:111122223333:key/k", DeletionDate = new DateTimeOffset(2026, 12, 11, 10, 0, 0, TimeSpan.Zero) },
            new() { ["xks.dev/deletion-date"] = "2026-12-11T10:00:00Z", ["xks.dev/kms-key-arn"] = "arn:aws:kms:us-east-1:111122223333:key/k", ["xks.dev/released"] = "Delete" }
        },
    };

    [Theory]
    [MemberData(nameof(Transitions))]
    public void Changes_PatchesOnlyWhatDiffers(string because, KeyMaterialMarks from, KeyMaterialMarks to, Dictionary<string, string?> expected)
    {
        var changes = KeyMaterialMarks.Changes(from, to);

        Assert.True(expected.OrderBy(c => c.Key).SequenceEqual(changes.OrderBy(c => c.Key)), $"{because}: got {string.Join(", ", changes.Select(c => $"{c.Key}={c.Value ?? "null"}"))}");
    }

    [Fact]
    public void Annotations_ReadBackAsTheSameMarks()
    {
        var marks = new KeyMaterialMarks("1234abcd", V1Alpha1DeletionPolicy.Retain, true, "again", "arn:aws:kms:us-east-1:111122223333:key/1234abcd", new DateTimeOffset(2026, 12, 11, 10, 0, 0, TimeSpan.Zero));
        var secret = new V1Secret { Metadata = new V1ObjectMeta { Annotations = marks.Annotations().ToDictionary() } };

        Assert.Equal(marks, KeyMaterialMarks.Of(secret));
    }

    [Fact]
    public void ReleasedForDeletion_OnlyWithDeletionPolicyDelete()
    {
        Assert.True((KeyMaterialMarks.None with { Released = V1Alpha1DeletionPolicy.Delete }).ReleasedForDeletion);
        Assert.False((KeyMaterialMarks.None with { Released = V1Alpha1DeletionPolicy.Retain }).ReleasedForDeletion);
        Assert.False(KeyMaterialMarks.None.ReleasedForDeletion);
    }
}
