namespace Xks.Testing;

/// <summary>
/// A .NET app whose build output sits next to the tests (the test project references its project), run as
/// <c>dotnet APP.dll ARGUMENTS</c> on the dotnet host the tests run on.
/// </summary>
public static class DotnetApp
{
    /// <summary>The dotnet host: DOTNET_HOST_PATH (set by <c>dotnet test</c>), else this process when it is dotnet, else dotnet on PATH.</summary>
    public static string Host
    {
        get
        {
            var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
            if (!string.IsNullOrEmpty(dotnet) && File.Exists(dotnet))
            {
                return dotnet;
            }

            return Environment.ProcessPath is { } current && Path.GetFileNameWithoutExtension(current) == "dotnet" ? current : "dotnet";
        }
    }

    /// <summary>
    /// <c>dotnet BASE/ASSEMBLY.dll ARGUMENTS</c> (DOTNET_NOLOGO set) for <see cref="ChildProcess.Start"/>; throws when
    /// the app or its runtimeconfig.json is missing from the test output directory.
    /// </summary>
    public static ChildProcessOptions Command(string assemblyName, IEnumerable<string> arguments, string? workingDirectory = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        var dll = Path.Combine(AppContext.BaseDirectory, assemblyName + ".dll");
        var runtimeConfig = Path.Combine(AppContext.BaseDirectory, assemblyName + ".runtimeconfig.json");
        if (!File.Exists(dll) || !File.Exists(runtimeConfig))
        {
            throw new InvalidOperationException($"{dll} or {runtimeConfig} is missing: the test project must reference the app's project so its build output is copied next to the tests");
        }

        var variables = new Dictionary<string, string>(environment ?? new Dictionary<string, string>()) { ["DOTNET_NOLOGO"] = "1" };
        return new ChildProcessOptions(Host, [dll, .. arguments]) { WorkingDirectory = workingDirectory, Environment = variables };
    }
}
