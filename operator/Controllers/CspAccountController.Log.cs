namespace Xks.Operator.Controllers;

internal sealed partial class CspAccountController
{
    private static partial class Log
    {
        [LoggerMessage(4100, LogLevel.Warning, "CspAccount {Namespace}/{Name} has an invalid spec: {Problems}", EventName = "CspAccountInvalidSpec")]
        public static partial void InvalidSpec(ILogger logger, string @namespace, string name, string problems);
    }
}
