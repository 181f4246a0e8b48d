using System.Net;
using System.Net.Sockets;

namespace OrleansMQ.Silo;

/// <summary>
/// Checks that the silo's ports are free before Orleans binds them. Orleans' listeners set
/// ReuseAddress, which on Linux lets a second silo bind the same port and silently split clients
/// between two clusters; a plain bind without reuse fails instead, with a clear line.
/// </summary>
public static class PortProbe
{
    /// <summary>Whether nothing listens on <paramref name="address"/>:<paramref name="port"/> (bound and released at once).</summary>
    public static bool IsFree(IPAddress address, int port)
    {
        try
        {
            EnsureFree(address, port, "probe");
            return true;
        }
        catch (SiloSettingsException)
        {
            return false;
        }
    }

    /// <summary>Throws <see cref="SiloSettingsException"/> naming <c>--<paramref name="what"/>-port</c> when the port is taken.</summary>
    public static void EnsureFree(IPAddress address, int port, string what)
    {
        using var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, false);
        try
        {
            socket.Bind(new IPEndPoint(address, port));
        }
        catch (SocketException e)
        {
            throw new SiloSettingsException($"{what} port {port} on {address} is already in use ({e.SocketErrorCode}); stop the other silo or pass --{what}-port");
        }
    }
}
