using Xks.Contracts.ProxyConfig;

namespace Xks.Proxy.Options;

/// <summary>The result of reading a config document: a snapshot, or every problem that prevents one.</summary>
public sealed record ConfigurationLoadResult(ProxyConfiguration? Configuration, IReadOnlyList<string> Problems)
{
    public bool Succeeded => Configuration is not null;
}

/// <summary>Reads the YAML document, resolves relative paths against its folder, validates it and builds the snapshot.</summary>
public static class ProxyConfigurationLoader
{
    public const string ConfigEnvironmentVariable = "XKS_PROXY_CONFIG";

    public static ConfigurationLoadResult LoadFile(string path, ConfigurationOverrides? overrides = null)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return Fail($"config file '{path}': {ex.Message}");
        }

        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        return LoadText(text, directory, path, overrides: overrides);
    }

    /// <summary>
    /// Validates a document. <paramref name="sourcePath"/> is the file to watch (null for none);
    /// <paramref name="source"/> names the origin in logs (defaults to the path); <paramref name="overrides"/> (the
    /// command line's) are applied before validation and kept with the snapshot, so a reload applies them again.
    /// </summary>
    public static ConfigurationLoadResult LoadText(
        string yaml,
        string baseDirectory,
        string? sourcePath = null,
        ConfigurationMode mode = ConfigurationMode.Standalone,
        string? source = null,
        ConfigurationOverrides? overrides = null)
    {
        var parsed = ProxyConfigYaml.Parse(yaml);
        if (parsed.Options is not { } options)
        {
            return Fail(parsed.Problem!);
        }

        overrides?.ApplyTo(options);
        ResolvePaths(options, baseDirectory);
        var problems = new List<string>(ProxyOptionsValidator.Validate(options, mode));
        var secrets = ReadSecretFiles(options, problems);
        if (problems.Count > 0)
        {
            return new ConfigurationLoadResult(null, problems);
        }

        return new ConfigurationLoadResult(new ProxyConfiguration(options, sourcePath, file => secrets[file], source) { Overrides = overrides }, []);
    }

    private static ConfigurationLoadResult Fail(string problem) => new(null, [problem]);

    private static void ResolvePaths(ProxyOptions options, string baseDirectory)
    {
        string Resolve(string path) => string.IsNullOrWhiteSpace(path) ? path : Path.GetFullPath(path, baseDirectory);

        if (options.Server.Tls is { } tls)
        {
            tls.CertificateFile = Resolve(tls.CertificateFile);
            tls.PrivateKeyFile = Resolve(tls.PrivateKeyFile);
            if (tls.ClientCertificate is { } mtls)
            {
                mtls.CaFile = Resolve(mtls.CaFile);
            }
        }

        if (!string.IsNullOrWhiteSpace(options.Audit.File))
        {
            options.Audit.File = Resolve(options.Audit.File);
        }

        if (options.Backend.Software is { } software)
        {
            software.DataDir = Resolve(software.DataDir);
            if (!string.IsNullOrWhiteSpace(software.MasterKeyFile))
            {
                software.MasterKeyFile = Resolve(software.MasterKeyFile);
            }

            if (software.Sealing is { } sealing)
            {
                sealing.Library = Resolve(sealing.Library);
                foreach (var token in sealing.Tokens.Where(t => t is not null && !string.IsNullOrWhiteSpace(t.Library)))
                {
                    token.Library = Resolve(token.Library!);
                }

                if (!string.IsNullOrWhiteSpace(sealing.PinFile))
                {
                    sealing.PinFile = Resolve(sealing.PinFile);
                }
            }
        }

        if (options.Backend.Pkcs11 is { } pkcs11)
        {
            pkcs11.Library = Resolve(pkcs11.Library);
            foreach (var token in pkcs11.Tokens.Where(t => t is not null && !string.IsNullOrWhiteSpace(t.Library)))
            {
                token.Library = Resolve(token.Library!);
            }

            if (!string.IsNullOrWhiteSpace(pkcs11.PinFile))
            {
                pkcs11.PinFile = Resolve(pkcs11.PinFile);
            }
        }

        foreach (var credential in options.KeyStores.Where(s => s is not null).SelectMany(s => s.Credentials).Where(c => c is not null))
        {
            if (!string.IsNullOrEmpty(credential.SecretAccessKeyFile))
            {
                credential.SecretAccessKeyFile = Resolve(credential.SecretAccessKeyFile);
            }
        }
    }

    private static Dictionary<string, string> ReadSecretFiles(ProxyOptions options, List<string> problems)
    {
        var secrets = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var s = 0; s < options.KeyStores.Count; s++)
        {
            var store = options.KeyStores[s];
            if (store is null)
            {
                continue;
            }

            for (var c = 0; c < store.Credentials.Count; c++)
            {
                var file = store.Credentials[c]?.SecretAccessKeyFile;
                if (string.IsNullOrEmpty(file) || !string.IsNullOrEmpty(store.Credentials[c].SecretAccessKey) || secrets.ContainsKey(file))
                {
                    continue;
                }

                var at = $"keyStores[{s}].credentials[{c}].secretAccessKeyFile";
                try
                {
                    var secret = File.ReadAllText(file).Trim();
                    if (!ProxyOptionsValidator.IsValidSecret(secret))
                    {
                        problems.Add($"{at}: the file must hold 43-64 characters of a-z A-Z 0-9 / + = (it holds {secret.Length})");
                    }

                    secrets[file] = secret;
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    problems.Add($"{at}: cannot read '{file}': {ex.Message}");
                }
            }
        }

        return secrets;
    }
}
