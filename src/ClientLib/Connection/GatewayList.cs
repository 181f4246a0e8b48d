using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace OrleansMQ.Client;

/// <summary>
/// The gateway list of <see cref="OrleansMQConnection.ConnectAsync(string, Microsoft.Extensions.Logging.ILoggerFactory?, CancellationToken)"/>:
/// comma-separated <c>host:port</c> entries (IPv6 literals in brackets, <c>[::1]:30000</c>).
/// </summary>
internal static class GatewayList
{
    private const string Example = "write host:port entries separated by commas, e.g. '127.0.0.1:30000' or 'broker-1:30000,broker-2:30000'";

    /// <summary>Splits and checks the list; throws <see cref="MQException"/> with <see cref="MQErrorCode.InvalidArgument"/>.</summary>
    public static IReadOnlyList<(string Host, int Port)> Parse(string? gateways)
    {
        if (string.IsNullOrWhiteSpace(gateways))
        {
            throw new MQException(MQErrorCode.InvalidArgument, $"the gateway list is empty; {Example}");
        }
        var result = new List<(string, int)>();
        foreach (var raw in gateways.Split(','))
        {
            var entry = raw.Trim();
            if (entry.Length == 0)
            {
                throw new MQException(MQErrorCode.InvalidArgument, $"the gateway list '{gateways}' has an empty entry; {Example}");
            }
            result.Add(ParseEntry(entry));
        }
        return result;
    }

    /// <summary>Parses the list and resolves host names (IPv4 addresses first, as silos usually listen on them).</summary>
    public static async Task<IPEndPoint[]> ResolveAsync(string? gateways, CancellationToken cancellationToken)
    {
        var endpoints = new List<IPEndPoint>();
        foreach (var (host, port) in Parse(gateways))
        {
            if (IPAddress.TryParse(host, out var literal))
            {
                endpoints.Add(new IPEndPoint(literal, port));
                continue;
            }
            IPAddress[] addresses;
            try
            {
                addresses = await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException ex)
            {
                throw new MQException(MQErrorCode.BrokerUnavailable, $"cannot resolve gateway host '{host}': {ex.Message}", ex);
            }
            var ipv4 = addresses.Where(a => a.AddressFamily == AddressFamily.InterNetwork).ToArray();
            foreach (var address in ipv4.Length > 0 ? ipv4 : addresses)
            {
                endpoints.Add(new IPEndPoint(address, port));
            }
        }
        if (endpoints.Count == 0)
        {
            throw new MQException(MQErrorCode.BrokerUnavailable, $"the gateway list '{gateways}' resolves to no address");
        }
        return [.. endpoints.Distinct()];
    }

    private static (string Host, int Port) ParseEntry(string entry)
    {
        string host;
        string port;
        if (entry.StartsWith('['))
        {
            var close = entry.IndexOf("]:", StringComparison.Ordinal);
            if (close < 0)
            {
                throw Bad(entry);
            }
            host = entry[1..close];
            port = entry[(close + 2)..];
        }
        else
        {
            var colon = entry.LastIndexOf(':');
            if (colon <= 0 || entry.IndexOf(':') != colon)
            {
                throw Bad(entry);
            }
            host = entry[..colon];
            port = entry[(colon + 1)..];
        }
        if (host.Length == 0 || host.Any(char.IsWhiteSpace)
            || !int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number is < 1 or > 65535)
        {
            throw Bad(entry);
        }
        return (host, number);
    }

    private static MQException Bad(string entry) =>
        new(MQErrorCode.InvalidArgument, $"gateway '{entry}' is not host:port with a port from 1 to 65535; {Example}");
}
