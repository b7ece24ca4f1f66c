using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Xks.Proxy.Cluster;
using Xks.Proxy.Options;

namespace Xks.Proxy.Hosting;

/// <summary>
/// <c>xks-proxy [serve|validate|keys …] [--config PATH | --config-secret [NS/]NAME]</c>, and
/// <c>xks-proxy admin unseal|seal-status --url URL</c> (<see cref="AdminCommand"/>, no configuration). The
/// config path comes from <c>--config</c> or XKS_PROXY_CONFIG (standalone mode); the Secret from
/// <c>--config-secret</c> or XKS_PROXY_CONFIG_SECRET (cluster mode). Exit codes: 0 ok, 1 a keys command refused or
/// failed (<see cref="KeyAdminCommand"/>), 2 bad usage or configuration.
/// </summary>
public static class ProxyCommandLine
{
    public const int ExitOk = 0;
    public const int ExitConfigError = 2;
    public const string ConfigSecretEnvironmentVariable = "XKS_PROXY_CONFIG_SECRET";

    private const string Usage = """
        usage: xks-proxy [serve] [--config PATH]      run the XKS proxy from a YAML file (standalone mode)
               xks-proxy [serve] --config-secret [NAMESPACE/]NAME [--kubeconfig PATH] [--startup-timeout SECONDS]
                                                      run it from key proxy.yaml of a Kubernetes Secret, watched
                                                      for changes (cluster mode); namespace: the pod's own
               xks-proxy validate [--config PATH | --config-secret [NAMESPACE/]NAME]
                                                      check a configuration and list every problem
               xks-proxy keys list|create ID|rotate ID|disable ID|enable ID [--config PATH]
                                                      key administration on the configured backend (software or
                                                      PKCS#11); `xks-proxy keys --help` explains each
               xks-proxy admin unseal --url URL --share-file PATH | admin seal-status --url URL
                                                      a custodian unseals a proxy in Shamir mode through its unseal
                                                      API (kubectl port-forward); `xks-proxy admin --help` explains
        --config may also come from XKS_PROXY_CONFIG, --config-secret from XKS_PROXY_CONFIG_SECRET, --kubeconfig
        from KUBECONFIG (otherwise the pod's service account is used). In cluster mode the proxy waits up to
        --startup-timeout seconds (default 30) for a readable, valid configuration and otherwise exits with code 2.
        For running the config a pod would get outside the pod (every loaded version, either mode):
          --volume-root DIR    resolve every absolute file path of the config under DIR
                               (/var/run/xks/master-key/master.key -> DIR/var/run/xks/master-key/master.key)
          --address A          instead of server.address
          --port N             instead of server.port
          --metrics-port M     instead of server.metricsPort (0 = no metrics endpoint)
          --admin-port P       instead of backend.software.shamir.adminPort (the unseal API on 127.0.0.1)
        On SIGTERM the proxy stops at once, or with --drain-seconds N (0-60; the operator's pods use 5) first answers
        /readyz with 503 and keeps serving N seconds, so load balancers take it out before it stops accepting.
        In cluster mode a replica whose configuration the API server has not confirmed for --config-max-age seconds
        (default 300; 0 = never) fails closed: /readyz answers 503 and every XKS request DependencyTimeoutException.
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (args is ["admin", ..])
        {
            // A client of a running proxy: no configuration is read.
            return await AdminCommand.RunAsync(args[1..], Console.In, Console.Out, Console.Error).ConfigureAwait(false);
        }

        var positional = new List<string>();
        string? configPath = null;
        string? configSecret = null;
        string? kubeconfig = null;
        var startupTimeout = TimeSpan.FromSeconds(30);
        var drainDelay = TimeSpan.Zero;
        var configMaxAge = TimeSpan.FromMinutes(5);
        var overrides = new ConfigurationOverrides();
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--volume-root" when i + 1 < args.Length:
                    if (!Directory.Exists(args[++i]))
                    {
                        return Fail($"--volume-root: directory '{args[i]}' does not exist");
                    }

                    overrides = overrides with { VolumeRoot = Path.GetFullPath(args[i]) };
                    break;
                case "--address" when i + 1 < args.Length:
                    if (!System.Net.IPAddress.TryParse(args[++i], out _))
                    {
                        return Fail($"--address: '{args[i]}' is not an IP address");
                    }

                    overrides = overrides with { Address = args[i] };
                    break;
                case "--port" when i + 1 < args.Length:
                    if (!TryParsePort(args[++i], out var port) || port == 0)
                    {
                        return Fail($"--port: '{args[i]}' is not a TCP port (1-65535)");
                    }

                    overrides = overrides with { Port = port };
                    break;
                case "--metrics-port" when i + 1 < args.Length:
                    if (!TryParsePort(args[++i], out var metricsPort))
                    {
                        return Fail($"--metrics-port: '{args[i]}' is not a TCP port (0 turns metrics off)");
                    }

                    overrides = overrides with { MetricsPort = metricsPort };
                    break;
                case "--admin-port" when i + 1 < args.Length:
                    if (!TryParsePort(args[++i], out var adminPort) || adminPort == 0)
                    {
                        return Fail($"--admin-port: '{args[i]}' is not a TCP port (1-65535)");
                    }

                    overrides = overrides with { AdminPort = adminPort };
                    break;
                case "--config" or "-c" when i + 1 < args.Length:
                    configPath = args[++i];
                    break;
                case "--config-secret" when i + 1 < args.Length:
                    configSecret = args[++i];
                    break;
                case "--kubeconfig" when i + 1 < args.Length:
                    kubeconfig = args[++i];
                    break;
                case "--startup-timeout" when i + 1 < args.Length:
                    if (!double.TryParse(args[++i], NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) || seconds is < 0 or > 3600)
                    {
                        return Fail($"--startup-timeout: '{args[i]}' is not a number of seconds between 0 and 3600");
                    }

                    startupTimeout = TimeSpan.FromSeconds(seconds);
                    break;
                case "--drain-seconds" when i + 1 < args.Length:
                    if (!double.TryParse(args[++i], NumberStyles.Float, CultureInfo.InvariantCulture, out var drain) || drain is < 0 or > 60)
                    {
                        return Fail($"--drain-seconds: '{args[i]}' is not a number of seconds between 0 and 60");
                    }

                    drainDelay = TimeSpan.FromSeconds(drain);
                    break;
                case "--config-max-age" when i + 1 < args.Length:
                    if (!double.TryParse(args[++i], NumberStyles.Float, CultureInfo.InvariantCulture, out var maxAge) || maxAge is < 0 or > 86400 || maxAge is > 0 and < 1)
                    {
                        return Fail($"--config-max-age: '{args[i]}' is not a number of seconds from 1 to 86400 (0 turns the bound off)");
                    }

                    configMaxAge = TimeSpan.FromSeconds(maxAge);
                    break;
                case "--help" or "-h":
                    Console.Out.WriteLine(positional is ["keys", ..] ? KeyAdminCommand.Usage : Usage);
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

        KeyAdminCommand.Request? keysRequest = null;
        if (command == "keys" && (keysRequest = KeyAdminCommand.Parse(positional.Skip(1).ToArray(), out var keysProblem)) is null)
        {
            return Fail(keysProblem!);
        }

        if (configPath is not null && configSecret is not null)
        {
            return Fail("pass either --config (standalone mode) or --config-secret (cluster mode), not both");
        }

        if (configPath is null && configSecret is null)
        {
            configPath = NonEmpty(Environment.GetEnvironmentVariable(ProxyConfigurationLoader.ConfigEnvironmentVariable));
            configSecret = NonEmpty(Environment.GetEnvironmentVariable(ConfigSecretEnvironmentVariable));
            if (configPath is not null && configSecret is not null)
            {
                return Fail($"both {ProxyConfigurationLoader.ConfigEnvironmentVariable} and {ConfigSecretEnvironmentVariable} are set; pass --config or --config-secret to choose");
            }
        }

        if (configSecret is not null)
        {
            return command == "keys"
                ? Fail("the keys commands work on a configuration file (--config): in cluster mode the operator owns key material")
                : await RunClusterAsync(command, configSecret, kubeconfig, startupTimeout, drainDelay, configMaxAge, overrides).ConfigureAwait(false);
        }

        if (string.IsNullOrWhiteSpace(configPath))
        {
            return Fail($"no configuration: pass --config PATH or --config-secret [NAMESPACE/]NAME, or set {ProxyConfigurationLoader.ConfigEnvironmentVariable} or {ConfigSecretEnvironmentVariable}\n{Usage}");
        }

        var loaded = ProxyConfigurationLoader.LoadFile(configPath, overrides.IsEmpty ? null : overrides);
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
                return KeyAdminCommand.Run(configuration, keysRequest!, Console.Out, Console.Error);
        }

        WebApplication app;
        try
        {
            app = ProxyApplication.Build(configuration, configureServices: services => services.AddSingleton(new DrainOptions(drainDelay)));
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

    private static async Task<int> RunClusterAsync(string command, string configSecret, string? kubeconfig, TimeSpan startupTimeout, TimeSpan drainDelay, TimeSpan configMaxAge, ConfigurationOverrides overrides)
    {
        ClusterModeOptions options;
        try
        {
            var kubernetes = KubernetesConnection.Build(kubeconfig);
            if (!ConfigSecretReference.TryParse(configSecret, () => KubernetesConnection.DefaultNamespace(kubernetes), out var secret, out var problem))
            {
                return Fail($"--config-secret: {problem}");
            }

            options = new ClusterModeOptions
            {
                Secret = secret,
                Kubernetes = kubernetes,
                StartupTimeout = command == "validate" ? TimeSpan.Zero : startupTimeout,
                DrainDelay = drainDelay,
                ConfigMaxAge = configMaxAge,
                Overrides = overrides.IsEmpty ? null : overrides,
            };
        }
        catch (InvalidOperationException ex)
        {
            return Fail(ex.Message);
        }

        if (command == "validate")
        {
            using var client = new k8s.Kubernetes(options.Kubernetes);
            try
            {
                var initial = await ConfigSecretSource.WaitForFirstAsync(client, options, NullLogger.Instance, TimeProvider.System, CancellationToken.None).ConfigureAwait(false);
                Console.Out.WriteLine($"{options.Secret.Description}: valid ({initial.Configuration.KeyStores.Count} key store(s), {initial.Configuration.KeyIds.Count} key(s))");
                return ExitOk;
            }
            catch (ClusterStartException ex)
            {
                return await ReportProblemsAsync(options.Secret.Description, ex.Problems).ConfigureAwait(false);
            }
        }

        WebApplication app;
        try
        {
            app = await ClusterProxyApplication.BuildAsync(options).ConfigureAwait(false);
        }
        catch (ClusterStartException ex)
        {
            return Fail($"cannot start: {ex.Message}");
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException)
        {
            return Fail($"cannot start: {ex.Message}");
        }

        await app.RunAsync().ConfigureAwait(false);
        return ExitOk;
    }

    private static async Task<int> ReportProblemsAsync(string source, IReadOnlyList<string> problems)
    {
        await Console.Error.WriteLineAsync($"xks-proxy: configuration {source} is invalid or unreadable ({problems.Count} problem(s)):").ConfigureAwait(false);
        foreach (var problem in problems)
        {
            await Console.Error.WriteLineAsync("  - " + problem).ConfigureAwait(false);
        }

        return ExitConfigError;
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    private static bool TryParsePort(string text, out int port) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out port) && port is >= 0 and <= 65535;

    private static int Fail(string message)
    {
        Console.Error.WriteLine("xks-proxy: " + message);
        return ExitConfigError;
    }
}
