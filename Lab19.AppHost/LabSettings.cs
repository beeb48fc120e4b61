using System.Reflection;
using Microsoft.Extensions.Configuration;

namespace Lab19.AppHost;

/// <summary>
/// The lab's settings: the <c>Lab19</c> configuration section (appsettings.json, command line, environment), bound once, with every
/// default here and every value checked before the AppHost builds anything.
/// </summary>
internal sealed record LabSettings
{
    public const string Section = "Lab19";

    /// <summary>The default ports, as constants so that attribute arguments can name them.</summary>
    public const int DefaultUserServicePort = 8080, DefaultPointServicePort = 8001, DefaultGrafanaPort = 3000;

    /// <summary>user-service listens on this port itself (no proxy): Beyla finds it there, k6 calls it there.</summary>
    public int UserServicePort { get; init; } = DefaultUserServicePort;

    public int PointServicePort { get; init; } = DefaultPointServicePort;

    /// <summary>Grafana (in lgtm) on the host.</summary>
    public int GrafanaPort { get; init; } = DefaultGrafanaPort;

    /// <summary>
    /// Who instruments the services: auto (Beyla where the host can run it, else the runtime agent), ebpf (Beyla), agent or hybrid
    /// (see <see cref="InstrumentationMode"/>).
    /// </summary>
    public string Instrumentation { get; init; } = "auto";

    /// <summary>
    /// Where the databases run: auto (containers where a Docker engine answers, else the PostgreSQL and MariaDB/MySQL servers installed on
    /// the host), containers, or local. A database whose connection string is configured (ConnectionStrings:userdb, :pointdb) uses that server.
    /// </summary>
    public string Databases { get; init; } = "auto";

    /// <summary>The values of <see cref="Databases"/>.</summary>
    public static readonly string[] DatabaseModes = ["auto", "containers", "local"];

    /// <summary>Whether .NET's HttpClient writes the W3C traceparent on outgoing calls; off, only Beyla's context is on the wire.</summary>
    public bool DotnetTracePropagation { get; init; } = true;

    public ObservabilitySettings Observability { get; init; } = new();

    public BeylaSettings Beyla { get; init; } = new();

    public PreflightSettings Preflight { get; init; } = new();

    public AgentSettings Agent { get; init; } = new();

    public KubernetesSettings Kubernetes { get; init; } = new();

    /// <summary>lgtm, Beyla and k6; off where containers or eBPF cannot run.</summary>
    public sealed record ObservabilitySettings
    {
        public bool Enabled { get; init; } = true;
    }

    public sealed record BeylaSettings
    {
        /// <summary>--privileged, or only Beyla's least-privilege capabilities.</summary>
        public bool Privileged { get; init; } = true;

        /// <summary>BEYLA_TRACE_PRINTER, one of <see cref="BeylaResourceBuilderExtensions.TracePrinters"/>.</summary>
        public string TracePrinter { get; init; } = "text";
    }

    /// <summary>Whether the AppHost checks the host before it starts Beyla (Lab19.AppHost/Preflight/).</summary>
    public sealed record PreflightSettings
    {
        public bool Enabled { get; init; } = true;
    }

    /// <summary>Where the runtime agent sends its telemetry instead of lgtm or the Aspire dashboard.</summary>
    public sealed record AgentSettings
    {
        /// <summary>The values of OTEL_EXPORTER_OTLP_PROTOCOL that the agent's OTLP exporter accepts (OpenTelemetry .NET's OtlpExportProtocolParser); it ignores any other and sends grpc.</summary>
        public static readonly string[] OtlpProtocols = ["grpc", "http/protobuf"];

        public const string DefaultOtlpProtocol = "grpc";

        public string? OtlpEndpoint { get; init; }

        /// <summary>How the agent reaches <see cref="OtlpEndpoint"/> (<see cref="DefaultOtlpProtocol"/> when unset); without an endpoint it is ignored.</summary>
        public string? OtlpProtocol { get; init; }

        /// <summary>The protocol the agent uses with <see cref="OtlpEndpoint"/>: <see cref="OtlpProtocol"/>, else <see cref="DefaultOtlpProtocol"/>.</summary>
        public string EndpointProtocol() => OtlpProtocol ?? DefaultOtlpProtocol; // a method: the settings' properties are their keys
    }

    /// <summary>What the Kubernetes manifests name that the AppHost's model does not: where the lab is deployed and where its images are (Kubernetes/).</summary>
    public sealed record KubernetesSettings
    {
        /// <summary>The namespace of every object; Beyla's discovery and its ClusterRoleBinding name it too.</summary>
        public string Namespace { get; init; } = "lab19";

        /// <summary>Where the images of the services (and of the agent) are pushed, e.g. registry.example.com/lab19; none: the cluster's nodes have them already (kind load, minikube image load).</summary>
        public string? Registry { get; init; }

        /// <summary>The tag of those images (dotnet publish -p:ContainerImageTag=...).</summary>
        public string ImageTag { get; init; } = "latest";
    }

    /// <summary>The <c>Lab19</c> section of <paramref name="configuration"/>, validated; an unknown key or a bad value stops the AppHost.</summary>
    public static LabSettings Read(IConfiguration configuration)
    {
        var unknown = UnknownKeys(configuration.GetSection(Section), typeof(LabSettings)).ToList();
        if (unknown.Count > 0)
        {
            throw Invalid(unknown);
        }
        LabSettings? settings;
        try
        {
            settings = configuration.GetSection(Section).Get<LabSettings>(o => o.ErrorOnUnknownConfiguration = true);
        }
        catch (InvalidOperationException e)
        {
            throw new InvalidOperationException($"Invalid {Section} settings: {e.Message}", e);
        }
        return (settings ?? new()).Validate();
    }

    /// <summary>
    /// A line for each key under <paramref name="section"/> that names no property of <paramref name="type"/> (as the binder matches
    /// them, in any case): a misspelt setting would otherwise be bound to nothing and do nothing.
    /// </summary>
    private static IEnumerable<string> UnknownKeys(IConfigurationSection section, Type type)
    {
        var properties = type.GetProperties(BindingFlags.Public | BindingFlags.Instance);
        foreach (var child in section.GetChildren())
        {
            var property = properties.FirstOrDefault(p => p.Name.Equals(child.Key, StringComparison.OrdinalIgnoreCase));
            if (property is null)
            {
                yield return $"{child.Path} is not a setting; {section.Path} has {string.Join(", ", properties.Select(p => p.Name))}.";
            }
            else if (property.PropertyType.IsClass && property.PropertyType != typeof(string))
            {
                foreach (var problem in UnknownKeys(child, property.PropertyType))
                {
                    yield return problem;
                }
            }
        }
    }

    /// <summary>This, when every value is usable; otherwise an exception that names each bad value and its key.</summary>
    public LabSettings Validate()
    {
        var problems = Problems().ToList();
        return problems.Count == 0 ? this : throw Invalid(problems);
    }

    /// <summary>The exception that stops the AppHost, one line per problem.</summary>
    private static InvalidOperationException Invalid(IEnumerable<string> problems) =>
        new($"Invalid {Section} settings:{string.Concat(problems.Select(p => $"{Environment.NewLine}  {p}"))}");

    /// <summary>Whether a mode setting is "auto" (any case).</summary>
    public static bool IsAuto(string value) => value.Trim().Equals("auto", StringComparison.OrdinalIgnoreCase);

    private IEnumerable<string> Problems()
    {
        // Grafana's port is only taken while observability is on.
        List<(string Key, int Port)> ports = [(nameof(UserServicePort), UserServicePort), (nameof(PointServicePort), PointServicePort)];
        if (Observability.Enabled)
        {
            ports.Add((nameof(GrafanaPort), GrafanaPort));
        }
        foreach (var (key, port) in ports.Where(p => p.Port is < 1 or > 65535))
        {
            yield return $"{Section}:{key} must be a port from 1 to 65535, not {port}.";
        }
        foreach (var shared in ports.GroupBy(p => p.Port).Where(g => g.Count() > 1 && g.Key is >= 1 and <= 65535))
        {
            yield return $"{string.Join(" and ", shared.Select(p => $"{Section}:{p.Key}"))} share port {shared.Key}: each needs a port of its own.";
        }
        if (!IsAuto(Instrumentation) && InstrumentationModes.Parse(Instrumentation) is null)
        {
            yield return $"{Section}:Instrumentation must be auto, ebpf, agent or hybrid, not '{Instrumentation}'.";
        }
        if (!DatabaseModes.Contains(Databases.Trim().ToLowerInvariant()))
        {
            yield return $"{Section}:Databases must be {string.Join(", ", DatabaseModes)}, not '{Databases}'.";
        }
        if (!BeylaResourceBuilderExtensions.TracePrinters.Contains(Beyla.TracePrinter))
        {
            yield return $"{Section}:Beyla:TracePrinter must be one of {string.Join(", ", BeylaResourceBuilderExtensions.TracePrinters)}, not '{Beyla.TracePrinter}'.";
        }
        foreach (var problem in KubernetesNames.Problems(Kubernetes))
        {
            yield return $"{Section}:Kubernetes:{problem}";
        }
        if (Agent.OtlpEndpoint is { } endpoint && !(Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"))
        {
            // The agent's exporter takes OTEL_EXPORTER_OTLP_ENDPOINT as an absolute URI; anything else would fail each service at its start.
            yield return $"{Section}:Agent:OtlpEndpoint must be an http or https URL, e.g. http://collector:4317, not '{endpoint}'.";
        }
        if (Agent.OtlpProtocol is { } protocol && !AgentSettings.OtlpProtocols.Contains(protocol))
        {
            yield return $"{Section}:Agent:OtlpProtocol must be {string.Join(" or ", AgentSettings.OtlpProtocols)}, not '{protocol}'.";
        }
    }
}
