namespace Xks.Operator.Controllers;

internal sealed partial class CloudKeyController
{
    internal static partial class Log
    {
        [LoggerMessage(3300, LogLevel.Information, "Generated key material {KeyId} version 1 for CloudKey {Namespace}/{Name}")]
        public static partial void MaterialCreated(ILogger logger, string @namespace, string name, string keyId);

        [LoggerMessage(3301, LogLevel.Information, "Added version {Version} of key {KeyId} for CloudKey {Namespace}/{Name}")]
        public static partial void KeyRotated(ILogger logger, string @namespace, string name, string keyId, int version);

        [LoggerMessage(3302, LogLevel.Information, "Created KMS key {KmsKeyId} backed by {KeyId} for CloudKey {Namespace}/{Name}")]
        public static partial void KeyCreated(ILogger logger, string @namespace, string name, string kmsKeyId, string keyId);

        [LoggerMessage(3303, LogLevel.Information, "Scheduled KMS key {KmsKeyId} of CloudKey {Namespace}/{Name} for deletion on {DeletionDate:O}")]
        public static partial void DeletionScheduled(ILogger logger, string @namespace, string name, string kmsKeyId, DateTime deletionDate);

        [LoggerMessage(3304, LogLevel.Debug, "Reading the KMS key of CloudKey {Namespace}/{Name} from AWS: {Why}")]
        public static partial void AwsCheck(ILogger logger, string @namespace, string name, string why);
    }
}
