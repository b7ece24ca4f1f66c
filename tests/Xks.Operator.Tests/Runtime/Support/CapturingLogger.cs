using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Xks.Operator.Runtime.Support.Tests;

/// <summary>Records log entries with the scopes that were open when they were written.</summary>
internal sealed class CapturingLogger : ILogger
{
    private readonly AsyncLocal<ImmutableStack?> _scopes = new();

    public ConcurrentQueue<Entry> Entries { get; } = new();

    public IDisposable BeginScope<TState>(TState state)
        where TState : notnull
    {
        var previous = _scopes.Value;
        _scopes.Value = new ImmutableStack(state, previous);
        return new Pop(() => _scopes.Value = previous);
    }

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        var scopes = new List<object>();
        for (var s = _scopes.Value; s is not null; s = s.Next)
        {
            scopes.Add(s.State);
        }

        Entries.Enqueue(new Entry(logLevel, eventId, formatter(state, exception), exception, scopes));
    }

    public sealed record Entry(LogLevel Level, EventId EventId, string Message, Exception? Exception, IReadOnlyList<object> Scopes);

    private sealed record ImmutableStack(object State, ImmutableStack? Next);

    private sealed class Pop(Action pop) : IDisposable
    {
        public void Dispose() => pop();
    }
}
