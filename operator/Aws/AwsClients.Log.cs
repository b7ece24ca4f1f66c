namespace Xks.Operator.Aws;

public sealed partial class AwsClients
{
    private static partial class Log
    {
        [LoggerMessage(4010, LogLevel.Information, "AWS session for {Account} in {Region} via {Endpoint} (credentials from {Source}, assumed role {Role})", EventName = "AwsSessionCreated")]
        public static partial void SessionCreated(ILogger logger, string account, string region, string endpoint, string source, string role);

        [LoggerMessage(4011, LogLevel.Debug, "Disposed a replaced AWS session in {Region}", EventName = "AwsSessionRetired")]
        public static partial void SessionRetired(ILogger logger, string region);
    }
}
