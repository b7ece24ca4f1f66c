using System.Diagnostics;

namespace Xks.Proxy.Benchmarks;

/// <summary>
/// A server under test (the proxy or the bare baseline) running as <c>dotnet &lt;dll&gt; …</c>, its output kept in a
/// log file, considered started once <c>GET /healthz</c> answers 200.
/// </summary>
internal sealed class ServerProcess
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly ChildProcesses _children;
    private readonly Process _process;
    private readonly TextWriter _log;

    private ServerProcess(string name, Uri baseAddress, string logFile, ChildProcesses children, Process process, TextWriter log)
    {
        Name = name;
        BaseAddress = baseAddress;
        LogFile = logFile;
        _children = children;
        _process = process;
        _log = log;
    }

    public string Name { get; }

    public Uri BaseAddress { get; }

    public string LogFile { get; }

    /// <summary>CPU time (user and system) the server has used so far.</summary>
    public TimeSpan CpuTime
    {
        get
        {
            _process.Refresh();
            return _process.TotalProcessorTime;
        }
    }

    public static async Task<ServerProcess> StartAsync(
        ChildProcesses children,
        ProbeClient probe,
        string name,
        IEnumerable<string> dotnetArguments,
        Uri baseAddress,
        string logFile,
        CancellationToken cancellation,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in dotnetArguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (variable, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[variable] = value;
        }

        var log = TextWriter.Synchronized(new StreamWriter(logFile) { AutoFlush = true });
        var process = children.Start(info);
        process.OutputDataReceived += (_, e) => WriteLine(log, e.Data);
        process.ErrorDataReceived += (_, e) => WriteLine(log, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var server = new ServerProcess(name, baseAddress, logFile, children, process, log);
        await server.WaitUntilReadyAsync(probe, cancellation).ConfigureAwait(false);
        return server;
    }

    public void Stop()
    {
        _children.Stop(_process);
        _log.Dispose();
    }

    private async Task WaitUntilReadyAsync(ProbeClient probe, CancellationToken cancellation)
    {
        var readiness = new Uri(BaseAddress, "/healthz");
        var deadline = Stopwatch.StartNew();
        while (!await probe.IsReadyAsync(readiness, cancellation).ConfigureAwait(false))
        {
            if (_process.HasExited || deadline.Elapsed > StartTimeout)
            {
                var why = _process.HasExited ? $"exited with code {_process.ExitCode}" : $"did not answer {readiness} within {StartTimeout.TotalSeconds:F0} s";
                Stop();
                throw new BenchmarkException($"{Name} {why}; its output:\n{await File.ReadAllTextAsync(LogFile, cancellation).ConfigureAwait(false)}");
            }

            await Task.Delay(100, cancellation).ConfigureAwait(false);
        }
    }

    private static void WriteLine(TextWriter log, string? line)
    {
        if (line is not null)
        {
            log.WriteLine(line);
        }
    }
}
