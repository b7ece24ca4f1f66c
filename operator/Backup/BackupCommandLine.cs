namespace Xks.Operator.Backup;

/// <summary>The backup subcommands.</summary>
public enum BackupVerb
{
    Backup,
    Restore,
    BackupKey,
}

/// <summary>
/// Parses <c>xks-operator backup|restore|backup-key …</c> (docs/key-custody.md). Every problem is collected, so a bad
/// command lists them all at once. Pure.
/// </summary>
public sealed record BackupCommandLine(
    BackupVerb Verb,
    string? Kubeconfig,
    string? Namespace,
    string? Vault,
    string? BundleFile,
    string? PassphraseFile,
    string? KeyFile,
    string? PublicKeyOut,
    string? PrivateKeyOut,
    IReadOnlyList<string> Problems)
{
    public const string Usage = """
        usage: xks-operator backup --namespace NS --vault NAME --out FILE (--passphrase-file F | --recipient PUBLIC.pem) [--kubeconfig PATH]
               xks-operator restore --in FILE (--passphrase-file F | --identity PRIVATE.pem) [--namespace NS] [--kubeconfig PATH]
               xks-operator backup-key --public-key-out PUBLIC.pem --private-key-out PRIVATE.pem

          backup      writes one encrypted bundle with everything needed to serve the Vault's keys again: the master key,
                      every key-material Secret, the KeySets' SigV4 credentials, the Secrets the specs name, and the
                      Vault, CspAccounts, KeySets and CloudKeys (with spec.adopt naming their key store and KMS key)
          restore     writes a bundle's objects into NS (default: the namespace it was taken from); refuses, writing
                      nothing, when a Secret exists there with other data; resources that exist are left as they are
          backup-key  makes a P-256 key pair: back up to the public key, keep the private key offline
          --passphrase-file F  a file holding the passphrase (at least 12 characters; Argon2id, m = 64 MiB, t = 3)
        """;

    public static bool IsBackupVerb(IReadOnlyList<string> args) =>
        args is { Count: > 0 } && args[0] is "backup" or "restore" or "backup-key";

    public static BackupCommandLine Parse(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var problems = new List<string>();
        var verb = args.Count > 0 ? args[0] switch
        {
            "backup" => BackupVerb.Backup,
            "restore" => BackupVerb.Restore,
            "backup-key" => BackupVerb.BackupKey,
            _ => (BackupVerb?)null,
        } : null;
        if (verb is null)
        {
            return Empty(BackupVerb.Backup, ["expected backup, restore or backup-key"]);
        }

        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        string[] allowed = verb switch
        {
            BackupVerb.Backup => ["--kubeconfig", "--namespace", "--vault", "--out", "--passphrase-file", "--recipient"],
            BackupVerb.Restore => ["--kubeconfig", "--namespace", "--in", "--passphrase-file", "--identity"],
            _ => ["--public-key-out", "--private-key-out"],
        };
        for (var i = 1; i < args.Count; i++)
        {
            var flag = args[i];
            if (!allowed.Contains(flag))
            {
                problems.Add($"{args[0]}: unknown option '{flag}'");
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
        void Require(params string[] flags)
        {
            foreach (var flag in flags.Where(f => Value(f) is null))
            {
                problems.Add($"{args[0]} needs {flag}");
            }
        }

        var key = verb == BackupVerb.Backup ? Value("--recipient") : Value("--identity");
        switch (verb)
        {
            case BackupVerb.Backup:
                Require("--namespace", "--vault", "--out");
                break;
            case BackupVerb.Restore:
                Require("--in");
                break;
            default:
                Require("--public-key-out", "--private-key-out");
                break;
        }

        if (verb != BackupVerb.BackupKey && (Value("--passphrase-file") is null) == (key is null))
        {
            problems.Add($"{args[0]} needs exactly one of --passphrase-file and {(verb == BackupVerb.Backup ? "--recipient" : "--identity")}");
        }

        return new BackupCommandLine(verb.Value, Value("--kubeconfig"), Value("--namespace"), Value("--vault"), Value("--out") ?? Value("--in"),
            Value("--passphrase-file"), key, Value("--public-key-out"), Value("--private-key-out"), problems);
    }

    private static BackupCommandLine Empty(BackupVerb verb, IReadOnlyList<string> problems) =>
        new(verb, null, null, null, null, null, null, null, null, problems);
}
