using System.Reflection;

namespace Lab19.AppHost;

/// <summary>Who turns the services' work into telemetry: the value of <c>Lab19:Instrumentation</c> once auto is resolved.</summary>
internal enum InstrumentationMode
{
    /// <summary>Beyla, from the kernel, outside the processes.</summary>
    Ebpf,

    /// <summary>The runtime agent (Lab19.Agent, the OpenTelemetry .NET SDK by a startup hook) inside both services; no Beyla.</summary>
    Agent,

    /// <summary>The runtime agent in user-service, Beyla for point-service.</summary>
    Hybrid,
}

/// <summary>Who instruments one service.</summary>
internal enum Instrumenter
{
    /// <summary>Beyla watches the service's port; the service exports nothing itself.</summary>
    Beyla,

    /// <summary>The runtime agent, loaded into the unmodified service at start-up, exports OTLP.</summary>
    RuntimeAgent,
}

/// <summary>Marks a service with who instruments it (<see cref="InstrumentationBuilderExtensions.WithInstrumentation"/>); Beyla watches the services marked <see cref="Instrumenter.Beyla"/>.</summary>
internal sealed record InstrumentationAnnotation(Instrumenter By) : IResourceAnnotation;

internal static class InstrumentationModes
{
    /// <summary>Lab19:Instrumentation other than auto, in any case; null for a value that names no mode (<see cref="LabSettings.Validate"/> reports it).</summary>
    public static InstrumentationMode? Parse(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        "ebpf" => InstrumentationMode.Ebpf,
        "agent" => InstrumentationMode.Agent,
        "hybrid" => InstrumentationMode.Hybrid,
        _ => null,
    };

    /// <summary>Who instruments user-service and point-service in <paramref name="mode"/>: hybrid gives the calling service the agent.</summary>
    public static (Instrumenter UserService, Instrumenter PointService) Instrumenters(this InstrumentationMode mode) => mode switch
    {
        InstrumentationMode.Ebpf => (Instrumenter.Beyla, Instrumenter.Beyla),
        InstrumentationMode.Agent => (Instrumenter.RuntimeAgent, Instrumenter.RuntimeAgent),
        _ => (Instrumenter.RuntimeAgent, Instrumenter.Beyla),
    };
}

/// <summary>Lab19.Agent.dll, the runtime agent, as the AppHost's build left it (the AppHost builds the agent through a project reference).</summary>
internal static class RuntimeAgent
{
    /// <summary>The key of the [AssemblyMetadata] in which the AppHost's build records where it built Lab19.Agent.dll.</summary>
    public const string PathMetadata = "Lab19.AgentPath";

    /// <summary>The key of the [AssemblyMetadata] in which the AppHost's build records Lab19.Agent.csproj (for the agent's image).</summary>
    public const string ProjectMetadata = "Lab19.AgentProject";

    public static string Path => Metadata(PathMetadata);

    public static string ProjectPath => Metadata(ProjectMetadata);

    private static string Metadata(string key) =>
        typeof(RuntimeAgent).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;
}
