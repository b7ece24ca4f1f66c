using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging.Console;
using Xks.KmsEmulator.Kms;
using Xks.KmsEmulator.Policies;

namespace Xks.KmsEmulator.Hosting;

/// <summary>
/// <c>xks-kms-emulator --port 4566 --region eu-west-1 --account 111122223333 --credential AKID:SECRET [--credential ...]
/// --resolve host:port:127.0.0.1 --ca-file ca.pem --identity-policy arn:aws:iam::111122223333:role/app=policy.json</c>: runs the
/// emulator until SIGINT or SIGTERM.
/// </summary>
internal static class EmulatorCommandLine
{
    public const string Usage = """
        Usage: xks-kms-emulator [options]
          --port N                     listen port (default 4566; 0 = any free port)
          --address A                  listen address (default 127.0.0.1)
          --region R                   region accepted in SigV4 and used for XKS calls (default us-east-1)
          --account ID                 AWS account id of the emulated account (default 111122223333)
          --credential AKID:SECRET     accepted access key (repeatable)
          --role-external-id ARN=ID    AssumeRole of role ARN requires this external id (repeatable)
          --identity-policy ARN=FILE   identity-based policy (JSON file) of IAM user or role ARN; its calls are then
                                       authorized by key policy, grants and this policy (repeatable; none: unrestricted)
          --resolve HOST:PORT:ADDRESS  dial ADDRESS:PORT for XKS host HOST (TLS SNI and Host stay HOST) (repeatable)
          --ca-file FILE               PEM CA trusted for XKS proxy certificates, besides the system store
          --xks-timeout-ms N           timeout of one XKS call (default 250)
          --connect-delay-ms N         CONNECTING -> CONNECTED/FAILED delay (default 300)
          --pending-window-unit-ms N   length of one day of PendingWindowInDays: a key scheduled for deletion is deleted
                                       that many days of N ms later (default 86400000, a day)
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        KmsEmulatorOptions options;
        try
        {
            options = Parse(args);
        }
        catch (FormatException ex)
        {
            await Console.Error.WriteLineAsync(ex.Message + "\n" + Usage).ConfigureAwait(false);
            return 2;
        }

        // One line per call: under a load test on a busy disk the console queue may fill; drop lines rather than stall
        // request threads (which would show up as XKS timeouts that the proxy never caused).
        using var loggerFactory = LoggerFactory.Create(b =>
        {
            b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Information);
            b.Services.Configure<ConsoleLoggerOptions>(o =>
            {
                o.QueueFullMode = ConsoleLoggerQueueFullMode.DropWrite;
                o.MaxQueueLength = 20_000;
            });
        });
        var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        await using var emulator = await KmsEmulator.StartAsync(options, loggerFactory).ConfigureAwait(false);
        Console.WriteLine($"KMS emulator listening on {emulator.Url.ToString().TrimEnd('/')}");
        await stop.Task.ConfigureAwait(false);
        return 0;

        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            stop.TrySetResult();
        }
    }

    public static KmsEmulatorOptions Parse(IReadOnlyList<string> args)
    {
        var options = new KmsEmulatorOptions { Port = 4566 };
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            if (name is "-h" or "--help")
            {
                throw new FormatException("");
            }

            if (i + 1 >= args.Count)
            {
                throw new FormatException($"{name} needs a value");
            }

            var value = args[++i];
            switch (name)
            {
                case "--port":
                    options.Port = Number(name, value);
                    break;
                case "--address":
                    options.Address = value;
                    break;
                case "--region":
                    options.Region = value;
                    break;
                case "--account":
                    options.AccountId = value;
                    break;
                case "--credential":
                    var colon = value.IndexOf(':', StringComparison.Ordinal);
                    if (colon <= 0 || colon == value.Length - 1)
                    {
                        throw new FormatException("--credential must be ACCESS_KEY_ID:SECRET_ACCESS_KEY");
                    }

                    options.Credentials[value[..colon]] = value[(colon + 1)..];
                    break;
                case "--role-external-id":
                    var eq = value.LastIndexOf('=');
                    if (eq <= 0)
                    {
                        throw new FormatException("--role-external-id must be ROLE_ARN=EXTERNAL_ID");
                    }

                    options.RoleExternalIds[value[..eq]] = value[(eq + 1)..];
                    break;
                case "--identity-policy":
                    var separator = value.LastIndexOf('=');
                    if (separator <= 0 || separator == value.Length - 1)
                    {
                        throw new FormatException("--identity-policy must be IDENTITY_ARN=POLICY_FILE");
                    }

                    options.IdentityPolicies[value[..separator]] = ReadPolicy(value[(separator + 1)..]);
                    break;
                case "--resolve":
                    var parts = value.Split(':', 3);
                    if (parts.Length != 3 || parts[0].Length == 0 || parts[2].Length == 0)
                    {
                        throw new FormatException("--resolve must be HOST:PORT:ADDRESS");
                    }

                    options.HostOverrides[parts[0]] = $"{parts[2]}:{Number(name, parts[1])}";
                    break;
                case "--ca-file":
                    options.TrustedCaFile = value;
                    break;
                case "--xks-timeout-ms":
                    options.XksTimeout = TimeSpan.FromMilliseconds(Number(name, value));
                    break;
                case "--connect-delay-ms":
                    options.ConnectDelay = TimeSpan.FromMilliseconds(Number(name, value));
                    break;
                case "--pending-window-unit-ms":
                    var unit = Number(name, value);
                    options.PendingWindowUnit = unit > 0 ? TimeSpan.FromMilliseconds(unit) : throw new FormatException($"{name} must be at least 1");
                    break;
                default:
                    throw new FormatException($"unknown option {name}");
            }
        }

        return options;
    }

    private static string ReadPolicy(string path)
    {
        string json;
        try
        {
            json = File.ReadAllText(path);
        }
        catch (IOException ex)
        {
            throw new FormatException($"--identity-policy: cannot read {path}: {ex.Message}");
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new FormatException($"--identity-policy: cannot read {path}: {ex.Message}");
        }

        try
        {
            PolicyDocument.Parse(json, PolicyKind.Identity);
            return json;
        }
        catch (KmsException ex)
        {
            throw new FormatException($"--identity-policy: {path}: {ex.Message}");
        }
    }

    private static int Number(string name, string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : throw new FormatException($"{name} needs a number, not '{value}'");
}
