namespace Xks.Operator.Controllers;

internal sealed partial class VaultController
{
    private static partial class Log
    {
        [LoggerMessage(3000, LogLevel.Warning, "Vault {Namespace}/{Name} has an invalid spec: {Problems}", EventName = "VaultInvalidSpec")]
        public static partial void InvalidSpec(ILogger logger, string @namespace, string name, string problems);

        [LoggerMessage(3001, LogLevel.Information, "Created {Kind} {Namespace}/{Name}", EventName = "VaultChildCreated")]
        public static partial void ChildCreated(ILogger logger, string kind, string @namespace, string name);

        [LoggerMessage(3002, LogLevel.Information, "Updated {Kind} {Namespace}/{Name} to the desired state", EventName = "VaultChildUpdated")]
        public static partial void ChildUpdated(ILogger logger, string kind, string @namespace, string name);

        [LoggerMessage(3003, LogLevel.Information, "Created master key Secret {Namespace}/{Name}", EventName = "MasterKeyCreated")]
        public static partial void MasterKeyCreated(ILogger logger, string @namespace, string name);

        [LoggerMessage(3004, LogLevel.Information, "Deleted master key Secret {Namespace}/{Name}: no key of the Vault exists", EventName = "MasterKeyDeleted")]
        public static partial void MasterKeyDeleted(ILogger logger, string @namespace, string name);

        [LoggerMessage(3005, LogLevel.Warning, "Kept master key Secret {Namespace}/{Name}: {Count} CloudKey(s) still use the Vault", EventName = "MasterKeyKept")]
        public static partial void MasterKeyKept(ILogger logger, string @namespace, string name, int count);

        [LoggerMessage(3009, LogLevel.Warning, "Vault {Namespace}/{Name}: the proxy would refuse the rendered config, which is not applied: {Problems}", EventName = "VaultConfigInvalid")]
        public static partial void ConfigInvalid(ILogger logger, string @namespace, string name, string problems);

        [LoggerMessage(3008, LogLevel.Debug, "Vault {Namespace}/{Name}: the operator cannot use the HSM ({Reason}): {Problem}", EventName = "VaultHsmUnavailable")]
        public static partial void HsmUnavailable(ILogger logger, string @namespace, string name, string reason, string problem);
    }
}
