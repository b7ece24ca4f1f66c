using k8s;
using Xks.Contracts.KeyCustody;

namespace Xks.Operator.Backup;

/// <summary>Runs <c>xks-operator backup|restore|backup-key</c> (<see cref="BackupCommandLine"/>). Exit codes: 0 done, 1 refused or failed, 2 usage.</summary>
internal static class BackupCommand
{
    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        var line = BackupCommandLine.Parse(args);
        if (line.Problems.Count > 0)
        {
            await error.WriteLineAsync("xks-operator: " + string.Join("\n  - ", line.Problems) + "\n\n" + BackupCommandLine.Usage).ConfigureAwait(false);
            return 2;
        }

        try
        {
            return line.Verb switch
            {
                BackupVerb.Backup => await BackupAsync(line, output, cancellationToken).ConfigureAwait(false),
                BackupVerb.Restore => await RestoreAsync(line, output, cancellationToken).ConfigureAwait(false),
                _ => await KeyPairAsync(line, output).ConfigureAwait(false),
            };
        }
        catch (Exception ex) when (ex is BackupException or BundleException or IOException or UnauthorizedAccessException or ArgumentException or k8s.Autorest.HttpOperationException)
        {
            // The API server's status message only (never its whole body, nor Secret data): the reconcilers' own wording.
            var message = ex is k8s.Autorest.HttpOperationException ? "the API server answered " + Controllers.ApiErrors.Describe(ex) : ex.Message;
            await error.WriteLineAsync($"xks-operator {args[0]}: {message}").ConfigureAwait(false);
            return 1;
        }
    }

    private static async Task<int> BackupAsync(BackupCommandLine line, TextWriter output, CancellationToken cancellationToken)
    {
        var recipient = line.PassphraseFile is { } passphraseFile
            ? BundleRecipient.ForPassphrase(await ReadPassphraseAsync(passphraseFile, cancellationToken).ConfigureAwait(false))
            : BundleRecipient.ForPublicKey(await File.ReadAllTextAsync(line.KeyFile!, cancellationToken).ConfigureAwait(false));
        var snapshot = await VaultSnapshotReader.ReadAsync(Client(line), line.Namespace!, line.Vault!, cancellationToken).ConfigureAwait(false);
        var document = VaultBackupDocument.Serialize(snapshot, DateTimeOffset.UtcNow);
        byte[] bundle;
        try
        {
            bundle = BackupBundle.Seal(document, recipient, VaultBackupDocument.ContentType, DateTimeOffset.UtcNow);
        }
        finally
        {
            Array.Clear(document);
        }

        await WritePrivateAsync(line.BundleFile!, bundle, cancellationToken).ConfigureAwait(false);
        await output.WriteLineAsync(
            $"backed up Vault {line.Namespace}/{line.Vault} to {line.BundleFile} ({bundle.Length} bytes, sealed to {(line.PassphraseFile is null ? "the recipient key" : "the passphrase")}): " +
            $"{snapshot.Secrets.Count} Secret(s) ({string.Join(", ", snapshot.Secrets.Select(s => s.Metadata.Name).Order(StringComparer.Ordinal))}), " +
            $"{snapshot.CspAccounts.Count} CspAccount(s), {snapshot.KeySets.Count} KeySet(s), {snapshot.CloudKeys.Count} CloudKey(s)").ConfigureAwait(false);
        return 0;
    }

    private static async Task<int> RestoreAsync(BackupCommandLine line, TextWriter output, CancellationToken cancellationToken)
    {
        var opener = line.PassphraseFile is { } passphraseFile
            ? BundleOpener.WithPassphrase(await ReadPassphraseAsync(passphraseFile, cancellationToken).ConfigureAwait(false))
            : BundleOpener.WithPrivateKey(await File.ReadAllTextAsync(line.KeyFile!, cancellationToken).ConfigureAwait(false));
        using var opened = BackupBundle.Open(await File.ReadAllBytesAsync(line.BundleFile!, cancellationToken).ConfigureAwait(false), opener);
        if (opened.Info.ContentType != VaultBackupDocument.ContentType)
        {
            throw new BackupException($"the bundle holds {opened.Info.ContentType}, not a Vault backup ({VaultBackupDocument.ContentType})");
        }

        if (!VaultBackupDocument.TryParse(opened.Payload, out var contents, out var problem))
        {
            throw new BackupException(problem!);
        }

        var ns = line.Namespace ?? contents.Namespace;
        var steps = await VaultRestorer.RestoreAsync(Client(line), contents, ns, cancellationToken).ConfigureAwait(false);
        foreach (var step in steps)
        {
            await output.WriteLineAsync($"  {step.Kind} {ns}/{step.Name}: {step.Note}").ConfigureAwait(false);
        }

        await output.WriteLineAsync($"restored Vault {contents.Vault} (backed up from {contents.Namespace} at {contents.CreatedAt:yyyy-MM-dd HH:mm:ss}Z) into namespace {ns}: the operator adopts the key store and KMS keys named in spec.adopt").ConfigureAwait(false);
        return 0;
    }

    private static async Task<int> KeyPairAsync(BackupCommandLine line, TextWriter output)
    {
        var pair = BundleRecipientKeyPair.Generate();
        await WritePrivateAsync(line.PrivateKeyOut!, System.Text.Encoding.ASCII.GetBytes(pair.PrivateKeyPem), CancellationToken.None).ConfigureAwait(false);
        await File.WriteAllTextAsync(line.PublicKeyOut!, pair.PublicKeyPem).ConfigureAwait(false);
        await output.WriteLineAsync($"wrote {line.PublicKeyOut} (back up with --recipient) and {line.PrivateKeyOut} (restore with --identity; keep it offline)").ConfigureAwait(false);
        return 0;
    }

    private static async Task<string> ReadPassphraseAsync(string path, CancellationToken cancellationToken) =>
        (await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false)).TrimEnd('\r', '\n');

    /// <summary>Writes a file only its owner can read (0600), never following an existing file's wider mode.</summary>
    private static async Task WritePrivateAsync(string path, byte[] content, CancellationToken cancellationToken)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        await using (var stream = new FileStream(path, options))
        {
            await stream.WriteAsync(content, cancellationToken).ConfigureAwait(false);
        }

        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }

    private static Kubernetes Client(BackupCommandLine line) => Api.AdminClient.For(line.Kubeconfig);
}
