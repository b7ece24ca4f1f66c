using System.Globalization;
using Amazon.KeyManagementService;
using Amazon.Runtime;
using Xks.Operator.Support.Tests;

namespace Xks.SeedClient;

/// <summary>
/// <c>xks-seed-client encrypt|decrypt</c>: the S3 SSE-KMS pattern from the command line; <c>load</c>: a bounded
/// GenerateDataKey + Decrypt load (<see cref="LoadCommand"/>). The AWS credentials come from
/// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (never from the command line, where <c>ps</c> would show them).
/// Exit codes: 0 done, 1 KMS refused (the AWS error code and message on stderr), 2 usage.
/// </summary>
internal static class Program
{
    private const string Usage = """
        usage: xks-seed-client encrypt --endpoint URL --region REGION --key-id KEY --in FILE --out ENVELOPE.json [--context k=v ...]
               xks-seed-client decrypt --endpoint URL --region REGION --in ENVELOPE.json --out FILE
               xks-seed-client load --endpoint URL --region REGION --key-id KEY --rate PAIRS_PER_SECOND --seconds N
                                    --out SUMMARY.json [--max-in-flight N] [--stop-file FILE]
        AWS credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.
        """;

    public static async Task<int> Main(string[] args)
    {
        if (args.Length == 0)
        {
            await Console.Error.WriteLineAsync(Usage);
            return 2;
        }

        if (!TryParse(args[0], args[1..], out var options, out var problem) || (args[0] is "encrypt" or "load" && !options.ContainsKey("key-id")))
        {
            await Console.Error.WriteLineAsync((problem.Length > 0 ? problem : "--key-id is required") + "\n" + Usage);
            return 2;
        }

        var accessKeyId = Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID");
        var secretAccessKey = Environment.GetEnvironmentVariable("AWS_SECRET_ACCESS_KEY");
        if (string.IsNullOrEmpty(accessKeyId) || string.IsNullOrEmpty(secretAccessKey))
        {
            await Console.Error.WriteLineAsync("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set\n" + Usage);
            return 2;
        }

        using var kms = EnvelopeEncryption.CreateClient(new Uri(options["endpoint"]), accessKeyId, secretAccessKey, options["region"], maxErrorRetry: 0);
        var envelope = new EnvelopeEncryption(kms);
        try
        {
            switch (args[0])
            {
                case "encrypt":
                    var content = await File.ReadAllBytesAsync(options["in"]);
                    var sealedObject = await envelope.EncryptAsync(options["key-id"], content, Context(options));
                    await File.WriteAllTextAsync(options["out"], sealedObject.ToJson());
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"encrypted {content.Length} bytes under {sealedObject.KeyId}; wrapped data key {sealedObject.WrappedDataKey.Length} bytes"));
                    return 0;
                case "load":
                    return await LoadAsync(kms, options);
                case "decrypt":
                    var opened = EnvelopeObject.FromJson(await File.ReadAllTextAsync(options["in"]));
                    var plaintext = await envelope.DecryptAsync(opened);
                    await File.WriteAllBytesAsync(options["out"], plaintext);
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"decrypted {plaintext.Length} bytes (data key unwrapped by {opened.KeyId})"));
                    return 0;
                default:
                    await Console.Error.WriteLineAsync($"unknown command {args[0]}\n{Usage}");
                    return 2;
            }
        }
        catch (AmazonKeyManagementServiceException ex)
        {
            await Console.Error.WriteLineAsync($"KMS refused: {ex.ErrorCode}: {ex.Message}");
            return 1;
        }
        catch (AmazonServiceException ex)
        {
            await Console.Error.WriteLineAsync($"AWS refused: {ex.ErrorCode}: {ex.Message}");
            return 1;
        }
    }

    private static Dictionary<string, string> Context(Dictionary<string, string> options) =>
        options.Where(o => o.Key.StartsWith("context:", StringComparison.Ordinal)).ToDictionary(o => o.Key["context:".Length..], o => o.Value);

    private static async Task<int> LoadAsync(IAmazonKeyManagementService kms, Dictionary<string, string> options)
    {
        var rate = double.Parse(options["rate"], CultureInfo.InvariantCulture);
        var seconds = double.Parse(options["seconds"], CultureInfo.InvariantCulture);
        var maxInFlight = options.TryGetValue("max-in-flight", out var m) ? int.Parse(m, CultureInfo.InvariantCulture) : 64;
        if (rate is <= 0 or > 2000 || seconds is <= 0 or > 600 || maxInFlight is < 1 or > 512)
        {
            await Console.Error.WriteLineAsync("--rate must be in (0, 2000], --seconds in (0, 600], --max-in-flight in [1, 512]\n" + Usage);
            return 2;
        }

        var load = new LoadCommand(kms, options["key-id"], rate, TimeSpan.FromSeconds(seconds), maxInFlight, options.GetValueOrDefault("stop-file"));
        var summary = await load.RunAsync(CancellationToken.None);
        await File.WriteAllTextAsync(options["out"], summary.ToJson());
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"load: {summary.Requests} requests in {summary.Seconds} s ({summary.RequestsPerSecond}/s), {summary.Failed} failed"));
        return 0;
    }

    private static bool TryParse(string command, string[] args, out Dictionary<string, string> options, out string problem)
    {
        options = new Dictionary<string, string>(StringComparer.Ordinal);
        problem = "";
        for (var i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
            {
                problem = $"unexpected argument {args[i]}";
                return false;
            }

            var name = args[i][2..];
            var value = args[++i];
            if (name == "context")
            {
                var equals = value.IndexOf('=', StringComparison.Ordinal);
                if (equals <= 0)
                {
                    problem = $"--context takes key=value, not {value}";
                    return false;
                }

                options["context:" + value[..equals]] = value[(equals + 1)..];
            }
            else
            {
                options[name] = value;
            }
        }

        string[] requiredOptions = command == "load" ? ["endpoint", "region", "rate", "seconds", "out"] : ["endpoint", "region", "in", "out"];
        foreach (var required in requiredOptions)
        {
            if (!options.ContainsKey(required))
            {
                problem = $"--{required} is required";
                return false;
            }
        }

        return true;
    }
}
