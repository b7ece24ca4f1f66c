namespace Xks.KmsEmulator;

/// <summary>
/// Holds the response of one call: <see cref="Reached"/> completes once the call has been executed (its state change
/// is done) and its response is waiting; <see cref="Release"/> lets the response go.
/// </summary>
public sealed class OperationGate
{
    private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal OperationGate(string operation) => Operation = operation;

    public string Operation { get; }

    public Task Reached => _reached.Task;

    public void Release() => _released.TrySetResult();

    internal Task Released => _released.Task;

    internal void MarkReached() => _reached.TrySetResult();
}
