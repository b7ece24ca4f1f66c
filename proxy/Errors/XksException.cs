namespace Xks.Proxy.Errors;

/// <summary>
/// A classified failure of an XKS request. <see cref="PublicMessage"/> goes to the caller (printable ASCII,
/// under 512 characters, never a secret); <see cref="Exception.Message"/> may carry more detail for the server log.
/// </summary>
public sealed class XksException : Exception
{
    public XksException(XksErrorName name, string publicMessage, string? logDetail = null, Exception? inner = null)
        : base(logDetail ?? publicMessage, inner)
    {
        Name = name;
        PublicMessage = publicMessage;
    }

    public XksErrorName Name { get; }

    public string PublicMessage { get; }

    /// <summary>Authentication failures never tell the caller which part failed.</summary>
    public static XksException AuthenticationFailed(string reasonForLog) =>
        new(XksErrorName.AuthenticationFailedException, "The request signature could not be verified.", reasonForLog);

    public static XksException Validation(string message) => new(XksErrorName.ValidationException, message);

    public static XksException InvalidCiphertext(string message) => new(XksErrorName.InvalidCiphertextException, message);
}
