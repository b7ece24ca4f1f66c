namespace Xks.Operator.Runtime.Hosting;

/// <summary>
/// Runs the <see cref="ControllerManager"/> for the host's lifetime. <see cref="StartAsync"/> returns at once (the manager
/// runs on the thread pool, so leader election never blocks host start-up — dotnet/runtime#36063); if the manager fails
/// for good, the exit code is set to 1 and the application stops, so Kubernetes restarts the pod.
/// </summary>
internal sealed partial class ControllerManagerHostedService(
    ControllerManager manager,
    IHostApplicationLifetime lifetime,
    ILogger<ControllerManagerHostedService> logger) : IHostedService, IDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private Task? _running;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _running = Task.Run(() => RunAsync(_stopping.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_running is null)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await _running.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Log.StopTimedOut(logger);
        }
    }

    public void Dispose() => _stopping.Dispose();

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            await manager.RunAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            // ControllerManager has logged the failure.
            Environment.ExitCode = 1;
            lifetime.StopApplication();
        }
        catch (Exception ex)
        {
            Log.StopFailed(logger, ex);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1310, LogLevel.Warning, "The controllers did not stop within the host's shutdown timeout", EventName = "ManagerStopTimedOut")]
        public static partial void StopTimedOut(ILogger logger);

        [LoggerMessage(1311, LogLevel.Warning, "The controller manager failed while stopping", EventName = "ManagerStopFailed")]
        public static partial void StopFailed(ILogger logger, Exception exception);
    }
}
