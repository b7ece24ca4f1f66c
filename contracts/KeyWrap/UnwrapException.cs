using System.Security.Cryptography;

namespace Xks.Contracts.KeyWrap;

/// <summary>A wrapped key that cannot be used where one is required (<see cref="MasterKeyRing.Rewrap"/>). Never holds key bytes.</summary>
public sealed class UnwrapException(UnwrapOutcome outcome, string message) : CryptographicException(message)
{
    /// <summary>Why the wrapped key cannot be used.</summary>
    public UnwrapOutcome Outcome { get; } = outcome;
}
