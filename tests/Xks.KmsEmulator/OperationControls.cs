using System.Collections.Concurrent;

namespace Xks.KmsEmulator;

/// <summary>Test controls per operation name: call counts, injected failures and held responses. Thread-safe.</summary>
internal sealed class OperationControls
{
    private readonly ConcurrentDictionary<string, int> _counts = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Queue<(string ErrorType, int Status)>> _failures = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Queue<OperationGate>> _holds = new(StringComparer.Ordinal);

    public void Count(string operation) => _counts.AddOrUpdate(operation, 1, (_, n) => n + 1);

    public int CallCount(string operation) => _counts.GetValueOrDefault(operation);

    public IReadOnlyDictionary<string, int> CallCounts() => new Dictionary<string, int>(_counts, StringComparer.Ordinal);

    public void FailNext(string operation, string errorType, int count, int httpStatus)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        lock (_gate)
        {
            if (!_failures.TryGetValue(operation, out var queue))
            {
                _failures[operation] = queue = new();
            }

            for (var i = 0; i < count; i++)
            {
                queue.Enqueue((errorType, httpStatus));
            }
        }
    }

    public bool TryTakeFailure(string operation, out (string ErrorType, int Status) failure)
    {
        lock (_gate)
        {
            failure = default;
            return _failures.TryGetValue(operation, out var queue) && queue.TryDequeue(out failure);
        }
    }

    public OperationGate Hold(string operation)
    {
        var gate = new OperationGate(operation);
        lock (_gate)
        {
            if (!_holds.TryGetValue(operation, out var queue))
            {
                _holds[operation] = queue = new();
            }

            queue.Enqueue(gate);
        }

        return gate;
    }

    public bool TryTakeHold(string operation, out OperationGate gate)
    {
        lock (_gate)
        {
            gate = null!;
            return _holds.TryGetValue(operation, out var queue) && queue.TryDequeue(out gate!);
        }
    }

    public void ReleaseAll()
    {
        lock (_gate)
        {
            foreach (var gate in _holds.Values.SelectMany(q => q))
            {
                gate.Release();
            }

            _holds.Clear();
        }
    }
}
