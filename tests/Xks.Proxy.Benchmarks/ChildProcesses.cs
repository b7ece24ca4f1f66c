using System.ComponentModel;
using Xks.Testing;

namespace Xks.Proxy.Benchmarks;

/// <summary>
/// Every process the benchmark starts (servers and wrk). Disposing kills whichever still run, and so does the
/// benchmark's own exit, so no server outlives a finished, failed or interrupted run.
/// </summary>
internal sealed class ChildProcesses : IDisposable
{
    private readonly List<ChildProcess> _processes = [];
    private readonly Lock _lock = new();

    public ChildProcesses() => AppDomain.CurrentDomain.ProcessExit += OnProcessExit;

    public ChildProcess Start(ChildProcessOptions options)
    {
        ChildProcess process;
        try
        {
            process = ChildProcess.Start(options);
        }
        catch (Win32Exception ex)
        {
            throw new BenchmarkException($"could not start {options.FileName}: {ex.Message} (run `make deps`)");
        }

        lock (_lock)
        {
            _processes.Add(process);
        }

        return process;
    }

    /// <summary>Kills one process (and its children) and forgets it.</summary>
    public void Stop(ChildProcess process)
    {
        lock (_lock)
        {
            _processes.Remove(process);
        }

        process.Dispose();
    }

    public void Dispose()
    {
        AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
        KillAll();
    }

    private void OnProcessExit(object? sender, EventArgs e) => KillAll();

    private void KillAll()
    {
        ChildProcess[] processes;
        lock (_lock)
        {
            processes = [.. _processes];
            _processes.Clear();
        }

        foreach (var process in processes)
        {
            process.Dispose();
        }
    }
}
