namespace Xks.Contracts.KeyCustody;

/// <summary>
/// A bundle was refused. <see cref="Reason"/> says why; the message says it for a person and never contains the
/// passphrase, key bytes or payload.
/// </summary>
public sealed class BundleException(BundleFailureReason reason, string message) : Exception(message)
{
    public BundleFailureReason Reason { get; } = reason;
}
