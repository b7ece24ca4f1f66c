namespace Xks.Operator.Backup.Tests;

public sealed class BackupCommandLineTests
{
    [Fact]
    public void Parse_Backup_ReadsEveryOption()
    {
        var line = BackupCommandLine.Parse(["backup", "--namespace", "team-a", "--vault", "xks", "--out", "b.bundle", "--passphrase-file", "p", "--kubeconfig", "k"]);

        Assert.Empty(line.Problems);
        Assert.Equal((BackupVerb.Backup, "team-a", "xks", "b.bundle", "p", (string?)null, "k"), (line.Verb, line.Namespace, line.Vault, line.BundleFile, line.PassphraseFile, line.KeyFile, line.Kubeconfig));
    }

    [Fact]
    public void Parse_RestoreWithIdentity_NeedsNoNamespace()
    {
        var line = BackupCommandLine.Parse(["restore", "--in", "b.bundle", "--identity", "private.pem"]);

        Assert.Empty(line.Problems);
        Assert.Equal((BackupVerb.Restore, "b.bundle", "private.pem", (string?)null), (line.Verb, line.BundleFile, line.KeyFile, line.Namespace));
    }

    public static TheoryData<string, string[], string> Wrong => new()
    {
        { "backup without its vault and file", ["backup", "--namespace", "n", "--passphrase-file", "p"], "backup needs --vault" },
        { "backup without a recipient", ["backup", "--namespace", "n", "--vault", "v", "--out", "o"], "exactly one of --passphrase-file and --recipient" },
        { "backup with both recipients", ["backup", "--namespace", "n", "--vault", "v", "--out", "o", "--passphrase-file", "p", "--recipient", "r"], "exactly one of --passphrase-file and --recipient" },
        { "restore takes --identity, not --recipient", ["restore", "--in", "b", "--recipient", "r"], "unknown option '--recipient'" },
        { "restore without its file", ["restore", "--passphrase-file", "p"], "restore needs --in" },
        { "a flag without its value", ["restore", "--in"], "--in needs a value" },
        { "a flag twice", ["restore", "--in", "a", "--in", "b", "--passphrase-file", "p"], "--in is given twice" },
        { "backup-key without its files", ["backup-key"], "backup-key needs --public-key-out" },
    };

    [Theory]
    [MemberData(nameof(Wrong))]
    public void Parse_Wrong_SaysWhat(string because, string[] args, string expected)
    {
        var problems = BackupCommandLine.Parse(args).Problems;

        Assert.True(problems.Any(p => p.Contains(expected, StringComparison.Ordinal)), $"{because}: {string.Join("; ", problems)}");
    }

    [Theory]
    [InlineData(new[] { "backup" }, true)]
    [InlineData(new[] { "restore", "--in", "x" }, true)]
    [InlineData(new[] { "backup-key" }, true)]
    [InlineData(new[] { "run" }, false)]
    [InlineData(new[] { "--namespace", "backup" }, false)]
    [InlineData(new string[0], false)]
    public void IsBackupVerb_OnlyTheFirstArgumentCounts(string[] args, bool expected) =>
        Assert.Equal(expected, BackupCommandLine.IsBackupVerb(args));
}
