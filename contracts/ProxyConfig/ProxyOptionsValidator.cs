using System.Text.RegularExpressions;
using Xks.Contracts.KeyCustody;
using Xks.Contracts.KeyWrap;

namespace Xks.Contracts.ProxyConfig;

/// <summary>Checks a whole <see cref="ProxyOptions"/> document and returns every problem found, not just the first.</summary>
public static partial class ProxyOptionsValidator
{
    public const int SpecMinPlaintextBytes = 4300;
    public const int SpecMinAadBytes = 8192;
    public const int MaxAadBytesWithTwoByteLength = 65535;
    public const int MaxUriPathLength = 128;
    public const string ApiPathSuffix = "/kms/xks/v1";

    /// <summary>Highest inline key version (the backend indexes versions in an array; a yearly rotation never gets near).</summary>
    public const int MaxKeyVersion = 100_000;

    /// <summary>Most PKCS#11 tokens one backend lists (ekmFleetDetails allows 10 entries).</summary>
    public const int MaxPkcs11Tokens = 10;

    /// <summary>Longest backend.software.sealing.rootLabelPrefix (a PKCS#11 label leaves room for '/r255').</summary>
    public const int MaxRootLabelPrefixLength = 120;

    [GeneratedRegex("^[A-Z2-7]{20,30}$")]
    private static partial Regex AccessKeyIdPattern();

    [GeneratedRegex("^[a-zA-Z0-9/+=]{43,64}$")]
    private static partial Regex SecretPattern();

    [GeneratedRegex("^[A-Za-z0-9._-]{1,128}$")]
    private static partial Regex KeyIdPattern();

    /// <summary>An externalKeyId this proxy accepts: 1 to 128 characters of A-Z a-z 0-9 . _ -</summary>
    public static bool IsValidKeyId(string keyId) => KeyIdPattern().IsMatch(keyId);

    [GeneratedRegex("^(/[A-Za-z0-9_-]+)*$")]
    private static partial Regex PrefixPattern();

    [GeneratedRegex("^[a-z0-9]+(-[a-z0-9]+)+$")]
    private static partial Regex RegionPattern();

    [GeneratedRegex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")]
    private static partial Regex NamePattern();

    /// <summary>
    /// A key version's HSM label, <c>&lt;keyId&gt;/v&lt;n&gt;</c> (n 1-9 digits, no leading zero): the rule of
    /// <c>Xks.Pkcs11.KeyLabels.TryParse</c>, written out here because Xks.Pkcs11 builds on this assembly.
    /// </summary>
    [GeneratedRegex("^.+/v[1-9][0-9]{0,8}$", RegexOptions.Singleline)]
    private static partial Regex VersionLabelPattern();

    /// <summary>Every problem of <paramref name="options"/>, in document order; empty when the proxy would serve it.</summary>
    /// <param name="options">A normalised document (<see cref="ProxyConfigYaml.Parse"/>).</param>
    /// <param name="mode">Where the document comes from (decides whether zero key stores is valid).</param>
    /// <param name="environment">Where referenced files and environment variables are looked up; default this machine's.</param>
    public static IReadOnlyList<string> Validate(ProxyOptions options, ConfigurationMode mode = ConfigurationMode.Standalone, ConfigEnvironment? environment = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var env = environment ?? ConfigEnvironment.Local;
        var problems = new List<string>();

        for (var i = 0; i < options.Regions.Count; i++)
        {
            if (!RegionPattern().IsMatch(options.Regions[i] ?? ""))
            {
                problems.Add($"regions[{i}]: '{options.Regions[i]}' is not an AWS region name (e.g. us-east-1)");
            }
        }

        ValidateServer(options.Server, env, problems);
        ValidateLimits(options.Limits, problems);

        if (options.Health.FleetSize < 1)
        {
            problems.Add($"health.fleetSize: must be at least 1 (got {options.Health.FleetSize})");
        }

        if (options.Health.CacheSeconds is < 1 or > 60)
        {
            problems.Add($"health.cacheSeconds: must be between 1 and 60, the spec allows results at most one minute old (got {options.Health.CacheSeconds})");
        }

        var pkcs11 = options.Backend.Software is null && options.Backend.Pkcs11 is not null;
        var roots = new RootSources(options.Backend.Software?.Sealing is not null, options.Backend.Software?.Shamir is not null);
        ValidateKeyStores(options.KeyStores, mode, pkcs11, roots, problems);
        ValidateBackend(options.Backend, options.Server, env, problems);
        return problems;
    }

    private static void ValidateServer(ServerOptions server, ConfigEnvironment env, List<string> problems)
    {
        if (!System.Net.IPAddress.TryParse(server.Address, out _))
        {
            problems.Add($"server.address: '{server.Address}' is not an IP address");
        }

        if (server.Port is < 0 or > 65535)
        {
            problems.Add($"server.port: {server.Port} is not a TCP port");
        }

        if (server.MetricsPort is < 0 or > 65535)
        {
            problems.Add($"server.metricsPort: {server.MetricsPort} is not a TCP port (0 turns metrics off)");
        }
        else if (server.MetricsPort != 0 && server.MetricsPort == server.Port)
        {
            problems.Add("server.metricsPort: must differ from server.port");
        }

        if (server.MaxConnections is < 1 or > 1_000_000)
        {
            problems.Add($"server.maxConnections: {server.MaxConnections} is not from 1 to 1000000");
        }

        if (server.ReloadIntervalSeconds is <= 0 or > 300)
        {
            problems.Add($"server.reloadIntervalSeconds: must be greater than 0 and at most 300 (got {server.ReloadIntervalSeconds})");
        }

        if (server.Tls is { } tls)
        {
            RequireFile(tls.CertificateFile, "server.tls.certificateFile", env, problems);
            RequireFile(tls.PrivateKeyFile, "server.tls.privateKeyFile", env, problems);
            if (tls.ClientCertificate is { } mtls)
            {
                RequireFile(mtls.CaFile, "server.tls.clientCertificate.caFile", env, problems);
                if (mtls.AllowedSubjects.Count == 0 || mtls.AllowedSubjects.Any(string.IsNullOrWhiteSpace))
                {
                    problems.Add("server.tls.clientCertificate.allowedSubjects: list at least one non-empty subject name (e.g. cks.kms.us-east-1.amazonaws.com)");
                }
            }
        }
    }

    private static void RequireFile(string path, string field, ConfigEnvironment env, List<string> problems)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            problems.Add($"{field}: required");
        }
        else if (!env.FileExists(path))
        {
            problems.Add($"{field}: file '{path}' does not exist");
        }
    }

    private static void ValidateLimits(LimitsOptions limits, List<string> problems)
    {
        if (limits.MaxPlaintextBytes < SpecMinPlaintextBytes)
        {
            problems.Add($"limits.maxPlaintextBytes: must be at least {SpecMinPlaintextBytes}, the spec's minimum (got {limits.MaxPlaintextBytes})");
        }

        if (limits.MaxAadBytes is < SpecMinAadBytes or > MaxAadBytesWithTwoByteLength)
        {
            problems.Add($"limits.maxAadBytes: must be between {SpecMinAadBytes} and {MaxAadBytesWithTwoByteLength} (got {limits.MaxAadBytes})");
        }

        if (limits.RequestsPerSecondPerKeyStore < 0)
        {
            problems.Add($"limits.requestsPerSecondPerKeyStore: must be 0 (unlimited) or positive (got {limits.RequestsPerSecondPerKeyStore})");
        }
    }

    private static void ValidateKeyStores(List<KeyStoreOptions> keyStores, ConfigurationMode mode, bool pkcs11, RootSources roots, List<string> problems)
    {
        // A Vault without KeySets yet renders no key store: valid in cluster mode, where more arrive through the Secret.
        if (keyStores.Count == 0 && mode == ConfigurationMode.Standalone)
        {
            problems.Add("keyStores: configure at least one key store");
        }

        var prefixes = new Dictionary<string, int>(StringComparer.Ordinal);
        var names = new Dictionary<string, int>(StringComparer.Ordinal);
        var accessKeys = new Dictionary<string, string>(StringComparer.Ordinal);
        var keyIds = new Dictionary<string, string>(StringComparer.Ordinal);

        for (var s = 0; s < keyStores.Count; s++)
        {
            var store = keyStores[s];
            var at = $"keyStores[{s}]";
            if (store is null)
            {
                problems.Add($"{at}: empty entry");
                continue;
            }

            if (!NamePattern().IsMatch(store.Name ?? ""))
            {
                problems.Add($"{at}.name: '{store.Name}' must be 1-63 characters of a-z, 0-9 and '-', starting and ending with a letter or digit");
            }
            else if (!names.TryAdd(store.Name!, s))
            {
                problems.Add($"{at}.name: '{store.Name}' is also the name of keyStores[{names[store.Name!]}]");
            }

            var prefix = store.UriPathPrefix ?? "";
            if (!PrefixPattern().IsMatch(prefix))
            {
                problems.Add($"{at}.uriPathPrefix: '{prefix}' must be empty or '/'-separated segments of A-Z a-z 0-9 _ - (starting with '/', no trailing '/')");
            }
            else if (prefix.Length + ApiPathSuffix.Length > MaxUriPathLength)
            {
                problems.Add($"{at}.uriPathPrefix: '{prefix}{ApiPathSuffix}' is longer than {MaxUriPathLength} characters, the limit of XksProxyUriPath");
            }
            else if (!prefixes.TryAdd(prefix, s))
            {
                problems.Add($"{at}.uriPathPrefix: '{prefix}' is also the prefix of keyStores[{prefixes[prefix]}]");
            }

            if (store.Credentials.Count == 0)
            {
                problems.Add($"{at}.credentials: configure at least one SigV4 credential");
            }

            for (var c = 0; c < store.Credentials.Count; c++)
            {
                ValidateCredential(store.Credentials[c], $"{at}.credentials[{c}]", accessKeys, problems);
            }

            for (var k = 0; k < store.Keys.Count; k++)
            {
                ValidateKey(store.Keys[k], $"{at}.keys[{k}]", keyIds, pkcs11, roots, problems);
            }
        }
    }

    private static void ValidateCredential(CredentialOptions? credential, string at, Dictionary<string, string> accessKeys, List<string> problems)
    {
        if (credential is null)
        {
            problems.Add($"{at}: empty entry");
            return;
        }

        if (!AccessKeyIdPattern().IsMatch(credential.AccessKeyId ?? ""))
        {
            problems.Add($"{at}.accessKeyId: must be 20-30 characters of A-Z and 2-7");
        }
        else if (!accessKeys.TryAdd(credential.AccessKeyId!, at))
        {
            problems.Add($"{at}.accessKeyId: '{credential.AccessKeyId}' is already used by {accessKeys[credential.AccessKeyId!]}; an access key id must select exactly one secret");
        }

        var hasInline = !string.IsNullOrEmpty(credential.SecretAccessKey);
        var hasFile = !string.IsNullOrEmpty(credential.SecretAccessKeyFile);
        if (hasInline == hasFile)
        {
            problems.Add($"{at}: set exactly one of secretAccessKey and secretAccessKeyFile");
        }
        else if (hasInline && !SecretPattern().IsMatch(credential.SecretAccessKey!))
        {
            // Never echo the secret itself.
            problems.Add($"{at}.secretAccessKey: must be 43-64 characters of a-z A-Z 0-9 / + = (got {credential.SecretAccessKey!.Length} characters)");
        }
    }

    /// <summary>A SigV4 secret access key this proxy accepts: 43 to 64 characters of a-z A-Z 0-9 / + =</summary>
    public static bool IsValidSecret(string secret) => SecretPattern().IsMatch(secret);

    private static void ValidateKey(KeyOptions? key, string at, Dictionary<string, string> keyIds, bool pkcs11, RootSources roots, List<string> problems)
    {
        if (key is null)
        {
            problems.Add($"{at}: empty entry");
            return;
        }

        if (!KeyIdPattern().IsMatch(key.Id ?? ""))
        {
            problems.Add($"{at}.id: '{key.Id}' must be 1-128 characters of A-Z a-z 0-9 . _ -");
        }
        else if (!keyIds.TryAdd(key.Id!, at))
        {
            problems.Add($"{at}.id: '{key.Id}' is already configured at {keyIds[key.Id!]}; an externalKeyId must be unique on the proxy");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var usage in key.Usage ?? [])
        {
            if (usage is not ("ENCRYPT" or "DECRYPT"))
            {
                problems.Add($"{at}.usage: '{usage}' is not ENCRYPT or DECRYPT");
            }
            else if (!seen.Add(usage))
            {
                problems.Add($"{at}.usage: '{usage}' is listed twice");
            }
        }

        if (key.Authorization is { } auth)
        {
            CheckNonEmpty(auth.Principals, $"{at}.authorization.principals", problems);
            CheckNonEmpty(auth.ViaServices, $"{at}.authorization.viaServices", problems);
            CheckNonEmpty(auth.SourceVpcs, $"{at}.authorization.sourceVpcs", problems);
            CheckNonEmpty(auth.SourceVpces, $"{at}.authorization.sourceVpces", problems);
        }

        ValidateVersions(key.Versions ?? [], $"{at}.versions", pkcs11, roots, problems);
    }

    /// <summary>
    /// Key versions: numbered from 1, unique; with the software backend each carries a wrapped key (never quoted) in
    /// standard Base64, format 1 (60 bytes) or format 2 (73 bytes, <see cref="WrappedKey"/>), or — with
    /// <c>backend.software.sealing</c> only — format 3 (42 bytes, <see cref="SealedKey"/>), or — with
    /// <c>backend.software.shamir</c> only — format 4 (34 bytes, <see cref="DerivedKey"/>); with the PKCS#11 backend
    /// none (the material is the token's object).
    /// </summary>
    private static void ValidateVersions(List<KeyVersionOptions> versions, string at, bool pkcs11, RootSources roots, List<string> problems)
    {
        var numbers = new Dictionary<int, int>();
        for (var v = 0; v < versions.Count; v++)
        {
            var version = versions[v];
            if (version is null)
            {
                problems.Add($"{at}[{v}]: empty entry");
                continue;
            }

            if (version.Version is < 1 or > MaxKeyVersion)
            {
                problems.Add($"{at}[{v}].version: must be between 1 and {MaxKeyVersion} (got {version.Version})");
            }
            else if (!numbers.TryAdd(version.Version, v))
            {
                problems.Add($"{at}[{v}].version: {version.Version} is also the version of {at}[{numbers[version.Version]}]");
            }

            var material = version.WrappedMaterial ?? "";
            if (pkcs11)
            {
                if (material.Length > 0)
                {
                    problems.Add($"{at}[{v}].wrappedMaterial: not allowed with the pkcs11 backend (the version is the token's object '<id>/v{version.Version}')");
                }
            }
            else if (material.Length == 0)
            {
                problems.Add($"{at}[{v}].wrappedMaterial: required");
            }
            else if (IsSealedBase64(material, out var sealedProblem))
            {
                if (sealedProblem is not null)
                {
                    problems.Add($"{at}[{v}].wrappedMaterial: {sealedProblem}");
                }
                else if (!roots.Sealing)
                {
                    problems.Add($"{at}[{v}].wrappedMaterial: sealed by the HSM (format 3), which needs backend.software.sealing (no master key unwraps it)");
                }
            }
            else if (IsDerivedBase64(material, out var derivedProblem))
            {
                if (derivedProblem is not null)
                {
                    problems.Add($"{at}[{v}].wrappedMaterial: {derivedProblem}");
                }
                else if (!roots.Shamir)
                {
                    problems.Add($"{at}[{v}].wrappedMaterial: derived from a Shamir root key (format 4), which needs backend.software.shamir (no master key unwraps it; only an unsealed proxy derives it)");
                }
            }
            else if (material.Length is not (WrappedKey.Format1Base64Length or WrappedKey.Format2Base64Length) || !WrappedKey.IsWellFormed(material))
            {
                problems.Add($"{at}[{v}].wrappedMaterial: must be standard Base64 of a wrapped key: {WrappedKey.Format2Size} bytes, {WrappedKey.Format2Base64Length} characters (format 2) or {WrappedKey.Format1Size} bytes, {WrappedKey.Format1Base64Length} characters (format 1) (got {material.Length} characters)");
            }
        }
    }

    /// <summary>
    /// Whether <paramref name="material"/> is the Base64 of a format-3 blob (<see cref="SealedKey.Base64Length"/>
    /// characters starting with the format byte); <paramref name="problem"/> then says what is wrong with it, or null.
    /// </summary>
    private static bool IsSealedBase64(string material, out string? problem)
    {
        problem = null;
        Span<byte> blob = stackalloc byte[SealedKey.Size + 3];
        if (material.Length != SealedKey.Base64Length || !Convert.TryFromBase64String(material, blob, out var length) || !SealedKey.IsSealed(blob[..length]))
        {
            return false;
        }

        if (SealedKey.Problem(blob[..length]) is { } why)
        {
            problem = $"must be standard Base64 of a sealed key ({SealedKey.Size} bytes, {SealedKey.Base64Length} characters, format 3): it {why}";
        }

        return true;
    }

    /// <summary>
    /// Whether <paramref name="material"/> is the Base64 of a format-4 blob (<see cref="DerivedKey.Base64Length"/>
    /// characters starting with the format byte); <paramref name="problem"/> then says what is wrong with it, or null.
    /// </summary>
    private static bool IsDerivedBase64(string material, out string? problem)
    {
        problem = null;
        Span<byte> blob = stackalloc byte[DerivedKey.Size + 3];
        if (!DerivedKey.TryDecode(material, blob, out var length))
        {
            return false;
        }

        if (DerivedKey.Problem(blob[..length]) is { } why)
        {
            problem = $"must be standard Base64 of a derived key ({DerivedKey.Size} bytes, {DerivedKey.Base64Length} characters, format 4): it {why}";
        }

        return true;
    }

    private static void CheckNonEmpty(List<string> values, string at, List<string> problems)
    {
        for (var i = 0; i < values.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(values[i]))
            {
                problems.Add($"{at}[{i}]: empty value");
            }
        }
    }

    private static void ValidateBackend(BackendOptions backend, ServerOptions server, ConfigEnvironment env, List<string> problems)
    {
        if (backend.Software is null && backend.Pkcs11 is null)
        {
            problems.Add("backend: configure a key backend (software: { dataDir: ... } or pkcs11: { library: ..., tokens: [...] })");
            return;
        }

        if (backend.Software is not null && backend.Pkcs11 is not null)
        {
            problems.Add("backend: configure exactly one of software and pkcs11");
        }

        if (backend.Software is { } software)
        {
            if (string.IsNullOrWhiteSpace(software.DataDir))
            {
                problems.Add("backend.software.dataDir: required");
            }

            var masterKeyFile = software.MasterKeyFile;
            if (!string.IsNullOrWhiteSpace(masterKeyFile) && !env.FileExists(masterKeyFile))
            {
                problems.Add($"backend.software.masterKeyFile: file '{masterKeyFile}' does not exist (the proxy never creates it)");
            }

            if (software.Sealing is { } sealing)
            {
                ValidateSealing(sealing, software.CreateMissingKeys, env, problems);
            }

            if (software.Shamir is { } shamir)
            {
                ValidateShamir(shamir, software, server, problems);
            }
        }

        if (backend.Pkcs11 is { } pkcs11)
        {
            ValidatePkcs11(pkcs11, env, problems);
        }
    }

    /// <summary>The PKCS#11 backend: libraries present, 1-10 tokens each selected one way, one PIN source (never quoted), sane pool.</summary>
    private static void ValidatePkcs11(Pkcs11BackendOptions pkcs11, ConfigEnvironment env, List<string> problems)
    {
        const string at = "backend.pkcs11";
        if (string.IsNullOrWhiteSpace(pkcs11.Library))
        {
            problems.Add($"{at}.library: required (the PKCS#11 module, e.g. /usr/lib/softhsm/libsofthsm2.so)");
        }
        else if (!env.FileExists(pkcs11.Library))
        {
            problems.Add($"{at}.library: PKCS#11 library '{pkcs11.Library}' does not exist");
        }

        ValidateTokensAndPin(at, pkcs11.Library, pkcs11.Tokens, pkcs11.Pin, pkcs11.PinFile, pkcs11.PinEnvironmentVariable, env, problems);

        if (!Enum.TryParse<Pkcs11IvGeneration>(pkcs11.IvGeneration, ignoreCase: false, out _) || int.TryParse(pkcs11.IvGeneration, out _))
        {
            problems.Add($"{at}.ivGeneration: '{pkcs11.IvGeneration}' is not Proxy, HsmWritesIv or HsmAppendsIv");
        }

        var pool = pkcs11.SessionPool ?? new Pkcs11SessionPoolOptions();
        if (pool.MaxSessions is < 1 or > 1024)
        {
            problems.Add($"{at}.sessionPool.maxSessions: must be between 1 and 1024 (got {pool.MaxSessions})");
        }

        if (pool.WaitTimeoutMilliseconds is < 0 or > 10_000)
        {
            problems.Add($"{at}.sessionPool.waitTimeoutMilliseconds: must be between 0 and 10000 (got {pool.WaitTimeoutMilliseconds})");
        }

        if (string.IsNullOrWhiteSpace(pkcs11.HealthKeyLabel) || VersionLabelPattern().IsMatch(pkcs11.HealthKeyLabel))
        {
            problems.Add($"{at}.healthKeyLabel: must be a non-empty label that is not a key version's ('<id>/v<n>')");
        }

        if (pkcs11.RecoveryIntervalSeconds is < 1 or > 3600)
        {
            problems.Add($"{at}.recoveryIntervalSeconds: must be between 1 and 3600 (got {pkcs11.RecoveryIntervalSeconds})");
        }
    }

    /// <summary>
    /// backend.software.sealing: a root label prefix, a library present, 1-10 tokens each selected one way, one PIN
    /// source (never quoted); and createMissingKeys false, because every version comes sealed from the operator.
    /// </summary>
    private static void ValidateSealing(SoftwareSealingOptions sealing, bool createMissingKeys, ConfigEnvironment env, List<string> problems)
    {
        const string at = "backend.software.sealing";
        if (createMissingKeys)
        {
            problems.Add($"{at}: requires backend.software.createMissingKeys: false (the operator provides every key version, sealed by the HSM; the proxy creates none)");
        }

        if (string.IsNullOrWhiteSpace(sealing.RootLabelPrefix))
        {
            problems.Add($"{at}.rootLabelPrefix: required (the root keys are the token objects '<prefix>/r<n>')");
        }
        else if (sealing.RootLabelPrefix.Length > MaxRootLabelPrefixLength || sealing.RootLabelPrefix.Any(char.IsControl))
        {
            problems.Add($"{at}.rootLabelPrefix: must be at most {MaxRootLabelPrefixLength} characters without control characters");
        }

        if (string.IsNullOrWhiteSpace(sealing.Library))
        {
            problems.Add($"{at}.library: required (the PKCS#11 module, e.g. /usr/lib/softhsm/libsofthsm2.so)");
        }
        else if (!env.FileExists(sealing.Library))
        {
            problems.Add($"{at}.library: PKCS#11 library '{sealing.Library}' does not exist");
        }

        ValidateTokensAndPin(at, sealing.Library, sealing.Tokens, sealing.Pin, sealing.PinFile, sealing.PinEnvironmentVariable, env, problems);
    }

    /// <summary>
    /// backend.software.shamir: the only source of root keys (no masterKeyFile, no sealing), createMissingKeys false
    /// (the operator provides every version), a valid keyring (every problem, under its field), and an admin port that
    /// is a TCP port other than the XKS and metrics ports.
    /// </summary>
    private static void ValidateShamir(SoftwareShamirOptions shamir, SoftwareBackendOptions software, ServerOptions server, List<string> problems)
    {
        const string at = "backend.software.shamir";
        const string oneSource = "exactly one of masterKeyFile, sealing and shamir says where the root keys come from";
        if (!string.IsNullOrWhiteSpace(software.MasterKeyFile))
        {
            problems.Add($"{at}: cannot be combined with backend.software.masterKeyFile: {oneSource}");
        }

        if (software.Sealing is not null)
        {
            problems.Add($"{at}: cannot be combined with backend.software.sealing: {oneSource}");
        }

        if (software.CreateMissingKeys)
        {
            problems.Add($"{at}: requires backend.software.createMissingKeys: false (the operator provides every key version, derived from the Vault's root keys; the proxy creates none)");
        }

        if (shamir.Keyring is null)
        {
            problems.Add($"{at}.keyring: required (the Vault's root keys sealed under its unseal key)");
        }
        else
        {
            problems.AddRange(ShamirKeyring.Validate(shamir.Keyring).Select(p => $"{at}.keyring.{p}"));
        }

        if (shamir.AdminPort is < 1 or > 65535)
        {
            problems.Add($"{at}.adminPort: {shamir.AdminPort} is not a TCP port (1-65535)");
        }
        else if (shamir.AdminPort == server.Port)
        {
            problems.Add($"{at}.adminPort: must differ from server.port ({server.Port})");
        }
        else if (server.MetricsPort != 0 && shamir.AdminPort == server.MetricsPort)
        {
            problems.Add($"{at}.adminPort: must differ from server.metricsPort ({server.MetricsPort})");
        }
    }

    /// <summary>Where root keys other than a master key come from: an HSM (format 3 serves) and/or a Shamir keyring (format 4 serves).</summary>
    private readonly record struct RootSources(bool Sealing, bool Shamir);

    /// <summary>1-10 tokens each selected one way (label, slot or serial) and not twice, their own libraries present, and exactly one PIN source.</summary>
    private static void ValidateTokensAndPin(string at, string library, List<Pkcs11TokenOptions>? tokenList, string? pin, string? pinFile, string? pinEnvironmentVariable, ConfigEnvironment env, List<string> problems)
    {
        var tokens = tokenList ?? [];
        if (tokens.Count is < 1 or > MaxPkcs11Tokens)
        {
            problems.Add($"{at}.tokens: list 1 to {MaxPkcs11Tokens} tokens (got {tokens.Count})");
        }

        var selectors = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var t = 0; t < tokens.Count; t++)
        {
            var token = tokens[t];
            if (token is null)
            {
                problems.Add($"{at}.tokens[{t}]: empty entry");
                continue;
            }

            var given = (string.IsNullOrEmpty(token.Label) ? 0 : 1) + (token.Slot is null ? 0 : 1) + (string.IsNullOrEmpty(token.Serial) ? 0 : 1);
            if (given != 1)
            {
                problems.Add($"{at}.tokens[{t}]: set exactly one of label, slot and serial");
            }
            else
            {
                var tokenLibrary = string.IsNullOrWhiteSpace(token.Library) ? library : token.Library;
                var selector = $"{tokenLibrary}|{token.Label}|{token.Slot}|{token.Serial}";
                if (!selectors.TryAdd(selector, t))
                {
                    problems.Add($"{at}.tokens[{t}]: the same token as tokens[{selectors[selector]}]");
                }
            }

            if (token.Library is { } own && !string.IsNullOrWhiteSpace(own) && !env.FileExists(own))
            {
                problems.Add($"{at}.tokens[{t}].library: PKCS#11 library '{own}' does not exist");
            }
        }

        var pinSources = (string.IsNullOrEmpty(pin) ? 0 : 1) + (string.IsNullOrEmpty(pinFile) ? 0 : 1)
            + (string.IsNullOrEmpty(pinEnvironmentVariable) ? 0 : 1);
        if (pinSources != 1)
        {
            problems.Add($"{at}: set exactly one of pin, pinFile and pinEnvironmentVariable");
        }
        else if (!string.IsNullOrEmpty(pinFile) && !env.FileExists(pinFile))
        {
            problems.Add($"{at}.pinFile: file '{pinFile}' does not exist");
        }
        else if (!string.IsNullOrEmpty(pinEnvironmentVariable) && string.IsNullOrEmpty(env.GetEnvironmentVariable(pinEnvironmentVariable)))
        {
            problems.Add($"{at}.pinEnvironmentVariable: environment variable '{pinEnvironmentVariable}' is not set");
        }
    }
}
