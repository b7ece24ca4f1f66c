namespace Xks.Contracts.KeyCustody;

/// <summary>
/// Argon2id cost parameters of a passphrase bundle (version 0x13, 16-byte salt, 32-byte output). <see cref="Default"/>
/// is m = 64 MiB, t = 3, p = 1. Seal refuses and Open refuses parameters outside
/// [<see cref="MinMemoryKiB"/>, <see cref="MaxMemoryKiB"/>] × [<see cref="MinIterations"/>, <see cref="MaxIterations"/>]
/// × [<see cref="MinParallelism"/>, <see cref="MaxParallelism"/>]: the floor is OWASP's minimum Argon2id setting
/// (19 MiB, 2 iterations, 1 lane), so a forged header cannot downgrade the KDF; the ceiling keeps a hostile header from
/// making Open allocate more than 1 GiB or spin for minutes.
/// </summary>
/// <param name="MemoryKiB">Memory in KiB (Argon2 m).</param>
/// <param name="Iterations">Passes over the memory (Argon2 t).</param>
/// <param name="Parallelism">Lanes (Argon2 p).</param>
public sealed record Argon2Parameters(int MemoryKiB, int Iterations, int Parallelism)
{
    /// <summary>19 MiB: OWASP's minimum for Argon2id.</summary>
    public const int MinMemoryKiB = 19 * 1024;

    /// <summary>1 GiB.</summary>
    public const int MaxMemoryKiB = 1024 * 1024;

    public const int MinIterations = 2;

    public const int MaxIterations = 10;

    public const int MinParallelism = 1;

    public const int MaxParallelism = 8;

    /// <summary>What Seal uses unless told otherwise: m = 64 MiB, t = 3, p = 1.</summary>
    public static Argon2Parameters Default { get; } = new(64 * 1024, 3, 1);

    /// <summary>The floor: m = 19 MiB, t = 2, p = 1 (OWASP's minimum). Fine for tests; prefer <see cref="Default"/>.</summary>
    public static Argon2Parameters Minimum { get; } = new(MinMemoryKiB, MinIterations, MinParallelism);

    /// <summary>
    /// Null when the parameters are within bounds; otherwise the reason (<see cref="BundleFailureReason.WeakParameters"/>
    /// if any is below its floor, else <see cref="BundleFailureReason.ParametersOutOfBounds"/>) and a message. Takes
    /// <see cref="long"/> so a header's absurd values are judged, not overflowed.
    /// </summary>
    internal static (BundleFailureReason Reason, string Message)? Check(long memoryKiB, long iterations, long parallelism)
    {
        if (memoryKiB < MinMemoryKiB || iterations < MinIterations || parallelism < MinParallelism)
        {
            return (BundleFailureReason.WeakParameters,
                $"Argon2id parameters m={memoryKiB} KiB, t={iterations}, p={parallelism} are below the minimum " +
                $"m={MinMemoryKiB} KiB, t={MinIterations}, p={MinParallelism}.");
        }

        if (memoryKiB > MaxMemoryKiB || iterations > MaxIterations || parallelism > MaxParallelism)
        {
            return (BundleFailureReason.ParametersOutOfBounds,
                $"Argon2id parameters m={memoryKiB} KiB, t={iterations}, p={parallelism} exceed the maximum " +
                $"m={MaxMemoryKiB} KiB, t={MaxIterations}, p={MaxParallelism}.");
        }

        return null;
    }
}
