using System.Buffers.Binary;
using Xks.Contracts.KeyWrap;

namespace Xks.Operator.Custody;

/// <summary>
/// The custodians' root rotation of a Shamir Vault, level-triggered (pure): whether the ceremony adds a root, rewraps
/// key versions that name an older root under the current one, retires older roots nothing names any more, or is done.
/// A run interrupted at any step is resumed by running it again: a root is added only when the keyring holds one root
/// alone, so one ceremony never adds two.
/// </summary>
public static class ShamirRotation
{
    /// <summary>The next step, from the keyring's root versions, its current root and the roots the key versions name.</summary>
    public static ShamirRotationStep Next(IReadOnlyList<int> keyringRoots, int currentRoot, IReadOnlyList<int> rootsInUse, bool started)
    {
        ArgumentNullException.ThrowIfNull(keyringRoots);
        ArgumentNullException.ThrowIfNull(rootsInUse);
        var older = keyringRoots.Where(r => r < currentRoot).Order().ToList();
        if (older.Count == 0)
        {
            return started ? new(ShamirRotationAction.Done, []) : new(ShamirRotationAction.AddRoot, []);
        }

        var stale = rootsInUse.Where(r => r < currentRoot).Distinct().Order().ToList();
        return stale.Count > 0 ? new(ShamirRotationAction.Rewrap, stale) : new(ShamirRotationAction.RetireRoots, older);
    }

    /// <summary>
    /// The root version a Shamir key version names: format 4 its byte, format 2 its big-endian field, format 1 root 1;
    /// 0 when the blob is none of these.
    /// </summary>
    public static int RootOf(string? wrappedBase64)
    {
        Span<byte> blob = stackalloc byte[WrappedKey.Format2Size + 3];
        if (wrappedBase64 is null || !Convert.TryFromBase64String(wrappedBase64, blob, out var length))
        {
            return 0;
        }

        blob = blob[..length];
        if (DerivedKey.TryParse(blob, out var derivedRoot, out _))
        {
            return derivedRoot;
        }

        return length switch
        {
            WrappedKey.Format2Size when blob[0] == WrappedKey.Format2Marker => (int)Math.Min(BinaryPrimitives.ReadUInt32BigEndian(blob[1..5]), int.MaxValue),
            WrappedKey.Format1Size => 1,
            _ => 0,
        };
    }
}

/// <summary>What the ceremony does next.</summary>
public enum ShamirRotationAction
{
    /// <summary>Add root version max+1 to the keyring and make it current.</summary>
    AddRoot,

    /// <summary>Rewrap the key versions that name a root in <see cref="ShamirRotationStep.Roots"/> under the current root (format 2).</summary>
    Rewrap,

    /// <summary>Remove the roots in <see cref="ShamirRotationStep.Roots"/> from the keyring (once the proxies serve the rewrapped versions).</summary>
    RetireRoots,

    /// <summary>One root, and every key version names it.</summary>
    Done,
}

public sealed record ShamirRotationStep(ShamirRotationAction Action, IReadOnlyList<int> Roots);
