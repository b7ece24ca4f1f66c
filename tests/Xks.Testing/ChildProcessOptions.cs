using System.Collections.ObjectModel;
using System.Text;

namespace Xks.Testing;

/// <summary>What <see cref="ChildProcess.Start"/> runs: the program, its arguments, working directory and environment.</summary>
public sealed record ChildProcessOptions(string FileName, IReadOnlyList<string> Arguments)
{
    /// <summary>The child's working directory; null: this process's.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>Variables set for the child on top of this process's environment.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = ReadOnlyDictionary<string, string>.Empty;

    /// <summary>Variables of this process the child must not inherit (removed before <see cref="Environment"/> is applied).</summary>
    public IReadOnlyList<string> RemovedVariables { get; init; } = [];

    /// <summary>Keep the child's standard input open until it is disposed (for a server that stops when its input closes); by default it is closed at once.</summary>
    public bool KeepStandardInputOpen { get; init; }

    /// <summary>The command as a shell would take it (arguments quoted where needed), for messages.</summary>
    public string CommandLine => string.Join(' ', Arguments.Select(Quote).Prepend(FileName));

    private static string Quote(string argument)
    {
        if (argument.Length > 0 && argument.All(c => char.IsAsciiLetterOrDigit(c) || "-_./:=@%,+".Contains(c, StringComparison.Ordinal)))
        {
            return argument;
        }

        var sb = new StringBuilder("'");
        sb.Append(argument.Replace("'", "'\\''", StringComparison.Ordinal));
        return sb.Append('\'').ToString();
    }
}
