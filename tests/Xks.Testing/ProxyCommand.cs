namespace Xks.Testing;

/// <summary>
/// The proxy's command line as a child process: <c>dotnet xks-proxy.dll ARGUMENTS</c> from the test output directory,
/// without the variables of this process that would choose its configuration or listener instead of the arguments.
/// </summary>
public static class ProxyCommand
{
    private static readonly string[] OverridingVariables = ["XKS_PROXY_CONFIG", "XKS_PROXY_CONFIG_SECRET", "KUBECONFIG", "ASPNETCORE_URLS"];

    /// <summary><c>xks-proxy ARGUMENTS</c> in <paramref name="workingDirectory"/>, with <paramref name="environment"/> on top.</summary>
    public static ChildProcessOptions Options(IEnumerable<string> arguments, string workingDirectory, IReadOnlyDictionary<string, string>? environment = null) =>
        DotnetApp.Command("xks-proxy", arguments, workingDirectory, environment) with { RemovedVariables = OverridingVariables };
}
