using System.Diagnostics;
using Xks.Testing;

namespace Xks.Proxy.Tests.Support;

/// <summary>What an external program printed and how it ended.</summary>
public sealed record ToolResult(string Command, int ExitCode, string StandardOutput, string StandardError)
{
    public override string ToString() =>
        $"$ {Command}\nexit code {ExitCode}\n--- stdout ---\n{StandardOutput}\n--- stderr ---\n{StandardError}";
}

/// <summary>
/// Finds and runs the external tools of the real-client tests (curl, openssl, python3 with botocore). A missing tool
/// FAILS the test with the install hint: these tests must never pass or skip silently (`make deps` installs them).
/// </summary>
public static class ExternalTool
{
    private static readonly Lazy<string?> PythonWithBotocore = new(FindPythonWithBotocore);

    /// <summary>The absolute path of <paramref name="name"/> on PATH, or a failed assertion saying how to install it.</summary>
    public static string Require(string name, string debianPackage)
    {
        var found = FindOnPath(name);
        if (found is null)
        {
            Assert.Fail($"'{name}' is not on PATH; this real-client test needs it. Install it with `make deps` (Debian package {debianPackage}).");
        }

        return found!;
    }

    /// <summary>A python3 that imports botocore: Debian's /usr/bin/python3 first (python3-botocore), then python3 on PATH.</summary>
    public static string RequirePythonWithBotocore()
    {
        var python = PythonWithBotocore.Value;
        if (python is null)
        {
            Assert.Fail("no python3 that can import botocore (tried /usr/bin/python3 and python3 on PATH); install it with `make deps` (Debian package python3-botocore).");
        }

        return python!;
    }

    public static async Task<ToolResult> RunAsync(string fileName, IEnumerable<string> arguments, TimeSpan? timeout = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var options = new ChildProcessOptions(fileName, [.. arguments]) { Environment = environment ?? new Dictionary<string, string>() };
        await using var process = ChildProcess.Start(options);
        if (!await process.WaitForExitAsync(timeout ?? TimeSpan.FromSeconds(30)))
        {
            await process.KillAsync();
            Assert.Fail($"{options.CommandLine} did not finish within {timeout ?? TimeSpan.FromSeconds(30)}\n--- stdout ---\n{process.StandardOutput}\n--- stderr ---\n{process.StandardError}");
        }

        return new ToolResult(options.CommandLine, process.ExitCode, process.StandardOutput, process.StandardError);
    }

    private static string? FindOnPath(string name)
    {
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(directory, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    private static string? FindPythonWithBotocore()
    {
        var candidates = new List<string>();
        if (File.Exists("/usr/bin/python3"))
        {
            candidates.Add("/usr/bin/python3");
        }

        if (FindOnPath("python3") is { } onPath)
        {
            candidates.Add(onPath);
        }

        foreach (var python in candidates)
        {
            var probe = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            probe.ArgumentList.Add("-c");
            probe.ArgumentList.Add("import botocore.auth, botocore.awsrequest, botocore.credentials");
            using var process = Process.Start(probe);
            if (process is null)
            {
                continue;
            }

            process.WaitForExit(20_000);
            if (process.HasExited && process.ExitCode == 0)
            {
                return python;
            }
        }

        return null;
    }
}
