using System.Text;

namespace Xks.Testing;

/// <summary>
/// What a child process printed, safe to read while it grows: stdout and stderr each exactly as written, and both
/// interleaved a whole line at a time in arrival order.
/// </summary>
internal sealed class CapturedOutput
{
    private readonly Lock _gate = new();
    private readonly StringBuilder _interleaved = new();
    private readonly StreamText _stdout = new();
    private readonly StreamText _stderr = new();

    public string StandardOutput => Read(_stdout.Text);

    public string StandardError => Read(_stderr.Text);

    public string Interleaved => Read(_interleaved);

    public void Append(bool isError, ReadOnlySpan<char> text)
    {
        var stream = isError ? _stderr : _stdout;
        lock (_gate)
        {
            stream.Text.Append(text);
            var lastNewline = text.LastIndexOf('\n');
            if (lastNewline >= 0)
            {
                var end = stream.Text.Length - text.Length + lastNewline + 1;
                _interleaved.Append(stream.Text, stream.LineStart, end - stream.LineStart);
                stream.LineStart = end;
            }
        }
    }

    /// <summary>The stream ended: its unfinished last line joins the interleaved text.</summary>
    public void Complete(bool isError)
    {
        var stream = isError ? _stderr : _stdout;
        lock (_gate)
        {
            if (stream.LineStart < stream.Text.Length)
            {
                _interleaved.Append(stream.Text, stream.LineStart, stream.Text.Length - stream.LineStart).Append('\n');
                stream.LineStart = stream.Text.Length;
            }
        }
    }

    private string Read(StringBuilder text)
    {
        lock (_gate)
        {
            return text.ToString();
        }
    }

    private sealed class StreamText
    {
        public StringBuilder Text { get; } = new();

        public int LineStart { get; set; }
    }
}
