
namespace Xks.KmsEmulator.Hosting;

/// <summary>Every log message of the emulator, in one place with unique event ids. Never plaintext, data keys or secrets.</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "KMS emulator listening on {Url} (region {Region}, account {AccountId})", EventName = "Listening")]
    public static partial void Listening(ILogger logger, Uri url, string region, string accountId);

    [LoggerMessage(2, LogLevel.Information, "{Service} {Operation} {RequestId} -> {Outcome} in {ElapsedMs:F1} ms", EventName = "Call")]
    public static partial void Call(ILogger logger, string service, string operation, string requestId, string outcome, double elapsedMs);

    [LoggerMessage(3, LogLevel.Error, "{Service} {Operation} {RequestId} failed with an internal fault", EventName = "InternalFault")]
    public static partial void InternalFault(ILogger logger, string service, string operation, string requestId, Exception exception);

    [LoggerMessage(4, LogLevel.Information, "Custom key store {CustomKeyStoreId} is {ConnectionState} {ConnectionErrorCode}", EventName = "KeyStoreConnection")]
    public static partial void KeyStoreConnection(ILogger logger, string customKeyStoreId, string connectionState, string? connectionErrorCode);

    [LoggerMessage(5, LogLevel.Information, "XKS {KmsOperation} {KmsRequestId} to {Endpoint} -> {Outcome}", EventName = "XksCall")]
    public static partial void XksCall(ILogger logger, string kmsOperation, string kmsRequestId, string endpoint, string outcome);

    [LoggerMessage(6, LogLevel.Information, "KMS key {KeyArn} deleted: its deletion date {DeletionDate:O} has passed (its aliases and grants went with it)", EventName = "KeyDeleted")]
    public static partial void KeyDeleted(ILogger logger, string keyArn, DateTimeOffset? deletionDate);
}
