using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Xks.Testing;

/// <summary>
/// A TCP relay on 127.0.0.1 in front of a real server (the API server, a proxy) that a test can cut: <see cref="DropAll"/>
/// resets every relayed connection and keeps listening, as a network blip would; <see cref="StopAsync"/> also closes
/// the listener, as an outage would, and <see cref="Start"/> restores it on the same port.
/// </summary>
public sealed class TcpRelay : IAsyncDisposable, IDisposable
{
    private readonly IPEndPoint _target;
    private readonly ConcurrentDictionary<TcpClient, byte> _connections = new();
    private TcpListener? _listener;
    private CancellationTokenSource? _stop;
    private Task _acceptLoop = Task.CompletedTask;
    private int _accepted;

    public TcpRelay(IPEndPoint target)
    {
        _target = target;
        Start();
    }

    /// <summary>The relay's port (the same across <see cref="StopAsync"/> and <see cref="Start"/>).</summary>
    public int Port { get; private set; }

    /// <summary>Connections accepted so far.</summary>
    public int Accepted => Volatile.Read(ref _accepted);

    /// <summary>(Re)starts listening, on the same port as before.</summary>
    public void Start()
    {
        var listener = new TcpListener(IPAddress.Loopback, Port);
        listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Start();
        Port = ((IPEndPoint)listener.LocalEndpoint).Port;
        _listener = listener;
        _stop = new CancellationTokenSource();
        _acceptLoop = AcceptAsync(listener, _stop.Token);
    }

    /// <summary>Resets every relayed connection (both sides); new connections are still relayed.</summary>
    public void DropAll()
    {
        foreach (var connection in _connections.Keys)
        {
            try
            {
                // Reset rather than close gracefully, as a dying server or a cut network does.
                connection.Client?.LingerState = new LingerOption(true, 0);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
            }

            connection.Dispose();
            _connections.TryRemove(connection, out _);
        }
    }

    /// <summary>Stops listening and resets every connection.</summary>
    public async Task StopAsync()
    {
        if (_listener is null)
        {
            return;
        }

        await _stop!.CancelAsync();
        _listener.Stop();
        _listener = null;
        DropAll();
        await _acceptLoop;
        _stop.Dispose();
    }

    public async ValueTask DisposeAsync() => await StopAsync();

    public void Dispose() => StopAsync().GetAwaiter().GetResult();

    private async Task AcceptAsync(TcpListener listener, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(stop);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            Interlocked.Increment(ref _accepted);
            _ = RelayAsync(client, stop);
        }
    }

    private async Task RelayAsync(TcpClient client, CancellationToken stop)
    {
        var upstream = new TcpClient();
        _connections[client] = 0;
        _connections[upstream] = 0;
        try
        {
            await upstream.ConnectAsync(_target, stop);
            var a = client.GetStream();
            var b = upstream.GetStream();
            await Task.WhenAny(a.CopyToAsync(b, stop), b.CopyToAsync(a, stop));
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
        }
        finally
        {
            _connections.TryRemove(client, out _);
            _connections.TryRemove(upstream, out _);
            client.Dispose();
            upstream.Dispose();
        }
    }
}
