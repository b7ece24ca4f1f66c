using System.Diagnostics;

namespace Xks.Proxy.Benchmarks;

/// <summary>
/// The run's SoftHSM2 token, set up by the project's own <c>scripts/softhsm-token.sh</c> (what <c>make run
/// BACKEND=pkcs11</c> uses) in a directory of the run: DIRECTORY/softhsm2.conf, DIRECTORY/tokens, a random user PIN
/// in DIRECTORY/user-pin (0600), and the configured keys generated inside the token by <c>xks-proxy keys create</c>.
/// Every process that uses it gets <see cref="Environment"/> (SOFTHSM2_CONF).
/// </summary>
internal sealed class SoftHsmToken(string directory, string libraryPath)
{
    public const string Label = "bench";

    private static readonly string[] LibraryCandidates =
    [
        "/usr/lib/softhsm/libsofthsm2.so",
        "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
        "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
    ];

    public string ConfigFile { get; } = Path.Combine(directory, "softhsm2.conf");

    public string PinFile { get; } = Path.Combine(directory, "user-pin");

    public string LibraryPath { get; } = libraryPath;

    public IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string> { ["SOFTHSM2_CONF"] = ConfigFile };

    /// <summary>Where the token will live; nothing is created until <see cref="PrepareAsync"/>.</summary>
    public static SoftHsmToken In(string directory)
    {
        var library = LibraryCandidates.FirstOrDefault(File.Exists)
            ?? throw new BenchmarkException($"no SoftHSM2 library at {string.Join(" or ", LibraryCandidates)} (run `make deps`)");
        return new SoftHsmToken(Path.GetFullPath(directory), library);
    }

    /// <summary>Runs scripts/softhsm-token.sh for <paramref name="proxyConfig"/>: the token, then every key it configures.</summary>
    public async Task PrepareAsync(string proxyConfig, CancellationToken cancellation)
    {
        var script = Path.Combine(BenchmarkReport.FindRepositoryRoot(), "scripts", "softhsm-token.sh");
        var info = new ProcessStartInfo(script) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(proxyConfig);
        info.Environment["XKS_SOFTHSM_DIR"] = Path.GetDirectoryName(ConfigFile)!;
        info.Environment["XKS_SOFTHSM_LABEL"] = Label;
        info.Environment["XKS_PROXY"] = $"dotnet {ProxyConfigFile.ProxyDll}";
        using var process = Process.Start(info) ?? throw new BenchmarkException($"could not start {script}");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellation);
        var stderr = process.StandardError.ReadToEndAsync(cancellation);
        await process.WaitForExitAsync(cancellation).ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            // The script and the keys command never print a PIN.
            throw new BenchmarkException($"{script} failed (exit code {process.ExitCode}):\n{await stdout.ConfigureAwait(false)}{await stderr.ConfigureAwait(false)}");
        }
    }
}
