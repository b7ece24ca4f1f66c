namespace Xks.Contracts.ProxyConfig;

/// <summary>
/// Where the files and environment variables a config names are looked up. The proxy validates against its own
/// machine (<see cref="Local"/>); the operator validates a config for pods that do not exist yet, whose files are
/// the Secrets it mounts (<see cref="Pod"/>), so validation itself stays a pure function of the document.
/// </summary>
public sealed record ConfigEnvironment(Func<string, bool> FileExists, Func<string, string?> GetEnvironmentVariable)
{
    /// <summary>This machine: File.Exists and the process environment.</summary>
    public static ConfigEnvironment Local { get; } = new(File.Exists, Environment.GetEnvironmentVariable);

    /// <summary>A pod the renderer lays out itself: every file it names is mounted, no environment variable is set.</summary>
    public static ConfigEnvironment Pod { get; } = new(static _ => true, static _ => null);
}
