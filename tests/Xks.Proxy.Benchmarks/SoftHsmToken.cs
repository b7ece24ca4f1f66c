using System.Diagnostics;
using System.Security.Cryptography;

namespace Xks.Proxy.Benchmarks;

/// <summary>
/// A SoftHSM2 token of its own for the run: DIRECTORY/softhsm2.conf pointing at DIRECTORY/tokens, initialised
/// with <c>softhsm2-util</c>, a random user PIN in a 0600 file. Every process that uses it gets
/// <see cref="Environment"/> (SOFTHSM2_CONF).
/// </summary>
internal sealed class SoftHsmToken
{
    public const string Label = "bench";

    private static readonly string[] LibraryCandidates =
    [
        "/usr/lib/softhsm/libsofthsm2.so",
        "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
        "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
    ];

    private SoftHsmToken(string configFile, string pinFile, string libraryPath)
    {
        ConfigFile = configFile;
        PinFile = pinFile;
        LibraryPath = libraryPath;
    }

    public string ConfigFile { get; }

    public string PinFile { get; }

    public string LibraryPath { get; }

    public IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string> { ["SOFTHSM2_CONF"] = ConfigFile };

    public static async Task<SoftHsmToken> CreateAsync(string directory, CancellationToken cancellation)
    {
        var library = LibraryCandidates.FirstOrDefault(File.Exists)
            ?? throw new BenchmarkException($"no SoftHSM2 library at {string.Join(" or ", LibraryCandidates)} (run `make deps`)");
        Directory.CreateDirectory(directory);
        var tokens = Directory.CreateDirectory(Path.Combine(directory, "tokens")).FullName;
        var config = Path.Combine(directory, "softhsm2.conf");
        await File.WriteAllTextAsync(config, $"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n", cancellation).ConfigureAwait(false);

        var pin = Convert.ToHexString(RandomNumberGenerator.GetBytes(8));
        var pinFile = Path.Combine(directory, "pin");
        await File.WriteAllTextAsync(pinFile, pin + "\n", cancellation).ConfigureAwait(false);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(pinFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        var token = new SoftHsmToken(config, pinFile, library);
        var soPin = Convert.ToHexString(RandomNumberGenerator.GetBytes(8));
        await token.RunAsync("softhsm2-util", ["--init-token", "--free", "--label", Label, "--so-pin", soPin, "--pin", pin], "initialise the token", cancellation).ConfigureAwait(false);
        return token;
    }

    /// <summary>Runs a tool with SOFTHSM2_CONF set; its output is shown only when it fails (never a PIN: none is printed by these tools).</summary>
    public async Task RunAsync(string tool, IEnumerable<string> arguments, string what, CancellationToken cancellation)
    {
        var info = new ProcessStartInfo(tool) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in Environment)
        {
            info.Environment[name] = value;
        }

        Process process;
        try
        {
            process = Process.Start(info) ?? throw new BenchmarkException($"could not start {tool}");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new BenchmarkException($"could not start {tool} to {what}: {ex.Message} (run `make deps`)");
        }

        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync(cancellation);
            var stderr = process.StandardError.ReadToEndAsync(cancellation);
            await process.WaitForExitAsync(cancellation).ConfigureAwait(false);
            if (process.ExitCode != 0)
            {
                throw new BenchmarkException($"{tool} could not {what} (exit code {process.ExitCode}):\n{await stdout.ConfigureAwait(false)}{await stderr.ConfigureAwait(false)}");
            }
        }
    }
}
