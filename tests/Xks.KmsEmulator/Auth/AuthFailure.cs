namespace Xks.KmsEmulator.Auth;

internal enum AuthFailureKind
{
    MissingAuthentication,
    IncompleteSignature,
    UnknownAccessKey,
    InvalidSessionToken,
    ExpiredToken,
    SignatureMismatch,
}

/// <summary>A failed SigV4 check; the message never carries a secret.</summary>
internal sealed class AuthFailure(AuthFailureKind kind, string message) : Exception(message)
{
    public AuthFailureKind Kind { get; } = kind;
}
