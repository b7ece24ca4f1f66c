using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Xks.Contracts.ProxyConfig;
using Xks.Pkcs11;
using Xks.Proxy.Crypto.Pkcs11;
using Xks.Proxy.Crypto.Software;
using Xks.Proxy.Options;

namespace Xks.Proxy.Hosting;

/// <summary>
/// <c>xks-proxy keys list | create ID | rotate ID | disable ID | enable ID --config PATH</c>: key administration on
/// the configuration's backend, for standalone use. A running proxy picks every change up by itself (key files are
/// watched; HSM objects are looked up again). Keys whose versions the configuration lists (rendered by the operator)
/// belong to the operator and are refused. Exit codes: 0 done, 1 refused or failed, 2 bad usage or configuration.
/// Never prints key material or a PIN.
/// </summary>
public static class KeyAdminCommand
{
    public const int ExitRefused = 1;

    public const string Usage = """
        usage: xks-proxy keys list [--config PATH]          every key: versions, usage, state
               xks-proxy keys create ID [--config PATH]     a new key with version 1 (refused if it exists)
               xks-proxy keys rotate ID [--config PATH]     add a version; earlier versions still decrypt
               xks-proxy keys disable ID [--config PATH]    switch a key off in the backend: GetKeyMetadata reports
                                                            DISABLED, Encrypt and Decrypt answer InvalidStateException
               xks-proxy keys enable ID [--config PATH]     switch it on again
        A running proxy on the same configuration picks each change up within reloadIntervalSeconds.
        """;

    /// <summary>What the command line asked for, checked before any configuration is read.</summary>
    public sealed record Request(string Verb, string? KeyId);

    /// <summary>Parses the words after <c>keys</c>; null (with <paramref name="problem"/>) on bad usage.</summary>
    public static Request? Parse(IReadOnlyList<string> args, out string? problem)
    {
        problem = null;
        switch (args)
        {
            case ["list"]:
                return new Request("list", null);
            case ["create" or "rotate" or "disable" or "enable", var keyId]:
                if (!ProxyOptionsValidator.IsValidKeyId(keyId))
                {
                    problem = $"'{keyId}' is not a key id (1 to 128 characters of A-Z a-z 0-9 . _ -)";
                    return null;
                }

                return new Request(args[0], keyId);
            case ["create" or "rotate" or "disable" or "enable"]:
                problem = $"keys {args[0]} needs a key id\n{Usage}";
                return null;
            case []:
                problem = $"keys needs a subcommand\n{Usage}";
                return null;
            default:
                problem = $"unknown keys command '{string.Join(' ', args)}'\n{Usage}";
                return null;
        }
    }

    /// <summary>Runs <paramref name="request"/> on the backend of <paramref name="configuration"/>.</summary>
    public static int Run(ProxyConfiguration configuration, Request request, TextWriter output, TextWriter error)
    {
        if (configuration.Options.Backend.Software is { } software)
        {
            return RunSoftware(configuration, software, request, output, error);
        }

        if (configuration.Options.Backend.Pkcs11 is { Tokens: [var token, ..] } pkcs11)
        {
            // The first token: an HSM cluster replicates the objects to its other members.
            var target = new Pkcs11KeyAdministration.Target(
                string.IsNullOrWhiteSpace(token.Library) ? pkcs11.Library : token.Library,
                new TokenSelector(NonEmpty(token.Label), token.Slot, NonEmpty(token.Serial)),
                () => Pkcs11KeyBackend.ReadPin(pkcs11));
            return Pkcs11KeyAdministration.Run(configuration, target, request, output, error);
        }

        return Fail(error, ProxyCommandLine.ExitConfigError, "the configuration has no key backend the keys command knows");
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    private static int RunSoftware(ProxyConfiguration configuration, SoftwareBackendOptions options, Request request, TextWriter output, TextWriter error)
    {
        if (request.KeyId is { } inlineId && SoftwareKeyBackend.IsInline(configuration, inlineId))
        {
            return Fail(error, ExitRefused, $"key '{inlineId}' carries its versions in the configuration: change it there (in a cluster, the operator owns it)");
        }

        SoftwareKeyBackend backend;
        using var unsealer = options.Sealing is { } sealing ? new Pkcs11KeyUnsealer(sealing, NullLogger<Pkcs11KeyUnsealer>.Instance) : null;
        try
        {
            backend = new SoftwareKeyBackend(options, NullLogger<SoftwareKeyBackend>.Instance, TimeProvider.System, unsealer);
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException or UnauthorizedAccessException)
        {
            return Fail(error, ProxyCommandLine.ExitConfigError, $"software backend: {ex.Message}");
        }

        using (backend)
        {
            try
            {
                switch (request)
                {
                    case { Verb: "list" }:
                        WriteTable(output, ListSoftware(configuration, backend), pkcs11: false);
                        return ProxyCommandLine.ExitOk;
                    case { Verb: "create", KeyId: { } keyId }:
                        backend.Create(keyId);
                        output.WriteLine($"{keyId}: created with version 1{ConfiguredHint(configuration, keyId)}");
                        return ProxyCommandLine.ExitOk;
                    case { Verb: "rotate", KeyId: { } keyId }:
                        var version = backend.Rotate(keyId);
                        output.WriteLine($"{keyId}: now at version {version}; earlier versions still decrypt");
                        return ProxyCommandLine.ExitOk;
                    case { Verb: "disable" or "enable", KeyId: { } keyId }:
                        var enable = request.Verb == "enable";
                        var changed = backend.SetEnabled(keyId, enable);
                        output.WriteLine(changed
                            ? $"{keyId}: {request.Verb}d{(enable ? "" : " (GetKeyMetadata reports DISABLED; Encrypt and Decrypt are refused)")}"
                            : $"{keyId}: already {request.Verb}d");
                        if (enable && configuration.KeyStores.Any(s => s.TryGetKey(keyId, out var key) && !key.Enabled))
                        {
                            output.WriteLine($"{keyId}: note: the configuration still says enabled: false");
                        }

                        return ProxyCommandLine.ExitOk;
                    default:
                        return Fail(error, ProxyCommandLine.ExitConfigError, Usage);
                }
            }
            catch (Exception ex) when (ex is InvalidOperationException or KeyFileException or IOException or UnauthorizedAccessException)
            {
                return Fail(error, ExitRefused, ex.Message);
            }
        }
    }

    private static List<KeyRow> ListSoftware(ProxyConfiguration configuration, SoftwareKeyBackend backend)
    {
        var configured = ConfiguredKeys(configuration);
        var rows = new List<KeyRow>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        // Inline keys first: a key file of the same id is not what the proxy serves, so it is not listed.
        foreach (var state in backend.ListInlineKeys(configuration).Concat(backend.ListKeyFiles()))
        {
            var inline = SoftwareKeyBackend.IsInline(configuration, state.Id);
            if (!seen.Add(state.Id))
            {
                continue;
            }

            configured.TryGetValue(state.Id, out var key);
            rows.Add(Row(state.Id, state.Versions, key, inline ? "inline" : key is null ? "not-configured" : "configured", state.Enabled, state.Problem));
        }


        foreach (var (id, key) in configured.Where(p => !seen.Contains(p.Key)).OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            var note = configuration.Options.Backend.Software!.CreateMissingKeys
                ? "no key material yet (created when the proxy starts, or with 'keys create')"
                : "no key material (createMissingKeys: false; 'keys create' makes it)";
            rows.Add(new KeyRow(id, "-", UsageText(key.CanEncrypt, key.CanDecrypt), "missing", "configured", note));
        }

        rows.Sort((a, b) => string.CompareOrdinal(a.Id, b.Id));
        return rows;
    }

    private static KeyRow Row(string id, IReadOnlyList<int> versions, XksKey? key, string config, bool backendEnabled, string? problem)
    {
        if (problem is not null)
        {
            return new KeyRow(id, "-", key is null ? "-" : UsageText(key.CanEncrypt, key.CanDecrypt), "unusable", config, problem);
        }

        var configEnabled = key?.Enabled ?? true;
        var note = (backendEnabled, configEnabled) switch
        {
            (false, false) => "disabled in the backend and in the configuration",
            (false, true) => "disabled in the backend ('keys enable' switches it on)",
            (true, false) => "enabled: false in the configuration",
            _ => "",
        };
        return new KeyRow(id, VersionsText(versions), key is null ? "-" : UsageText(key.CanEncrypt, key.CanDecrypt),
            backendEnabled && configEnabled ? "enabled" : "disabled", config, note);
    }

    /// <summary>Every configured key by id (the first key store that names it).</summary>
    internal static Dictionary<string, XksKey> ConfiguredKeys(ProxyConfiguration configuration)
    {
        var configured = new Dictionary<string, XksKey>(StringComparer.Ordinal);
        foreach (var store in configuration.KeyStores)
        {
            foreach (var (id, key) in store.Keys)
            {
                configured.TryAdd(id, key);
            }
        }

        return configured;
    }

    /// <summary>Whether the configuration lists the key's versions (rendered by the operator, which owns the key).</summary>
    internal static bool HasListedVersions(ProxyConfiguration configuration, string keyId) =>
        configuration.Options.KeyStores.SelectMany(s => s.Keys).Any(k => k.Id == keyId && k.Versions is { Count: > 0 });

    internal static string ConfiguredHint(ProxyConfiguration configuration, string keyId) =>
        configuration.KeyIds.Contains(keyId, StringComparer.Ordinal)
            ? ""
            : "; it is not in the configuration yet: add '- id: " + keyId + "' to a key store's keys to serve it";

    internal static string VersionsText(IReadOnlyList<int> versions) =>
        versions.Count == 0 ? "-" : string.Join(',', versions.Order().Select(v => v.ToString(CultureInfo.InvariantCulture)));

    internal static string UsageText(bool canEncrypt, bool canDecrypt) => (canEncrypt, canDecrypt) switch
    {
        (true, true) => "ENCRYPT,DECRYPT",
        (true, false) => "ENCRYPT",
        (false, true) => "DECRYPT",
        _ => "-",
    };

    /// <summary>Aligned columns, the free-text note last (it may contain spaces).</summary>
    internal static void WriteTable(TextWriter output, IReadOnlyList<KeyRow> rows, bool pkcs11)
    {
        string[] header = pkcs11
            ? ["ID", "VERSIONS", "USAGE", "STATE", "CONFIG", "SENSITIVE", "EXTRACTABLE", "NOTE"]
            : ["ID", "VERSIONS", "USAGE", "STATE", "CONFIG", "NOTE"];
        var lines = new List<string[]> { header };
        lines.AddRange(rows.Select(r => pkcs11
            ? new[] { r.Id, r.Versions, r.Usage, r.State, r.Config, r.Sensitive ?? "-", r.Extractable ?? "-", r.Note }
            : new[] { r.Id, r.Versions, r.Usage, r.State, r.Config, r.Note }));
        var widths = Enumerable.Range(0, header.Length - 1).Select(i => lines.Max(l => l[i].Length)).ToArray();
        foreach (var line in lines)
        {
            var text = new StringBuilder();
            for (var i = 0; i < widths.Length; i++)
            {
                text.Append(line[i].PadRight(widths[i])).Append("  ");
            }

            output.WriteLine(text.Append(line[^1]).ToString().TrimEnd());
        }

        if (rows.Count == 0)
        {
            output.WriteLine("(no keys)");
        }
    }

    internal static int Fail(TextWriter error, int exitCode, string message)
    {
        error.WriteLine("xks-proxy: " + message);
        return exitCode;
    }

    /// <summary>One line of <c>keys list</c>.</summary>
    internal sealed record KeyRow(string Id, string Versions, string Usage, string State, string Config, string Note, string? Sensitive = null, string? Extractable = null);
}
