using k8s.Models;
using Xks.Operator.Entities;
using Xks.Operator.Resources;
using Xks.Operator.Runtime;

namespace Xks.Operator.Controllers.Tests;

/// <summary>Which KeySet a change of a key-material Secret wakes: the one that collects it once it is released for deletion.</summary>
public sealed class KeySetWatchesTests
{
    private static readonly KeyMaterialMarks Released = KeyMaterialMarks.None with
    {
        KmsKeyId = "1234abcd",
        KmsKeyArn = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd",
        Released = V1Alpha1DeletionPolicy.Delete,
        DeletionDate = new DateTimeOffset(2026, 12, 11, 12, 0, 0, TimeSpan.Zero),
    };

    public static TheoryData<string, KeyMaterialMarks, string?, string[]> Cases => new()
    {
        { "material released for deletion wakes its KeySet", Released, "payments", ["payments"] },
        { "material still used by its CloudKey wakes nothing", Released with { Released = null }, "payments", [] },
        { "material released with Retain wakes nothing", Released with { Released = V1Alpha1DeletionPolicy.Retain }, "payments", [] },
        { "a Secret without the KeySet label wakes nothing", Released, null, [] },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void ReleasedMaterialOf_MaterialSecret_WakesTheKeySetThatCollectsIt(string scenario, KeyMaterialMarks marks, string? keySet, string[] expected)
    {
        var secret = new V1Secret
        {
            Metadata = new V1ObjectMeta
            {
                Name = "db-key-material",
                NamespaceProperty = "team-a",
                Labels = keySet is null ? new Dictionary<string, string>() : new Dictionary<string, string> { [KeySetCredentialSecret.KeySetLabel] = keySet },
                Annotations = new Dictionary<string, string>(marks.Annotations()),
            },
        };

        var woken = KeySetController.ReleasedMaterialOf(secret).ToList();

        Assert.True(expected.Select(name => new ResourceKey("team-a", name)).SequenceEqual(woken), $"{scenario}: woke [{string.Join(", ", woken)}]");
    }
}
