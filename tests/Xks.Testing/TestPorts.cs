using System.Net;
using System.Net.Sockets;

namespace Xks.Testing;

/// <summary>Free TCP ports on 127.0.0.1 for servers the tests start (see <see cref="ChildProcess.StartWithPortRetryAsync{T}"/> for the race).</summary>
public static class TestPorts
{
    /// <summary>A TCP port on 127.0.0.1 that was free a moment ago.</summary>
    public static int GetFree()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
