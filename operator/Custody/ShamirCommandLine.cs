using System.Globalization;

namespace Xks.Operator.Custody;

/// <summary>
/// Parses <c>xks-operator shamir init …</c>, the custodians' ceremony for a Shamir Vault (docs/key-custody.md). Every
/// problem is collected, so a bad command lists them all at once. Pure.
/// </summary>
public sealed record ShamirCommandLine(
    string? Kubeconfig,
    string? Namespace,
    string? Vault,
    int Threshold,
    int Shares,
    string? OutDirectory,
    IReadOnlyList<string> Problems)
{
    public const string Usage = """
        usage: xks-operator shamir init --namespace NS --vault NAME --threshold K --shares N --out-dir DIR [--kubeconfig PATH]

          init  makes a Shamir Vault's root key and unseal key in this process, writes the keyring Secret <vault>-keyring
                (the root sealed under the unseal key) and one share file per custodian into DIR (mode 0600), then forgets
                both keys. Run it once, with the custodians present; hand each one share file and delete the files here.
                Nothing else ever holds the shares: k of them unseal the Vault's proxies (xks-proxy admin unseal).
          --threshold K  shares needed to unseal, 2 to N;  --shares N  custodians, K to 255
        """;

    public static bool IsShamirVerb(IReadOnlyList<string> args) => args is { Count: > 0 } && args[0] == "shamir";

    public static ShamirCommandLine Parse(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (args.Count < 2 || args[1] != "init")
        {
            return new ShamirCommandLine(null, null, null, 0, 0, null, ["expected: shamir init"]);
        }

        var problems = new List<string>();
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        string[] allowed = ["--kubeconfig", "--namespace", "--vault", "--threshold", "--shares", "--out-dir"];
        for (var i = 2; i < args.Count; i++)
        {
            var flag = args[i];
            if (!allowed.Contains(flag))
            {
                problems.Add($"shamir init: unknown option '{flag}'");
                continue;
            }

            if (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                problems.Add($"{flag} needs a value");
                continue;
            }

            if (!values.TryAdd(flag, args[++i]))
            {
                problems.Add($"{flag} is given twice");
            }
        }

        string? Value(string flag) => values.TryGetValue(flag, out var value) ? value : null;
        foreach (var flag in new[] { "--namespace", "--vault", "--threshold", "--shares", "--out-dir" }.Where(f => Value(f) is null))
        {
            problems.Add($"shamir init needs {flag}");
        }

        var threshold = Number("--threshold");
        var shares = Number("--shares");
        if (threshold > 0 && shares > 0 && (threshold < 2 || shares > 255 || threshold > shares))
        {
            problems.Add($"--threshold {threshold} of --shares {shares}: the threshold must be 2 to the number of shares, and there are at most 255 shares");
        }

        return new ShamirCommandLine(Value("--kubeconfig"), Value("--namespace"), Value("--vault"), threshold, shares, Value("--out-dir"), problems);

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
