using System.ComponentModel;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Xks.Testing;

/// <summary>
/// A program a test runs as a real child process (the proxy, the operator, a server under benchmark, a tool): stdout
/// and stderr captured as they come (<see cref="Output"/> for assertion messages), waits for readiness (a condition,
/// an HTTP answer, a TCP port) or exit, SIGTERM, and the whole process tree killed on dispose.
/// </summary>
public sealed partial class ChildProcess : IAsyncDisposable, IDisposable
{
    private const int MaxPortAttempts = 3;
    private const int SigTerm = 15;
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan KillTimeout = TimeSpan.FromSeconds(10);
    private readonly Process _process;
    private readonly CapturedOutput _output = new();
    private readonly Task _drained;

    private ChildProcess(Process process, bool keepStandardInputOpen)
    {
        _process = process;
        if (!keepStandardInputOpen)
        {
            process.StandardInput.Close();
        }

        _drained = Task.WhenAll(
            Task.Run(() => PumpAsync(process.StandardOutput, isError: false)),
            Task.Run(() => PumpAsync(process.StandardError, isError: true)));
    }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>CPU time (user and system) the process has used so far.</summary>
    public TimeSpan TotalProcessorTime
    {
        get
        {
            _process.Refresh();
            return _process.TotalProcessorTime;
        }
    }

    /// <summary>Everything printed so far, stdout and stderr interleaved a line at a time in arrival order.</summary>
    public string Output => _output.Interleaved;

    /// <summary>Standard output so far, exactly as written.</summary>
    public string StandardOutput => _output.StandardOutput;

    /// <summary>Standard error so far, exactly as written.</summary>
    public string StandardError => _output.StandardError;

    /// <summary>Starts the program (<see cref="Win32Exception"/> when it cannot be run).</summary>
    public static ChildProcess Start(ChildProcessOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var info = new ProcessStartInfo(options.FileName)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (options.WorkingDirectory is not null)
        {
            info.WorkingDirectory = options.WorkingDirectory;
        }

        foreach (var argument in options.Arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var name in options.RemovedVariables)
        {
            info.Environment.Remove(name);
        }

        foreach (var (name, value) in options.Environment)
        {
            info.Environment[name] = value;
        }

        var process = new Process { StartInfo = info };
        process.Start();
        return new ChildProcess(process, options.KeepStandardInputOpen);
    }

    /// <summary>Starts the program and waits with <paramref name="untilReady"/>; if that fails, the process is killed and the failure rethrown.</summary>
    public static async Task<ChildProcess> StartAsync(ChildProcessOptions options, Func<ChildProcess, Task> untilReady)
    {
        ArgumentNullException.ThrowIfNull(untilReady);
        var child = Start(options);
        try
        {
            await untilReady(child);
            return child;
        }
        catch
        {
            await child.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Runs <paramref name="startOnPort"/> with a free port; when it fails because the port was taken between picking and
    /// listening (<see cref="ChildProcessException.PortWasTaken"/>), again with another one, three attempts in all.
    /// <paramref name="startOnPort"/> cleans up after itself when it fails (as <see cref="StartAsync"/> does).
    /// </summary>
    public static async Task<T> StartWithPortRetryAsync<T>(Func<int, Task<T>> startOnPort)
    {
        ArgumentNullException.ThrowIfNull(startOnPort);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await startOnPort(TestPorts.GetFree());
            }
            catch (ChildProcessException ex) when (attempt < MaxPortAttempts && ex.PortWasTaken)
            {
            }
        }
    }

    /// <summary>
    /// Polls <paramref name="condition"/> until it holds. Throws <see cref="ChildProcessException"/> when the process
    /// exits first or <paramref name="within"/> passes; a condition that throws (connection refused, a 503) counts as
    /// not yet, and its message is the last problem reported.
    /// </summary>
    public async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan within, string what, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var clock = Stopwatch.StartNew();
        string? lastProblem = null;
        while (clock.Elapsed < within)
        {
            if (HasExited)
            {
                await DrainAsync();
                throw new ChildProcessException($"the process exited with code {ExitCode} before {what}", Output);
            }

            try
            {
                if (await condition())
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or SocketException or IOException
                                       || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                lastProblem = ex.Message;
            }

            await Task.Delay(PollInterval, cancellationToken);
        }

        throw new ChildProcessException($"not {what} within {within.TotalSeconds} s{(lastProblem is null ? "" : $" ({lastProblem})")}", Output);
    }

    /// <summary>Waits until a GET of <paramref name="url"/> answers a success status (see <see cref="WaitUntilAsync"/>).</summary>
    public Task WaitForHttpAsync(HttpClient http, Uri url, TimeSpan within)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(url);
        return WaitUntilAsync(
            async () =>
            {
                using var response = await http.GetAsync(url);
                return response.IsSuccessStatusCode
                    ? true
                    : throw new HttpRequestException($"GET {url.AbsolutePath} answered {(int)response.StatusCode}");
            },
            within,
            $"answering GET {url}");
    }

    /// <summary>Waits until 127.0.0.1:<paramref name="port"/> accepts a TCP connection (see <see cref="WaitUntilAsync"/>).</summary>
    public Task WaitForPortAsync(int port, TimeSpan within) =>
        WaitUntilAsync(
            async () =>
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return true;
            },
            within,
            $"accepting connections on 127.0.0.1:{port}");

    /// <summary>Waits until <paramref name="condition"/> holds for <see cref="Output"/> (true) or <paramref name="within"/> passes (false).</summary>
    public async Task<bool> WaitForOutputAsync(Func<string, bool> condition, TimeSpan within)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var clock = Stopwatch.StartNew();
        while (!condition(Output))
        {
            if (clock.Elapsed > within)
            {
                return false;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50));
        }

        return true;
    }

    /// <summary>Waits until the process has exited and its output is read to the end.</summary>
    public async Task WaitForExitAsync(CancellationToken cancellationToken)
    {
        await _process.WaitForExitAsync(cancellationToken);
        await DrainAsync();
    }

    /// <summary>Waits until the process has exited and its output is read (true), or <paramref name="within"/> passes (false).</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan within)
    {
        using var timeout = new CancellationTokenSource(within);
        try
        {
            await WaitForExitAsync(timeout.Token);
            return true;
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>Sends SIGTERM (what a service manager or the kubelet sends) to this one process; false when it is gone already.</summary>
    public bool SendTerminate() => SendSignal(Id, SigTerm) == 0;

    /// <summary>Stops the process as a service manager does: SIGTERM, then a kill of the tree after <paramref name="grace"/>. True when it exited by itself.</summary>
    public async Task<bool> TerminateAsync(TimeSpan grace)
    {
        if (!HasExited)
        {
            SendTerminate();
        }

        if (await WaitForExitAsync(grace))
        {
            return true;
        }

        await KillAsync();
        return false;
    }

    /// <summary>Kills the process and its children at once (SIGKILL: nothing runs on the way out) and waits for it.</summary>
    public async Task KillAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            using var timeout = new CancellationTokenSource(KillTimeout);
            await WaitForExitAsync(timeout.Token);
        }
        catch (InvalidOperationException)
        {
            // Gone already.
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Kills the process tree (see <see cref="KillAsync"/>) and releases it; its output stays readable.</summary>
    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process.Dispose();
    }

    /// <summary>The blocking <see cref="DisposeAsync"/>, e.g. for a process-exit handler.</summary>
    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            if (_process.WaitForExit(KillTimeout))
            {
                _drained.Wait(DrainTimeout);
            }
        }
        catch (InvalidOperationException)
        {
            // Gone already.
        }

        _process.Dispose();
    }

    private Task DrainAsync() => Task.WhenAny(_drained, Task.Delay(DrainTimeout));

    private async Task PumpAsync(StreamReader reader, bool isError)
    {
        var buffer = new char[4096];
        try
        {
            int read;
            while ((read = await reader.ReadAsync(buffer.AsMemory())) > 0)
            {
                _output.Append(isError, buffer.AsSpan(0, read));
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
            // Released while reading.
        }
        finally
        {
            _output.Complete(isError);
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SendSignal(int pid, int signal);
}
