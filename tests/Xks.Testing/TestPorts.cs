using System.Net;
using System.Net.Sockets;

namespace Xks.Testing;

/// <summary>Free TCP ports on 127.0.0.1 for servers the tests start (see <see cref="ChildProcess.StartWithPortRetryAsync{T}"/> for the race).</summary>
/// <remarks>
/// The ports come from 20000–29999, below Linux's ephemeral range (32768–60999 by default) and NodePorts (30000–32767).
/// A port the kernel hands out for port 0 is one it also hands to outgoing connections, so a port picked that way and
/// listened on seconds later (the seed scenario picks the proxy's before the operator runs) can meanwhile be the local
/// end of a connection to the API server. Ports below the range are only ever taken by a listener; this process never
/// hands out the same one twice.
/// </remarks>
public static class TestPorts
{
    private const int First = 20000;
    private const int Count = 10000;
    private static readonly HashSet<int> HandedOut = [];
    private static readonly Lock Gate = new();

    /// <summary>A TCP port on 127.0.0.1 that was free a moment ago and that no outgoing connection will take.</summary>
    public static int GetFree()
    {
        for (var attempt = 0; attempt < 200; attempt++)
        {
            var port = First + Random.Shared.Next(Count);
            lock (Gate)
            {
                if (!HandedOut.Add(port))
                {
                    continue;
                }
            }

            if (IsFree(port))
            {
                return port;
            }
        }

        throw new InvalidOperationException($"no free TCP port on 127.0.0.1 in {First}–{First + Count - 1} after 200 tries");
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
