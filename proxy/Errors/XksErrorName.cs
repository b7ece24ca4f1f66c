using System.Diagnostics;

namespace Xks.Proxy.Errors;

/// <summary>The error names of the XKS proxy API v1 (spec "Error Codes").</summary>
public enum XksErrorName
{
    ValidationException,
    InvalidStateException,
    InvalidCiphertextException,
    InvalidKeyUsageException,
    AuthenticationFailedException,
    AccessDeniedException,
    KeyNotFoundException,
    InvalidUriPathException,
    ThrottlingException,
    UnsupportedOperationException,
    DependencyTimeoutException,
    InternalException,
}

/// <summary>The one mapping from an XKS error name to its HTTP status.</summary>
public static class XksErrorNameExtensions
{
    public static int ToStatusCode(this XksErrorName name) => name switch
    {
        XksErrorName.ValidationException or XksErrorName.InvalidStateException
            or XksErrorName.InvalidCiphertextException or XksErrorName.InvalidKeyUsageException => StatusCodes.Status400BadRequest,
        XksErrorName.AuthenticationFailedException => StatusCodes.Status401Unauthorized,
        XksErrorName.AccessDeniedException => StatusCodes.Status403Forbidden,
        XksErrorName.KeyNotFoundException or XksErrorName.InvalidUriPathException => StatusCodes.Status404NotFound,
        XksErrorName.ThrottlingException => StatusCodes.Status429TooManyRequests,
        XksErrorName.UnsupportedOperationException => StatusCodes.Status501NotImplemented,
        XksErrorName.DependencyTimeoutException => StatusCodes.Status503ServiceUnavailable,
        XksErrorName.InternalException => StatusCodes.Status500InternalServerError,
        _ => throw new UnreachableException($"unmapped XKS error name {name}"),
    };

    /// <summary>The spec's name as it appears on the wire (no allocation per call).</summary>
    public static string ToWireName(this XksErrorName name) => name switch
    {
        XksErrorName.ValidationException => "ValidationException",
        XksErrorName.InvalidStateException => "InvalidStateException",
        XksErrorName.InvalidCiphertextException => "InvalidCiphertextException",
        XksErrorName.InvalidKeyUsageException => "InvalidKeyUsageException",
        XksErrorName.AuthenticationFailedException => "AuthenticationFailedException",
        XksErrorName.AccessDeniedException => "AccessDeniedException",
        XksErrorName.KeyNotFoundException => "KeyNotFoundException",
        XksErrorName.InvalidUriPathException => "InvalidUriPathException",
        XksErrorName.ThrottlingException => "ThrottlingException",
        XksErrorName.UnsupportedOperationException => "UnsupportedOperationException",
        XksErrorName.DependencyTimeoutException => "DependencyTimeoutException",
        XksErrorName.InternalException => "InternalException",
        _ => throw new UnreachableException($"unmapped XKS error name {name}"),
    };
}
