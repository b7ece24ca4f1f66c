namespace Xks.Operator.Controllers;

internal sealed partial class CspAccountController
{
    private static partial class Log
    {
        [LoggerMessage(4100, LogLevel.Warning, "{Account} has an invalid spec: {Problems}", EventName = "CspAccountInvalidSpec")]
        public static partial void InvalidSpec(ILogger logger, string account, string problems);
    }
}
