using System.Globalization;

namespace Xks.Operator.Custody;

/// <summary>The custodians' ceremonies.</summary>
public enum ShamirVerb
{
    Init,
    RotateRoot,
}

/// <summary>
/// Parses <c>xks-operator shamir init|rotate-root …</c>, the custodians' ceremonies for a Shamir Vault
/// (docs/key-custody.md). Every problem is collected, so a bad command lists them all at once. Pure.
/// </summary>
public sealed record ShamirCommandLine(
    ShamirVerb Verb,
    string? Kubeconfig,
    string? Namespace,
    string? Vault,
    int Threshold,
    int Shares,
    string? OutDirectory,
    IReadOnlyList<string> ShareFiles,
    IReadOnlyList<string> Problems)
{
    public const string Usage = """
        usage: xks-operator shamir init --namespace NS --vault NAME --threshold K --shares N --out-dir DIR [--kubeconfig PATH]
               xks-operator shamir rotate-root --namespace NS --vault NAME --share-file F1 … --share-file Fk [--kubeconfig PATH]

          init  makes a Shamir Vault's root key and unseal key in this process, writes the keyring Secret <vault>-keyring
                (the root sealed under the unseal key) and one share file per custodian into DIR (mode 0600), then forgets
                both keys. Run it once, with the custodians present; hand each one share file and delete the files here.
                Nothing else ever holds the shares: k of them unseal the Vault's proxies (xks-proxy admin unseal).
          --threshold K  shares needed to unseal, 2 to N;  --shares N  custodians, K to 255
          rotate-root  with K custodians' shares: adds a new root to the keyring (the unsealed proxies open it with the
                unseal key they hold), rewraps every key version under it — the proxies keep serving the same keys —
                and retires the old root once the proxies serve only the rewrapped versions. Run again to resume.
        """;

    public static bool IsShamirVerb(IReadOnlyList<string> args) => args is { Count: > 0 } && args[0] == "shamir";

    public static ShamirCommandLine Parse(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        ShamirVerb? verb = args.Count < 2 ? null : args[1] switch
        {
            "init" => ShamirVerb.Init,
            "rotate-root" => ShamirVerb.RotateRoot,
            _ => null,
        };
        if (verb is null)
        {
            return new ShamirCommandLine(ShamirVerb.Init, null, null, null, 0, 0, null, [], ["expected: shamir init or shamir rotate-root"]);
        }

        var name = "shamir " + args[1];
        var problems = new List<string>();
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var shareFiles = new List<string>();
        string[] allowed = verb == ShamirVerb.Init
            ? ["--kubeconfig", "--namespace", "--vault", "--threshold", "--shares", "--out-dir"]
            : ["--kubeconfig", "--namespace", "--vault", "--share-file"];
        for (var i = 2; i < args.Count; i++)
        {
            var flag = args[i];
            if (!allowed.Contains(flag))
            {
                problems.Add($"{name}: unknown option '{flag}'");
                continue;
            }

            if (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                problems.Add($"{flag} needs a value");
                continue;
            }

            if (flag == "--share-file")
            {
                shareFiles.Add(args[++i]);
            }
            else if (!values.TryAdd(flag, args[++i]))
            {
                problems.Add($"{flag} is given twice");
            }
        }

        string? Value(string flag) => values.TryGetValue(flag, out var value) ? value : null;
        string[] required = verb == ShamirVerb.Init ? ["--namespace", "--vault", "--threshold", "--shares", "--out-dir"] : ["--namespace", "--vault"];
        foreach (var flag in required.Where(f => Value(f) is null))
        {
            problems.Add($"{name} needs {flag}");
        }

        if (verb == ShamirVerb.RotateRoot && shareFiles.Count < 2)
        {
            problems.Add($"{name} needs a --share-file for each custodian taking part (at least 2)");
        }

        if (shareFiles.Distinct(StringComparer.Ordinal).Count() != shareFiles.Count)
        {
            problems.Add("a --share-file is given twice");
        }

        var threshold = Number("--threshold");
        var shares = Number("--shares");
        if (threshold > 0 && shares > 0 && (threshold < 2 || shares > 255 || threshold > shares))
        {
            problems.Add($"--threshold {threshold} of --shares {shares}: the threshold must be 2 to the number of shares, and there are at most 255 shares");
        }

        return new ShamirCommandLine(verb.Value, Value("--kubeconfig"), Value("--namespace"), Value("--vault"), threshold, shares, Value("--out-dir"), shareFiles, problems);

        int Number(string flag)
        {
            if (Value(flag) is not { } text)
            {
                return 0;
            }

            if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0)
            {
                return value;
            }

            problems.Add($"{flag} '{text}' is not a whole number of 1 or more");
            return 0;
        }
    }
}
