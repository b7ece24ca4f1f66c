using Xks.Testing;

namespace Xks.Proxy.Benchmarks;

/// <summary>
/// A server under test (the proxy or the bare baseline) running as <c>dotnet &lt;dll&gt; …</c>, its output kept in a
/// log file when it stops, considered started once <c>GET /healthz</c> answers 200. Its standard input stays open
/// (the baseline stops when it closes).
/// </summary>
internal sealed class ServerProcess
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly ChildProcesses _children;
    private readonly ChildProcess _process;

    private ServerProcess(string name, Uri baseAddress, string logFile, ChildProcesses children, ChildProcess process)
    {
        Name = name;
        BaseAddress = baseAddress;
        LogFile = logFile;
        _children = children;
        _process = process;
    }

    public string Name { get; }

    public Uri BaseAddress { get; }

    public string LogFile { get; }

    /// <summary>CPU time (user and system) the server has used so far.</summary>
    public TimeSpan CpuTime => _process.TotalProcessorTime;

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
        var options = new ChildProcessOptions(DotnetApp.Host, [.. dotnetArguments])
        {
            Environment = environment ?? new Dictionary<string, string>(),
            KeepStandardInputOpen = true,
        };
        var server = new ServerProcess(name, baseAddress, logFile, children, children.Start(options));
        var readiness = new Uri(baseAddress, "/healthz");
        try
        {
            await server._process.WaitUntilAsync(() => probe.IsReadyAsync(readiness, cancellation), StartTimeout, $"answering {readiness}", cancellation).ConfigureAwait(false);
            return server;
        }
        catch (ChildProcessException ex)
        {
            server.Stop();
            throw new BenchmarkException($"{name}: {ex.Message}");
        }
    }

    public void Stop()
    {
        _children.Stop(_process);
        File.WriteAllText(LogFile, _process.Output);
    }
}
