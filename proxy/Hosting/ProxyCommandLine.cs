using Microsoft.Extensions.Logging.Abstractions;
using Xks.Proxy.Crypto.Software;
using Xks.Proxy.Options;

namespace Xks.Proxy.Hosting;

/// <summary>
/// <c>xks-proxy [serve|validate|keys list|keys rotate ID] [--config PATH]</c>. The config path comes from
/// <c>--config</c> or the XKS_PROXY_CONFIG environment variable. Exit codes: 0 ok, 2 bad usage or configuration.
/// </summary>
public static class ProxyCommandLine
{
    public const int ExitOk = 0;
    public const int ExitConfigError = 2;

    private const string Usage = """
        usage: xks-proxy [serve] [--config PATH]      run the XKS proxy
               xks-proxy validate [--config PATH]     check a configuration and list every problem
               xks-proxy keys list [--config PATH]    list software-backend keys and their versions
               xks-proxy keys rotate ID [--config PATH]
                                                      add a version to a key (the running proxy picks it up)
        The configuration path may also come from the XKS_PROXY_CONFIG environment variable.
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        var positional = new List<string>();
        string? configPath = Environment.GetEnvironmentVariable(ProxyConfigurationLoader.ConfigEnvironmentVariable);
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--config" or "-c" when i + 1 < args.Length:
                    configPath = args[++i];
                    break;
                case "--help" or "-h":
                    Console.Out.WriteLine(Usage);
                    return ExitOk;
                case "--version":
                    Console.Out.WriteLine(typeof(ProxyCommandLine).Assembly.GetName().Version?.ToString(3));
                    return ExitOk;
                default:
                    if (args[i].StartsWith('-'))
                    {
                        return Fail($"unknown option '{args[i]}'\n{Usage}");
                    }

                    positional.Add(args[i]);
                    break;
            }
        }

        var command = positional.Count == 0 ? "serve" : positional[0];
        if (command is not ("serve" or "validate" or "keys"))
        {
            return Fail($"unknown command '{command}'\n{Usage}");
        }

        if (string.IsNullOrWhiteSpace(configPath))
        {
            return Fail($"no configuration: pass --config PATH or set {ProxyConfigurationLoader.ConfigEnvironmentVariable}\n{Usage}");
        }

        var loaded = ProxyConfigurationLoader.LoadFile(configPath);
        if (!loaded.Succeeded)
        {
            await Console.Error.WriteLineAsync($"xks-proxy: configuration '{configPath}' is invalid ({loaded.Problems.Count} problem(s)):").ConfigureAwait(false);
            foreach (var problem in loaded.Problems)
            {
                await Console.Error.WriteLineAsync("  - " + problem).ConfigureAwait(false);
            }

            return ExitConfigError;
        }

        var configuration = loaded.Configuration!;
        switch (command)
        {
            case "validate":
                Console.Out.WriteLine($"{configPath}: valid ({configuration.KeyStores.Count} key store(s), {configuration.KeyIds.Count} key(s))");
                return ExitOk;
            case "keys":
                return RunKeys(configuration, positional.Skip(1).ToArray());
        }

        WebApplication app;
        try
        {
            app = ProxyApplication.Build(configuration);
        }
        catch (InvalidOperationException ex)
        {
            return Fail($"cannot start: {ex.Message}");
        }
        catch (IOException ex)
        {
            return Fail($"cannot start: {ex.Message}");
        }

        await app.RunAsync().ConfigureAwait(false);
        return ExitOk;
    }

    private static int RunKeys(ProxyConfiguration configuration, string[] args)
    {
        if (configuration.Options.Backend.Software is not { } software)
        {
            return Fail("the keys command works on the software backend only");
        }

        using var backend = new SoftwareKeyBackend(software, NullLogger<SoftwareKeyBackend>.Instance, TimeProvider.System);
        switch (args)
        {
            case ["list"]:
                var configured = configuration.KeyIds.ToHashSet(StringComparer.Ordinal);
                foreach (var (id, versions, problem) in backend.ListKeyFiles())
                {
                    var state = problem is null ? $"versions {string.Join(',', versions)} (current {versions.Max()})" : "UNUSABLE: " + problem;
                    Console.Out.WriteLine($"{id}\t{(configured.Contains(id) ? "configured" : "not configured")}\t{state}");
                }

                foreach (var id in configured.Where(id => !File.Exists(Path.Combine(backend.KeysDirectory, id + ".json"))))
                {
                    Console.Out.WriteLine($"{id}\tconfigured\tno key material yet (created when the proxy starts)");
                }

                return ExitOk;
            case ["rotate", var keyId]:
                try
                {
                    var version = backend.Rotate(keyId);
                    Console.Out.WriteLine($"{keyId}: now at version {version}; earlier versions still decrypt");
                    return ExitOk;
                }
                catch (Exception ex) when (ex is InvalidOperationException or KeyFileException)
                {
                    return Fail(ex.Message);
                }

            default:
                return Fail("usage: xks-proxy keys list | xks-proxy keys rotate ID");
        }
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine("xks-proxy: " + message);
        return ExitConfigError;
    }
}
