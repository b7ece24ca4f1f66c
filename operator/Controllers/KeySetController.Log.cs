namespace Xks.Operator.Controllers;

internal sealed partial class KeySetController
{
    internal static partial class Log
    {
        [LoggerMessage(3200, LogLevel.Information, "Created SigV4 credential for KeySet {Namespace}/{Name} (access key ID {AccessKeyId})")]
        public static partial void CredentialCreated(ILogger logger, string @namespace, string name, string accessKeyId);

        [LoggerMessage(3201, LogLevel.Information, "Started credential rotation of KeySet {Namespace}/{Name}: new access key ID {AccessKeyId} ({Trigger})")]
        public static partial void RotationStarted(ILogger logger, string @namespace, string name, string accessKeyId, string trigger);

        [LoggerMessage(3202, LogLevel.Information, "Rotated credential of KeySet {Namespace}/{Name}: KMS signs with {AccessKeyId}, previous {PreviousAccessKeyId} accepted for a grace period")]
        public static partial void CredentialRotated(ILogger logger, string @namespace, string name, string accessKeyId, string previousAccessKeyId);

        [LoggerMessage(3203, LogLevel.Information, "Created custom key store {CustomKeyStoreId} ({StoreName}) for KeySet {Namespace}/{Name}")]
        public static partial void KeyStoreCreated(ILogger logger, string @namespace, string name, string customKeyStoreId, string storeName);

        [LoggerMessage(3204, LogLevel.Information, "Adopted custom key store {CustomKeyStoreId} for KeySet {Namespace}/{Name}")]
        public static partial void Adopted(ILogger logger, string @namespace, string name, string customKeyStoreId);

        [LoggerMessage(3205, LogLevel.Information, "Connecting custom key store {CustomKeyStoreId} of KeySet {Namespace}/{Name}")]
        public static partial void Connecting(ILogger logger, string @namespace, string name, string customKeyStoreId);

        [LoggerMessage(3206, LogLevel.Information, "Disconnected custom key store {CustomKeyStoreId} of KeySet {Namespace}/{Name}: {Why}")]
        public static partial void Disconnected(ILogger logger, string @namespace, string name, string customKeyStoreId, string why);

        [LoggerMessage(3207, LogLevel.Information, "Destroyed key material Secret {Namespace}/{Secret}: KMS key {KeyId} is deleted")]
        public static partial void MaterialDestroyed(ILogger logger, string @namespace, string secret, string keyId);
    }
}
