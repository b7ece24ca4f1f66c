namespace Xks.Operator.Custody.Tests;

public sealed class ShamirCommandLineTests
{
    [Fact]
    public void Parse_FullInit_ReadsEveryOption()
    {
        var line = ShamirCommandLine.Parse(["shamir", "init", "--namespace", "team-a", "--vault", "xks", "--threshold", "3", "--shares", "5", "--out-dir", "shares", "--kubeconfig", "k"]);

        Assert.Empty(line.Problems);
        Assert.Equal(ShamirVerb.Init, line.Verb);
        Assert.Equal(("k", "team-a", "xks", 3, 5, "shares"), (line.Kubeconfig, line.Namespace, line.Vault, line.Threshold, line.Shares, line.OutDirectory));
    }

    [Fact]
    public void Parse_RotateRoot_ReadsEveryShareFileInOrder()
    {
        var line = ShamirCommandLine.Parse(["shamir", "rotate-root", "--namespace", "team-a", "--vault", "xks", "--share-file", "b.txt", "--share-file", "a.txt"]);

        Assert.Empty(line.Problems);
        Assert.Equal((ShamirVerb.RotateRoot, "team-a", "xks"), (line.Verb, line.Namespace, line.Vault));
        Assert.Equal(["b.txt", "a.txt"], line.ShareFiles);
    }

    public static TheoryData<string, string[], string> Refusals => new()
    {
        { "no subcommand", ["shamir"], "expected: shamir init" },
        { "rotate-root with one share", ["shamir", "rotate-root", "--namespace", "n", "--vault", "v", "--share-file", "a"], "needs a --share-file for each custodian taking part (at least 2)" },
        { "rotate-root with a share twice", ["shamir", "rotate-root", "--namespace", "n", "--vault", "v", "--share-file", "a", "--share-file", "a"], "a --share-file is given twice" },
        { "rotate-root with init's options", ["shamir", "rotate-root", "--namespace", "n", "--vault", "v", "--threshold", "2"], "shamir rotate-root: unknown option '--threshold'" },
        { "another subcommand", ["shamir", "rekey"], "expected: shamir init" },
        { "nothing given", ["shamir", "init"], "shamir init needs --namespace" },
        { "an unknown option", ["shamir", "init", "--pin", "1"], "shamir init: unknown option '--pin'" },
        { "a flag without its value", ["shamir", "init", "--vault"], "--vault needs a value" },
        { "a flag twice", ["shamir", "init", "--vault", "a", "--vault", "b"], "--vault is given twice" },
        { "a threshold of one", ["shamir", "init", "--namespace", "n", "--vault", "v", "--threshold", "1", "--shares", "3", "--out-dir", "d"], "the threshold must be 2 to the number of shares" },
        { "more needed than there are", ["shamir", "init", "--namespace", "n", "--vault", "v", "--threshold", "4", "--shares", "3", "--out-dir", "d"], "the threshold must be 2 to the number of shares" },
        { "more than 255 shares", ["shamir", "init", "--namespace", "n", "--vault", "v", "--threshold", "2", "--shares", "256", "--out-dir", "d"], "at most 255 shares" },
        { "a threshold that is not a number", ["shamir", "init", "--namespace", "n", "--vault", "v", "--threshold", "three", "--shares", "5", "--out-dir", "d"], "--threshold 'three' is not a whole number" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public void Parse_BadCommand_NamesTheProblem(string because, string[] args, string expected)
    {
        var line = ShamirCommandLine.Parse(args);

        Assert.True(line.Problems.Any(p => p.Contains(expected, StringComparison.Ordinal)), $"{because}: {string.Join(" | ", line.Problems)}");
    }

    [Theory]
    [InlineData(new[] { "shamir", "init" }, true)]
    [InlineData(new[] { "run" }, false)]
    [InlineData(new string[0], false)]
    public void IsShamirVerb_OnlyTheFirstArgument(string[] args, bool expected) =>
        Assert.Equal(expected, ShamirCommandLine.IsShamirVerb(args));
}
