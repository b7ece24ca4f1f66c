namespace Xks.Operator.Controllers;

internal sealed partial class VaultController
{
    private static partial class Log
    {
        [LoggerMessage(3000, LogLevel.Warning, "Vault {Namespace}/{Name} has an invalid spec: {Problems}", EventName = "VaultInvalidSpec")]
        public static partial void InvalidSpec(ILogger logger, string @namespace, string name, string problems);

        [LoggerMessage(3009, LogLevel.Warning, "Vault {Namespace}/{Name}: the proxy would refuse the rendered config, which is not applied: {Problems}", EventName = "VaultConfigInvalid")]
        public static partial void ConfigInvalid(ILogger logger, string @namespace, string name, string problems);
    }
}
