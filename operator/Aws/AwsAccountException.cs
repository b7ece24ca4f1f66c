namespace Xks.Operator.Aws;

/// <summary>
/// A CspAccount cannot be turned into working AWS clients (its Secret is missing or incomplete, its spec is invalid,
/// no credentials were found), or the client-side rate limit refused a call. <see cref="Reason"/> is a condition
/// reason; the message names objects and keys, never a value.
/// </summary>
public sealed class AwsAccountException(string reason, string message, Exception? innerException = null)
    : Exception(message, innerException)
{
    /// <summary>CamelCase condition reason, e.g. CredentialsSecretNotFound.</summary>
    public string Reason { get; } = reason;
}
