namespace Xks.KmsEmulator.Kms;

/// <summary>An AWS-shaped error: <c>{"__type":"TYPE","message":"..."}</c> with HTTP 400 (500 for internal faults).</summary>
internal sealed class KmsException(string type, string message, int status = 400) : Exception(message)
{
    public string Type { get; } = type;

    public int Status { get; } = status;

    public static KmsException NotFound(string message) => new("NotFoundException", message);

    public static KmsException Validation(string message) => new("ValidationException", message);

    public static KmsException InvalidState(string message) => new("KMSInvalidStateException", message);

    public static KmsException StoreNotFound(string id) => new("CustomKeyStoreNotFoundException", $"Custom key store '{id}' does not exist.");

    public static KmsException StoreInvalidState(string message) => new("CustomKeyStoreInvalidStateException", message);
}
