using System.Net;

namespace OrleansMQ.Silo.Dashboard;

/// <summary>Where the silo serves its web console and HTTP API.</summary>
public sealed class DashboardOptions
{
    /// <summary>The address Kestrel listens on: the silo's advertised IP, or <see cref="IPAddress.Any"/> with <c>--listen-any</c>.</summary>
    public IPAddress ListenAddress { get; set; } = IPAddress.Loopback;

    /// <summary>The address shown in the console URL (the advertised IP; never 0.0.0.0).</summary>
    public IPAddress AdvertisedAddress { get; set; } = IPAddress.Loopback;

    /// <summary>The port (default 8080, as rocketmq-dashboard). 0 picks a free port, which tests use; the silo's <c>--http-port 0</c> instead turns the console off.</summary>
    public int Port { get; set; } = SiloSettings.DefaultHttpPort;

    /// <summary>
    /// Whether the operator chose the port. A chosen port that is taken fails the start; the default one being taken
    /// (a second silo on the machine) only turns this silo's console off, with a warning.
    /// </summary>
    public bool PortGiven { get; set; }

    /// <summary>Who may log in (<c>--console-users</c>); null leaves the console open to anyone who reaches its port.</summary>
    public ConsoleUsers? Users { get; set; }

    /// <summary>Whether <see cref="Port"/> is a port number (0 included: any free port).</summary>
    internal bool HasValidPort => Port is >= 0 and <= 65535;
}
