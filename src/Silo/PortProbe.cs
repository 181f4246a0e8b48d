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
