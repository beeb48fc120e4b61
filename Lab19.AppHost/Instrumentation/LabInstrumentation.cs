using System.Reflection;

namespace Aspire.Hosting;

/// <summary>
/// The lab's instrumentation switch: which service runs the runtime agent, which ones Beyla watches, and where the agent's
/// telemetry goes (lgtm when observability is on, otherwise the Aspire dashboard's own OTLP endpoint, or Lab19:Agent:OtlpEndpoint).
/// </summary>
public sealed class LabInstrumentation
{
    /// <summary>The key of the [AssemblyMetadata] in which the AppHost's build records where it built Lab19.Agent.dll.</summary>
    public const string AgentPathMetadata = "Lab19.AgentPath";

    private readonly List<(IResourceBuilder<ProjectResource> Service, InstrumentationMode AgentIn)> _services = [];

    internal LabInstrumentation(InstrumentationMode mode, string? otlpEndpoint, string otlpProtocol)
    {
        Mode = mode;
        OtlpEndpoint = otlpEndpoint;
        OtlpProtocol = otlpProtocol;
    }

    public InstrumentationMode Mode { get; }

    /// <summary>Lab19:Agent:OtlpEndpoint: send the agent's telemetry there instead (with Lab19:Agent:OtlpProtocol).</summary>
    public string? OtlpEndpoint { get; }
    public string OtlpProtocol { get; }

    /// <summary>lgtm's OTLP gRPC endpoint, once observability is on.</summary>
    public EndpointReference? Lgtm { get; private set; }

    /// <summary>Beyla runs in ebpf and hybrid modes; in agent mode it is not even part of the model.</summary>
    public bool RunsBeyla => Mode != InstrumentationMode.Agent;

    /// <summary>The services Beyla watches (by their ports): those of <paramref name="services"/> that run without the agent in this mode.</summary>
    public IResourceBuilder<ProjectResource>[] WatchedByBeyla(params IResourceBuilder<ProjectResource>[] services) =>
        [.. services.Where(s => !HasAgent(s))];

    /// <summary>Lab19.Agent.dll as the AppHost's build left it (the AppHost builds the agent through a project reference).</summary>
    public static string AgentPath =>
        typeof(LabInstrumentation).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == AgentPathMetadata).Value!;

    internal bool HasAgent(IResourceBuilder<ProjectResource> service) => _services.Single(s => s.Service == service).AgentIn.HasFlag(Mode);

    internal void Add(IResourceBuilder<ProjectResource> service, InstrumentationMode agentIn) => _services.Add((service, agentIn));

    /// <summary>The agent's telemetry goes to lgtm (Tempo, Prometheus, Loki) rather than to the Aspire dashboard.</summary>
    public void SendAgentTelemetryTo(EndpointReference lgtmOtlpGrpc) => Lgtm = lgtmOtlpGrpc;

    /// <summary>Lab19:Instrumentation other than auto, in any case; null for a value that names no mode (<see cref="LabSettings.Validate"/> reports it).</summary>
    internal static InstrumentationMode? ParseMode(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        "ebpf" => InstrumentationMode.Ebpf,
        "agent" => InstrumentationMode.Agent,
        "hybrid" => InstrumentationMode.Hybrid,
        _ => null,
    };

    /// <summary>The instrumentation the plan chose for this host (auto resolved), with the agent's destination from <paramref name="lab"/>.</summary>
    internal static LabInstrumentation From(InstrumentationMode mode, LabSettings lab) => new(mode, lab.Agent.OtlpEndpoint, lab.Agent.OtlpProtocol);
}
