namespace Xks.Testing;

/// <summary>A <see cref="ChildProcess"/> exited, or did not get ready, before what a test waited for; carries what it printed.</summary>
public sealed class ChildProcessException : Exception
{
    public ChildProcessException()
    {
    }

    public ChildProcessException(string message)
        : base(message)
    {
    }

    public ChildProcessException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public ChildProcessException(string message, string output)
        : base($"{message}\n--- output ---\n{output}")
    {
        Output = output;
    }

    /// <summary>Everything the process printed until then (stdout and stderr interleaved).</summary>
    public string Output { get; } = "";

    /// <summary>The process could not listen because its port was taken meanwhile.</summary>
    public bool PortWasTaken => Output.Contains("address already in use", StringComparison.OrdinalIgnoreCase);
}
