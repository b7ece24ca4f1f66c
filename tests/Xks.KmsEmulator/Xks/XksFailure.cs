namespace Xks.KmsEmulator.Xks;

internal enum XksFailureKind
{
    /// <summary>The proxy answered with an XKS error (<see cref="XksFailure.ErrorName"/>).</summary>
    ProxyError,

    /// <summary>An answer KMS cannot interpret: a malformed body, a missing field, an HTTP error without an XKS error body.</summary>
    InvalidResponse,

    /// <summary>No TCP connection (refused, unknown host), or the proxy said all its key managers are unavailable.</summary>
    Unreachable,

    /// <summary>No answer within the XKS timeout.</summary>
    TimedOut,

    /// <summary>The TLS handshake failed (untrusted certificate, wrong host name, no TLS).</summary>
    TlsFailure,
}

/// <summary>Why an XKS call failed. The message is safe to return to the caller and to log.</summary>
internal sealed class XksFailure(XksFailureKind kind, string message, string? errorName = null) : Exception(message)
{
    public XksFailureKind Kind { get; } = kind;

    public string? ErrorName { get; } = errorName;
}
