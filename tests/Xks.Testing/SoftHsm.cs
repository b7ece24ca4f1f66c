using System.Diagnostics;
using System.Runtime.InteropServices;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;
using Xks.Pkcs11;
using Xunit;

namespace Xks.Testing;

/// <summary>
/// A SoftHSM2 token directory of its own in a temporary folder: <c>softhsm2.conf</c> + <c>tokens/</c>, tokens
/// initialised with <c>softhsm2-util</c>, removed and restored by moving their directory, inspected with
/// <c>pkcs11-tool</c>. Child processes get it through <see cref="Environment"/> (SOFTHSM2_CONF).
/// <para>
/// SoftHSM reads SOFTHSM2_CONF once, at C_Initialize, and a loaded module keeps the slot list it found then. So a
/// test process uses one directory, <see cref="Shared"/>, which sets SOFTHSM2_CONF (natively, with setenv) before any
/// module loads. A token initialised after the shared module <see cref="LibraryPath"/> is loaded is seen only by a
/// module loaded later: a test that needs its own token (or removes one, or re-initialises a module) loads a
/// <see cref="CopyLibrary"/> copy, which is a separate instance.
/// </para>
/// </summary>
public sealed partial class SoftHsm : IDisposable
{
    public const string SoPin = "so-0000-test";
    private static readonly string[] KnownLibraryPaths = ["/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so"];
    private static readonly Lazy<SoftHsm> ProcessWide = new(CreateShared);
    private readonly object _gate = new();
    private readonly Dictionary<string, string> _tokenDirectories = new(StringComparer.Ordinal);
    private int _copies;

    /// <summary>A new, empty token directory (for child processes only: see <see cref="Shared"/>).</summary>
    public SoftHsm()
    {
        LibraryPath = FindLibrary();
        Root = Path.Combine(Path.GetTempPath(), "xks-softhsm-" + Guid.NewGuid().ToString("N")[..12]);
        TokenDirectory = Path.Combine(Root, "tokens");
        ConfigPath = Path.Combine(Root, "softhsm2.conf");
        Directory.CreateDirectory(TokenDirectory);
        Directory.CreateDirectory(Path.Combine(Root, "removed"));
        File.WriteAllText(ConfigPath, $"""
            # Test token directory (tests/Xks.Testing/SoftHsm.cs)
            directories.tokendir = {TokenDirectory}
            objectstore.backend = file
            log.level = ERROR
            slots.removable = false

            """);
    }

    /// <summary>The token directory of this test process, with SOFTHSM2_CONF pointing at it (set before first use).</summary>
    public static SoftHsm Shared => ProcessWide.Value;

    public string Root { get; }

    public string ConfigPath { get; }

    public string TokenDirectory { get; }

    /// <summary>The SoftHSM2 module installed on this machine.</summary>
    public string LibraryPath { get; }

    /// <summary>The environment a child process needs to see these tokens.</summary>
    public IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string> { ["SOFTHSM2_CONF"] = ConfigPath };

    /// <summary>Initialises a new token (label unique in this directory) with a user PIN.</summary>
    public void InitToken(string label, string pin)
    {
        lock (_gate)
        {
            if (_tokenDirectories.ContainsKey(label))
            {
                throw new InvalidOperationException($"token '{label}' already exists in {Root}");
            }

            var before = Directory.GetDirectories(TokenDirectory).ToHashSet(StringComparer.Ordinal);
            List<string> created;
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    Run("softhsm2-util", ["--init-token", "--free", "--label", label, "--so-pin", SoPin, "--pin", pin]);
                    created = Directory.GetDirectories(TokenDirectory).Where(d => !before.Contains(d)).ToList();
                    break;
                }
                catch (InvalidOperationException) when (attempt < 5)
                {
                    // Another test's module may be scanning the token directory right then ("Could not get info
                    // about the token in slot 0"): drop whatever the failed attempt left and try again.
                    foreach (var partial in Directory.GetDirectories(TokenDirectory).Where(d => !before.Contains(d)))
                    {
                        Directory.Delete(partial, recursive: true);
                    }

                    Thread.Sleep(50 * attempt);
                }
            }

            if (created.Count != 1)
            {
                throw new InvalidOperationException($"softhsm2-util --init-token '{label}' created {created.Count} token directories in {TokenDirectory}");
            }

            _tokenDirectories[label] = Path.GetFileName(created[0]);
        }
    }

    /// <summary>Takes a token away (its directory is moved out of the token directory), as if the HSM were unplugged.</summary>
    public void RemoveToken(string label)
    {
        lock (_gate)
        {
            var name = TokenDirectoryName(label);
            Directory.Move(Path.Combine(TokenDirectory, name), Path.Combine(Root, "removed", name));
        }
    }

    /// <summary>Puts a removed token back.</summary>
    public void RestoreToken(string label)
    {
        lock (_gate)
        {
            var name = TokenDirectoryName(label);
            Directory.Move(Path.Combine(Root, "removed", name), Path.Combine(TokenDirectory, name));
        }
    }

    /// <summary>A private copy of the SoftHSM2 library: loading it gives a module instance of its own.</summary>
    public string CopyLibrary(string name)
    {
        var directory = Path.Combine(Root, "lib", $"{Interlocked.Increment(ref _copies)}-{name}");
        Directory.CreateDirectory(directory);
        var copy = Path.Combine(directory, "libsofthsm2.so");
        File.Copy(LibraryPath, copy);
        return copy;
    }

    /// <summary>Runs <c>pkcs11-tool --module LibraryPath ARGS</c> on this directory; returns its standard output (fails on a non-zero exit).</summary>
    public string RunPkcs11Tool(params string[] arguments) => Run("pkcs11-tool", ["--module", LibraryPath, .. arguments]);

    /// <summary>
    /// Creates an AES-256 key object with the given value (sensitive, not extractable) in a token: how the tests give
    /// two tokens the same key, as an HSM cluster would replicate it. In-process: <see cref="Shared"/> only.
    /// </summary>
    public void ImportAesKey(string tokenLabel, string pin, string label, ReadOnlySpan<byte> value, bool canEncrypt = true, bool canDecrypt = true)
    {
        RequireProcessConfig();
        using var lease = Pkcs11Modules.Acquire(CopyLibrary("import"));
        using var session = lease.OpenUserSession(TokenSelector.ByLabel(tokenLabel), Pkcs11Pin.FromLiteral(pin));
        var factory = session.Factories.ObjectAttributeFactory;
        var template = AesKeyTemplate.ForLabel(factory, label, canEncrypt, canDecrypt);
        template.RemoveAll(a => a.Type == (ulong)CKA.CKA_VALUE_LEN);
        template.Add(factory.Create(CKA.CKA_VALUE, value.ToArray()));
        session.CreateObject(template);
    }

    /// <summary>Opens a logged-in session on a token through a private module (for assertions on the token's content).</summary>
    public T WithSession<T>(string tokenLabel, string pin, Func<ISession, T> action)
    {
        RequireProcessConfig();
        using var lease = Pkcs11Modules.Acquire(CopyLibrary("inspect"));
        using var session = lease.OpenUserSession(TokenSelector.ByLabel(tokenLabel), Pkcs11Pin.FromLiteral(pin));
        return action(session);
    }

    public void Dispose()
    {
        if (ReferenceEquals(this, ProcessWide.IsValueCreated ? ProcessWide.Value : null))
        {
            return;
        }

        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // a module still holds a file open; the temporary folder is left for the OS to clean.
        }
    }

    /// <summary>The installed SoftHSM2 library, or a failed assertion with the install hint.</summary>
    public static string FindLibrary()
    {
        var found = KnownLibraryPaths.FirstOrDefault(File.Exists);
        if (found is null)
        {
            Assert.Fail($"SoftHSM2 is not installed (looked for {string.Join(", ", KnownLibraryPaths)}); install it with `make deps` (Debian packages softhsm2 and opensc).");
        }

        return found!;
    }

    private void RequireProcessConfig()
    {
        if (System.Environment.GetEnvironmentVariable("SOFTHSM2_CONF") != ConfigPath)
        {
            throw new InvalidOperationException("in-process PKCS#11 access needs SoftHsm.Shared (SOFTHSM2_CONF of this process)");
        }
    }

    private string TokenDirectoryName(string label)
    {
        lock (_gate)
        {
            return _tokenDirectories.TryGetValue(label, out var name) ? name : throw new InvalidOperationException($"no token '{label}' in {Root}");
        }
    }

    private string Run(string fileName, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["SOFTHSM2_CONF"] = ConfigPath;
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            Assert.Fail($"'{fileName}' is not on PATH; install it with `make deps` (Debian packages softhsm2 and opensc).");
            throw;
        }

        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"{fileName} did not finish in 60 s");
            }

            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"{fileName} {string.Join(' ', start.ArgumentList)} exited with {process.ExitCode}: {stdout.Result}{stderr.Result}");
            }

            return stdout.Result;
        }
    }

    private static SoftHsm CreateShared()
    {
        var hsm = new SoftHsm();
        if (Pkcs11Modules.References(hsm.LibraryPath) > 0)
        {
            throw new InvalidOperationException("a SoftHSM module was loaded before SoftHsm.Shared set SOFTHSM2_CONF");
        }

        System.Environment.SetEnvironmentVariable("SOFTHSM2_CONF", hsm.ConfigPath);
        if (SetEnv("SOFTHSM2_CONF", hsm.ConfigPath, 1) != 0)
        {
            throw new InvalidOperationException("setenv(SOFTHSM2_CONF) failed");
        }

        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(hsm.Root, recursive: true);
            }
            catch (IOException)
            {
                // best effort at exit
            }
        };
        return hsm;
    }

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);
}
