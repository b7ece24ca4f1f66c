using Net.Pkcs11Interop.Common;
using Xks.Pkcs11;
using Xks.Proxy.Options;
using static Xks.Proxy.Hosting.KeyAdminCommand;

namespace Xks.Proxy.Hosting;

/// <summary>
/// The <c>keys</c> command on a PKCS#11 token: key versions are the token's AES objects labelled
/// <c>&lt;id&gt;/v&lt;n&gt;</c>, created inside the token (sensitive, not extractable) through
/// <see cref="Pkcs11KeyAdmin"/>; disable clears CKA_ENCRYPT and CKA_DECRYPT of every version (the proxy then reports
/// the key DISABLED), enable sets them from the configured usage again. Works on one token: the first of
/// <c>backend.pkcs11.tokens</c> (an HSM cluster replicates keys to its other members).
/// </summary>
internal static class Pkcs11KeyAdministration
{
    /// <summary>Where the keys live: the module, the token and the user PIN (read only when the session opens).</summary>
    public sealed record Target(string LibraryPath, TokenSelector Token, Func<Pkcs11Pin> Pin);

    public static int Run(ProxyConfiguration configuration, Target target, Request request, TextWriter output, TextWriter error)
    {
        if (request.KeyId is { } listedId && HasListedVersions(configuration, listedId))
        {
            return Fail(error, ExitRefused, $"key '{listedId}' has its versions listed in the configuration: change it there (in a cluster, the operator owns it)");
        }

        Pkcs11ModuleLease lease;
        try
        {
            lease = Pkcs11Modules.Acquire(target.LibraryPath);
        }
        catch (Pkcs11SetupException ex)
        {
            return Fail(error, ProxyCommandLine.ExitConfigError, ex.Message);
        }

        using (lease)
        {
            try
            {
                var slot = lease.FindToken(target.Token);
                using var session = Pkcs11ModuleLease.OpenUserSession(slot, target.Token, target.Pin(), target.LibraryPath);
                var admin = new Pkcs11KeyAdmin(session);
                var tokenInfo = slot.GetTokenInfo();
                var tokenName = $"{target.Token} (slot {slot.SlotId}, {tokenInfo.ManufacturerId.Trim()} {tokenInfo.Model.Trim()}, serial {tokenInfo.SerialNumber.Trim()})";
                return Execute(configuration, admin, tokenName, request, output, error);
            }
            catch (Pkcs11SetupException ex)
            {
                return Fail(error, ProxyCommandLine.ExitConfigError, ex.Message);
            }
            catch (Pkcs11Exception ex)
            {
                return Fail(error, ExitRefused, $"PKCS#11 library '{target.LibraryPath}', {target.Token}: {ex.Method} returned {ex.RV}");
            }
        }
    }

    private static int Execute(ProxyConfiguration configuration, Pkcs11KeyAdmin admin, string tokenName, Request request, TextWriter output, TextWriter error)
    {
        var configured = ConfiguredKeys(configuration);
        switch (request)
        {
            case { Verb: "list" }:
                output.WriteLine($"# {tokenName}");
                WriteTable(output, List(configuration, configured, admin.ListKeys()), pkcs11: true);
                return ProxyCommandLine.ExitOk;

            case { Verb: "create", KeyId: { } keyId }:
            {
                var existing = admin.ListVersions(keyId);
                if (existing.Count > 0)
                {
                    return Fail(error, ExitRefused, $"key '{keyId}' already exists on {tokenName} (versions {VersionsText([.. existing.Select(v => v.Version)])}); use 'keys rotate' to add a version");
                }

                var (canEncrypt, canDecrypt) = configured.TryGetValue(keyId, out var key) ? (key.CanEncrypt, key.CanDecrypt) : (true, true);
                var created = admin.EnsureVersion(keyId, 1, canEncrypt, canDecrypt);
                output.WriteLine($"{keyId}: created version 1 on {tokenName} ({Describe(created)}){ConfiguredHint(configuration, keyId)}");
                return ProxyCommandLine.ExitOk;
            }

            case { Verb: "rotate", KeyId: { } keyId }:
            {
                var existing = admin.ListVersions(keyId);
                if (existing.Count == 0)
                {
                    return Fail(error, ExitRefused, $"key '{keyId}' has no version on {tokenName}; 'keys create' makes version 1");
                }

                // The new version takes the current one's usage, so a disabled key stays disabled.
                var current = existing[^1];
                var next = admin.EnsureVersion(keyId, current.Version + 1, current.CanEncrypt, current.CanDecrypt);
                output.WriteLine($"{keyId}: now at version {next.Version} ({Describe(next)}); earlier versions still decrypt");
                return ProxyCommandLine.ExitOk;
            }

            case { Verb: "disable" or "enable", KeyId: { } keyId }:
            {
                var existing = admin.ListVersions(keyId);
                if (existing.Count == 0)
                {
                    return Fail(error, ExitRefused, $"key '{keyId}' has no version on {tokenName}");
                }

                var enable = request.Verb == "enable";
                var (canEncrypt, canDecrypt) = configured.TryGetValue(keyId, out var key) ? (key.CanEncrypt, key.CanDecrypt) : (true, true);
                var already = enable
                    ? existing.All(v => v.CanEncrypt == canEncrypt && v.CanDecrypt == canDecrypt)
                    : existing.All(v => v.IsDisabled);
                if (already)
                {
                    output.WriteLine($"{keyId}: already {request.Verb}d");
                    return ProxyCommandLine.ExitOk;
                }

                var changed = admin.SetEnabled(keyId, enable, canEncrypt, canDecrypt);
                output.WriteLine(enable
                    ? $"{keyId}: enabled ({changed} version object(s) allow {UsageText(canEncrypt, canDecrypt)} again)"
                    : $"{keyId}: disabled ({changed} version object(s) allow neither encrypt nor decrypt; GetKeyMetadata reports DISABLED)");
                if (enable && key is { Enabled: false })
                {
                    output.WriteLine($"{keyId}: note: the configuration still says enabled: false");
                }

                return ProxyCommandLine.ExitOk;
            }

            default:
                return Fail(error, ProxyCommandLine.ExitConfigError, Usage);
        }
    }

    private static List<KeyRow> List(ProxyConfiguration configuration, Dictionary<string, XksKey> configured, IReadOnlyDictionary<string, IReadOnlyList<HsmKeyVersion>> onToken)
    {
        var rows = new List<KeyRow>();
        foreach (var (id, versions) in onToken)
        {
            configured.TryGetValue(id, out var key);
            var listed = ListedVersions(configuration, id);
            var config = listed is not null ? "listed" : key is null ? "not-configured" : "configured";
            var problems = versions.Select(v => v.Problem).OfType<string>().ToList();
            var missing = listed?.Except(versions.Select(v => v.Version)).Order().ToList() ?? [];
            if (missing.Count > 0)
            {
                problems.Add($"version(s) {VersionsText(missing)} listed in the configuration are not on the token");
            }

            var disabledOnToken = versions.All(v => v.IsDisabled);
            var configEnabled = key?.Enabled ?? true;
            var note = problems.Count > 0 ? string.Join("; ", problems) : (disabledOnToken, configEnabled) switch
            {
                (true, false) => "disabled on the token and in the configuration",
                (true, true) => "disabled on the token ('keys enable' switches it on)",
                (false, false) => "enabled: false in the configuration",
                _ => "",
            };
            rows.Add(new KeyRow(
                id,
                VersionsText([.. versions.Select(v => v.Version)]),
                UsageText(versions.Any(v => v.CanEncrypt), versions.Any(v => v.CanDecrypt)),
                problems.Count > 0 ? "unusable" : !disabledOnToken && configEnabled ? "enabled" : "disabled",
                config,
                note,
                YesNoMixed(versions, v => v.Sensitive),
                YesNoMixed(versions, v => v.Extractable)));
        }

        foreach (var (id, key) in configured.Where(p => !onToken.ContainsKey(p.Key)))
        {
            rows.Add(new KeyRow(id, "-", UsageText(key.CanEncrypt, key.CanDecrypt), "missing", ListedVersions(configuration, id) is null ? "configured" : "listed",
                "no version on the token ('keys create' makes version 1)"));
        }

        rows.Sort((a, b) => string.CompareOrdinal(a.Id, b.Id));
        return rows;
    }

    private static string Describe(HsmKeyVersion version) =>
        $"{version.KeyType} {version.ValueLength * 8}-bit, {UsageText(version.CanEncrypt, version.CanDecrypt)}, " +
        $"{(version.Sensitive ? "sensitive" : "NOT sensitive")}, {(version.Extractable ? "EXTRACTABLE" : "not extractable")}";

    private static string YesNoMixed(IReadOnlyList<HsmKeyVersion> versions, Func<HsmKeyVersion, bool> flag) =>
        versions.All(flag) ? "yes" : versions.Any(flag) ? "mixed" : "no";

    private static List<int>? ListedVersions(ProxyConfiguration configuration, string keyId) =>
        configuration.Options.KeyStores.SelectMany(s => s.Keys).FirstOrDefault(k => k.Id == keyId && k.Versions is { Count: > 0 }) is { } key
            ? [.. key.Versions.Select(v => v.Version)]
            : null;
}
