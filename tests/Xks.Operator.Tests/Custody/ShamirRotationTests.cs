using Xks.Contracts.KeyWrap;

namespace Xks.Operator.Custody.Tests;

public sealed class ShamirRotationTests
{
    public static TheoryData<string, int[], int, int[], bool, ShamirRotationAction, int[]> Cases => new()
    {
        { "one root, every version under it: a new rotation adds a root", [1], 1, [1, 1], false, ShamirRotationAction.AddRoot, [] },
        { "one root after this run's steps: done", [2], 2, [2, 2], true, ShamirRotationAction.Done, [] },
        { "a root added, versions still under the old one: rewrap", [1, 2], 2, [1, 1], true, ShamirRotationAction.Rewrap, [1] },
        { "a run interrupted after adding the root resumes with the rewrap, never a second root", [1, 2], 2, [1, 2], false, ShamirRotationAction.Rewrap, [1] },
        { "everything rewrapped: the old root retires", [1, 2], 2, [2, 2], true, ShamirRotationAction.RetireRoots, [1] },
        { "several old roots retire together", [1, 2, 3], 3, [3], true, ShamirRotationAction.RetireRoots, [1, 2] },
        { "no key versions yet: the old root retires at once", [1, 2], 2, [], true, ShamirRotationAction.RetireRoots, [1] },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Next_Case_IsTheExpectedStep(string because, int[] keyringRoots, int current, int[] inUse, bool started, ShamirRotationAction action, int[] roots)
    {
        var step = ShamirRotation.Next(keyringRoots, current, inUse, started);

        Assert.True(action == step.Action, $"{because}: {step.Action}");
        Assert.Equal(roots, step.Roots);
    }

    [Fact]
    public void RootOf_EachFormat_NamesItsRoot()
    {
        using var ring = MasterKeyRing.Single(new byte[32].Select((_, i) => (byte)(i + 1)).ToArray(), rootVersion: 7);

        Assert.Equal(3, ShamirRotation.RootOf(DerivedKey.CreateBase64(3)));
        Assert.Equal(7, ShamirRotation.RootOf(ring.Wrap("k", 1, new byte[32])));
        Assert.Equal(1, ShamirRotation.RootOf(Convert.ToBase64String(new byte[WrappedKey.Format1Size])));
        Assert.Equal(0, ShamirRotation.RootOf("not base64!"));
        Assert.Equal(0, ShamirRotation.RootOf(null));
    }
}
