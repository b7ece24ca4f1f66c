using Xks.Testing;

namespace Xks.Operator.Support.Tests;

/// <summary>The operator's administrative commands (backup, restore, shamir init …) run as a user would, to their end.</summary>
internal static class OperatorCli
{
    /// <summary>Runs <c>xks-operator ARGUMENTS --kubeconfig …</c> (the kubeconfig left out for backup-key): exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(params string[] arguments)
    {
        string[] cluster = arguments[0] == "backup-key" ? [] : ["--kubeconfig", LocalCluster.Instance.KubeconfigPath];
        using var process = ChildProcess.Start(DotnetApp.Command("xks-operator", [.. arguments, .. cluster]));
        Assert.True(await process.WaitForExitAsync(TimeSpan.FromSeconds(120)), "xks-operator " + arguments[0] + " did not finish within 120 s:\n" + process.Output);
        return (process.ExitCode, process.Output);
    }
}
