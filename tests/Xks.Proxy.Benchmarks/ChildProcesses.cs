using System.ComponentModel;
using System.Diagnostics;

namespace Xks.Proxy.Benchmarks;

/// <summary>
/// Every process the benchmark starts (servers and wrk). Disposing kills whichever still run, and so does the
/// benchmark's own exit, so no server outlives a finished, failed or interrupted run.
/// </summary>
internal sealed class ChildProcesses : IDisposable
{
    private readonly List<Process> _processes = [];
    private readonly Lock _lock = new();

    public ChildProcesses() => AppDomain.CurrentDomain.ProcessExit += OnProcessExit;

    public Process Start(ProcessStartInfo info)
    {
        Process process;
        try
        {
            process = Process.Start(info) ?? throw new BenchmarkException($"could not start {info.FileName}");
        }
        catch (Win32Exception ex)
        {
            throw new BenchmarkException($"could not start {info.FileName}: {ex.Message} (run `make deps`)");
        }

        lock (_lock)
        {
            _processes.Add(process);
        }

        return process;
    }

    /// <summary>Kills one process (and its children) and forgets it.</summary>
    public void Stop(Process process)
    {
        lock (_lock)
        {
            _processes.Remove(process);
        }

        Kill(process);
    }

    public void Dispose()
    {
        AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
        KillAll();
    }

    private void OnProcessExit(object? sender, EventArgs e) => KillAll();

    private void KillAll()
    {
        Process[] processes;
        lock (_lock)
        {
            processes = [.. _processes];
            _processes.Clear();
        }

        foreach (var process in processes)
        {
            Kill(process);
        }
    }

    private static void Kill(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            process.WaitForExit();
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        finally
        {
            process.Dispose();
        }
    }
}
