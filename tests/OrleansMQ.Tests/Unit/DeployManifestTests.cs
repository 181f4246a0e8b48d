using System.Net;
using System.Text.RegularExpressions;
using OrleansMQ.Silo;
using OrleansMQ.Tests.Infrastructure;
using YamlDotNet.RepresentationModel;

namespace OrleansMQ.Tests.Unit;

/// <summary>
/// deploy/ cannot be applied here (no container engine, no Kubernetes), so these tests hold it to the code it runs:
/// the silo container's command line must be one the silo accepts, with the ports and probes it really serves, and the
/// image must build every project the silo and the CLI are made of.
/// </summary>
[Collection(ProcessEnvironmentCollection.Name)]
public sealed partial class DeployManifestTests : IDisposable
{
    private static readonly string Deploy = Path.Combine(ProcessRunner.RepositoryRoot, "deploy");
    private readonly string? _savedPostgres = Environment.GetEnvironmentVariable("ORLEANSMQ_POSTGRES");

    public void Dispose() => Environment.SetEnvironmentVariable("ORLEANSMQ_POSTGRES", _savedPostgres);

    [Fact]
    public void The_silo_container_command_line_parses_to_the_ports_it_declares()
    {
        var container = SiloContainer();
        var env = ((YamlSequenceNode)container["env"]).Cast<YamlMappingNode>().ToDictionary(e => Text(e["name"]));
        Assert.Equal("status.podIP", Text(((YamlMappingNode)((YamlMappingNode)env["POD_IP"]["valueFrom"])["fieldRef"])["fieldPath"]));
        Assert.True(env.ContainsKey("ORLEANSMQ_POSTGRES"), "the store's connection string comes from the environment");

        // Kubernetes expands $(POD_IP) in args from the container's environment.
        var args = ((YamlSequenceNode)container["args"]).Select(Text).Select(a => a.Replace("$(POD_IP)", "10.1.2.3", StringComparison.Ordinal)).ToArray();
        Environment.SetEnvironmentVariable("ORLEANSMQ_POSTGRES", "Host=orleansmq-postgres;Username=u;Database=d");
        var settings = SiloSettings.Parse(args);

        Assert.Equal(IPAddress.Parse("10.1.2.3"), settings.AdvertisedIp);
        Assert.True(settings.ListenOnAnyAddress, "probes and other pods reach the silo on its pod IP");
        Assert.Equal("Production", settings.Environment);
        Assert.False(settings.AutoCreateTopics);
        var ports = ((YamlSequenceNode)container["ports"]).Cast<YamlMappingNode>().ToDictionary(p => Text(p["name"]), p => int.Parse(Text(p["containerPort"])));
        Assert.Equal(new Dictionary<string, int> { ["silo"] = settings.SiloPort, ["gateway"] = settings.GatewayPort, ["http"] = settings.HttpPort }, ports);
    }

    [Fact]
    public void The_probes_ask_the_console_port_for_the_health_endpoints_the_silo_serves()
    {
        var container = SiloContainer();

        // DashboardApiTests proves /healthz and /readyz answer; here they must be what the probes ask for.
        Assert.Equal(("/healthz", "http"), Probe(container, "startupProbe"));
        Assert.Equal(("/healthz", "http"), Probe(container, "livenessProbe"));
        Assert.Equal(("/readyz", "http"), Probe(container, "readinessProbe"));

        // DashboardApiTests proves /metrics answers; the scrape annotations must point at it on the console's port.
        var silo = Documents("base", "silo.yaml").Single();
        var annotations = (YamlMappingNode)((YamlMappingNode)((YamlMappingNode)((YamlMappingNode)silo["spec"])["template"])["metadata"])["annotations"];
        var httpPort = ((YamlSequenceNode)container["ports"]).Cast<YamlMappingNode>().Single(p => Text(p["name"]) == "http")["containerPort"];
        Assert.Equal(("true", Text(httpPort), "/metrics"),
            (Text(annotations["prometheus.io/scrape"]), Text(annotations["prometheus.io/port"]), Text(annotations["prometheus.io/path"])));
    }

    [Fact]
    public void The_services_select_the_silo_pods_by_the_ports_the_container_names()
    {
        var silo = Documents("base", "silo.yaml").Single();
        var podLabels = (YamlMappingNode)((YamlMappingNode)((YamlMappingNode)silo["spec"])["template"])["metadata"];
        var label = Text(((YamlMappingNode)podLabels["labels"])["app.kubernetes.io/name"]);
        var portNames = ((YamlSequenceNode)SiloContainer()["ports"]).Cast<YamlMappingNode>().Select(p => Text(p["name"])).ToHashSet();

        var services = Documents("base", "services.yaml").ToList();
        Assert.Equal(["orleansmq-gateway", "orleansmq-console"], services.Select(s => Text(((YamlMappingNode)s["metadata"])["name"])));
        foreach (var service in services)
        {
            var spec = (YamlMappingNode)service["spec"];
            Assert.Equal(label, Text(((YamlMappingNode)spec["selector"])["app.kubernetes.io/name"]));
            Assert.All(((YamlSequenceNode)spec["ports"]).Cast<YamlMappingNode>(), p => Assert.Contains(Text(p["targetPort"]), portNames));
        }
        // Headless: the gateway name resolves to every ready silo, so a client knows them all.
        Assert.Equal("None", Text(((YamlMappingNode)services[0]["spec"])["clusterIP"]));
    }

    [Fact]
    public void The_image_builds_every_project_the_silo_and_the_cli_are_made_of_and_starts_the_silo()
    {
        var dockerfile = File.ReadAllText(Path.Combine(Deploy, "Dockerfile"));
        var copied = CopiedProject().Matches(dockerfile).Select(m => m.Groups["path"].Value).ToHashSet();
        var projects = Directory.GetDirectories(Path.Combine(ProcessRunner.RepositoryRoot, "src"))
            .SelectMany(d => Directory.GetFiles(d, "*.csproj"))
            .Select(p => Path.GetRelativePath(ProcessRunner.RepositoryRoot, p).Replace('\\', '/'))
            .ToHashSet();

        Assert.Equal(projects.Order(), copied.Order());
        Assert.Contains("COPY sql/ sql/", dockerfile);
        var entry = typeof(SiloSettings).Assembly.GetName().Name + ".dll";
        Assert.Contains($"ENTRYPOINT [\"dotnet\", \"/app/silo/{entry}\"]", dockerfile);
    }

    private static YamlMappingNode SiloContainer()
    {
        var deployment = Documents("base", "silo.yaml").Single();
        Assert.Equal("Deployment", Text(deployment["kind"]));
        var pod = (YamlMappingNode)((YamlMappingNode)((YamlMappingNode)deployment["spec"])["template"])["spec"];
        return (YamlMappingNode)((YamlSequenceNode)pod["containers"]).Single();
    }

    private static (string Path, string Port) Probe(YamlMappingNode container, string name)
    {
        var get = (YamlMappingNode)((YamlMappingNode)container[name])["httpGet"];
        return (Text(get["path"]), Text(get["port"]));
    }

    private static IEnumerable<YamlMappingNode> Documents(params string[] path)
    {
        var yaml = new YamlStream();
        using (var reader = new StreamReader(Path.Combine([Deploy, "kubernetes", .. path])))
        {
            yaml.Load(reader);
        }
        return yaml.Documents.Select(d => (YamlMappingNode)d.RootNode);
    }

    private static string Text(YamlNode node) => ((YamlScalarNode)node).Value ?? "";

    [GeneratedRegex(@"^COPY (?<path>src/[^ ]+\.csproj) ", RegexOptions.Multiline)]
    private static partial Regex CopiedProject();
}
