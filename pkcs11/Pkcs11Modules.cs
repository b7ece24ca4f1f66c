using System.Runtime.InteropServices;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;

namespace Xks.Pkcs11;

/// <summary>
/// The PKCS#11 modules of this process, one per library file, shared and reference-counted. A module is loaded and
/// <c>C_Initialize</c>d by the first <see cref="Acquire"/> of its path and <c>C_Finalize</c>d when the last lease is
/// disposed. Loading the same file twice would share one native instance, and the first dispose would finalize it
/// under the other user, so every user in the process must come through here. (A copy of the library at another
/// path is a separate instance.)
/// </summary>
public static partial class Pkcs11Modules
{
    private static readonly object Gate = new();
    private static readonly Dictionary<string, Pkcs11Module> Loaded = new(StringComparer.Ordinal);
    private static bool _resolverInstalled;

    /// <summary>The factories every module and session of this process uses.</summary>
    public static Pkcs11InteropFactories Factories { get; } = new();

    /// <summary>A lease on the module of <paramref name="libraryPath"/>, loading and initialising it if this is the first.</summary>
    /// <exception cref="Pkcs11SetupException">The library does not exist, cannot be loaded, or C_Initialize fails.</exception>
    public static Pkcs11ModuleLease Acquire(string libraryPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(libraryPath);
        if (!File.Exists(libraryPath))
        {
            throw new Pkcs11SetupException($"PKCS#11 library '{libraryPath}' does not exist");
        }

        InstallResolver();
        var key = CanonicalPath(libraryPath);
        lock (Gate)
        {
            if (!Loaded.TryGetValue(key, out var module))
            {
                module = new Pkcs11Module(libraryPath, Load(libraryPath));
                Loaded[key] = module;
            }

            module.References++;
            return new Pkcs11ModuleLease(module, libraryPath, key);
        }
    }

    /// <summary>How many leases hold the module of <paramref name="libraryPath"/> (0 when it is not loaded).</summary>
    public static int References(string libraryPath)
    {
        lock (Gate)
        {
            return Loaded.TryGetValue(CanonicalPath(libraryPath), out var module) ? module.References : 0;
        }
    }

    internal static void Release(Pkcs11Module module, string key)
    {
        lock (Gate)
        {
            module.References--;
            if (module.References > 0)
            {
                return;
            }

            Loaded.Remove(key);
        }

        module.Unload();
    }

    internal static IPkcs11Library Load(string libraryPath)
    {
        try
        {
            return Factories.Pkcs11LibraryFactory.LoadPkcs11Library(Factories, libraryPath, AppType.MultiThreaded);
        }
        catch (Pkcs11Exception ex)
        {
            throw new Pkcs11SetupException($"PKCS#11 library '{libraryPath}' could not be initialised: {ex.Method} returned {ex.RV}", ex);
        }
        catch (Exception ex) when (ex is UnmanagedException or DllNotFoundException or BadImageFormatException or EntryPointNotFoundException)
        {
            throw new Pkcs11SetupException($"PKCS#11 library '{libraryPath}' could not be loaded: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// Pkcs11Interop P/Invokes <c>dlopen</c> from "libdl", which is only "libdl.so.2" on current glibc systems. A
    /// resolver can be set once per assembly, so it lives here and nowhere else.
    /// </summary>
    private static void InstallResolver()
    {
        lock (Gate)
        {
            if (_resolverInstalled)
            {
                return;
            }

            _resolverInstalled = true;
            if (OperatingSystem.IsLinux())
            {
                NativeLibrary.SetDllImportResolver(typeof(Pkcs11InteropFactories).Assembly, static (name, _, _) =>
                    name == "libdl" && NativeLibrary.TryLoad("libdl.so.2", out var handle) ? handle : IntPtr.Zero);
            }
        }
    }

    /// <summary>The path with every symbolic link resolved (two names of one file are one module).</summary>
    private static string CanonicalPath(string path)
    {
        var full = Path.GetFullPath(path);
        if (OperatingSystem.IsWindows())
        {
            return full;
        }

        var resolved = RealPath(full, IntPtr.Zero);
        if (resolved == IntPtr.Zero)
        {
            return full;
        }

        try
        {
            return Marshal.PtrToStringUTF8(resolved) ?? full;
        }
        finally
        {
            Marshal.FreeHGlobal(resolved);
        }
    }

    [LibraryImport("libc", EntryPoint = "realpath", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr RealPath(string path, IntPtr resolved);
}

/// <summary>One loaded module (shared by every lease on its path).</summary>
internal sealed class Pkcs11Module(string libraryPath, IPkcs11Library library)
{
    private readonly object _gate = new();
    private string? _lastError;

    public int References { get; set; }

    /// <summary>The current instance; null after a re-initialisation whose C_Initialize failed.</summary>
    public IPkcs11Library? Library { get; private set; } = library;

    public string? LastError => _lastError;

    public int Generation { get; private set; }

    /// <summary>C_Finalize and a fresh load + C_Initialize: every session and handle of the old instance is gone.</summary>
    /// <exception cref="Pkcs11SetupException">The fresh load failed; the module stays unloaded until the next attempt.</exception>
    public void Reinitialize()
    {
        lock (_gate)
        {
            if (Library is { } old)
            {
                DisposeQuietly(old);
            }

            Library = null;
            Generation++;
            try
            {
                Library = Pkcs11Modules.Load(libraryPath);
                _lastError = null;
            }
            catch (Pkcs11SetupException ex)
            {
                _lastError = ex.Message;
                throw;
            }
        }
    }

    public void Unload()
    {
        lock (_gate)
        {
            if (Library is { } old)
            {
                DisposeQuietly(old);
            }

            Library = null;
        }
    }

    private static void DisposeQuietly(IPkcs11Library library)
    {
        try
        {
            library.Dispose();
        }
        catch (Pkcs11Exception)
        {
            // C_Finalize of a broken device: the instance is dropped either way.
        }
    }
}
