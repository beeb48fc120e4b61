namespace Lab19.AppHost;

/// <summary>Who instruments a service, marked on it in AppHost.cs and applied by one environment callback per service when it starts.</summary>
internal static class InstrumentationBuilderExtensions
{
    /// <summary>
    /// <see cref="Instrumenter.RuntimeAgent"/>: the service starts with the runtime agent and exports OTLP to Lab19:Agent:OtlpEndpoint when
    /// set, else to lgtm when the graph has it, else to the Aspire dashboard. <see cref="Instrumenter.Beyla"/>: the service exports
    /// nothing and keeps only its service name, which Beyla uses (see <see cref="ServiceResourceBuilderExtensions.WithoutTelemetryExport"/>).
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithInstrumentation(this IResourceBuilder<ProjectResource> service, Instrumenter by, LabSettings.AgentSettings agent)
    {
        ArgumentNullException.ThrowIfNull(service);
        ArgumentNullException.ThrowIfNull(agent);
        service.WithAnnotation(new InstrumentationAnnotation(by), ResourceAnnotationMutationBehavior.Replace);
        if (by == Instrumenter.Beyla)
        {
            return service.WithoutTelemetryExport();
        }
        if (service.ApplicationBuilder.ExecutionContext.IsRunMode && !File.Exists(RuntimeAgent.Path))
        {
            throw new InvalidOperationException($"{service.Resource.Name} needs the runtime agent, {RuntimeAgent.Path}: build the solution (the AppHost builds Lab19.Agent).");
        }
        return service.WithRuntimeAgent(agent);
    }

    /// <summary>Who instruments <paramref name="service"/> (Beyla where it is not marked).</summary>
    public static Instrumenter InstrumentedBy(this IResource service) =>
        service.Annotations.OfType<InstrumentationAnnotation>().LastOrDefault()?.By ?? Instrumenter.Beyla;

    /// <summary>
    /// DOTNET_STARTUP_HOOKS loads Lab19.Agent into the unmodified service; the standard OTEL_* variables tell it where to send what.
    /// Aspire already gives every project OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES and the dashboard's OTLP endpoint (with fast
    /// export intervals); those stay unless lgtm or Lab19:Agent:OtlpEndpoint is the destination.
    /// </summary>
    private static IResourceBuilder<ProjectResource> WithRuntimeAgent(this IResourceBuilder<ProjectResource> service, LabSettings.AgentSettings agent) =>
        service.WithEnvironment(context =>
        {
            var env = context.EnvironmentVariables;
            env["DOTNET_STARTUP_HOOKS"] = RuntimeAgent.Path;
            env["OTEL_SERVICE_NAME"] = service.Resource.Name;
            // lgtm, when the graph has it: Grafana shows the agent's telemetry as it shows Beyla's.
            var lgtm = service.ApplicationBuilder.Resources.OfType<LgtmResource>().SingleOrDefault();
            if (agent.OtlpEndpoint is null && lgtm is null)
            {
                return;
            }
            // The dashboard's endpoint, protocol and API-key header are not for another receiver.
            foreach (var key in env.Keys.Where(k => k.StartsWith("OTEL_EXPORTER_OTLP_", StringComparison.Ordinal)).ToList())
            {
                env.Remove(key);
            }
            env["OTEL_EXPORTER_OTLP_ENDPOINT"] = agent.OtlpEndpoint is { } endpoint ? endpoint : lgtm!.OtlpGrpcEndpoint;
            env["OTEL_EXPORTER_OTLP_PROTOCOL"] = agent.OtlpEndpoint is not null ? agent.EndpointProtocol() : "grpc";
        });
}
