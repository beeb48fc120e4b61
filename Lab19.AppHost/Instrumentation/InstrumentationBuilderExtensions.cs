namespace Aspire.Hosting;

/// <summary>Lab19:Instrumentation = ebpf | agent | hybrid, applied to the services (the agent) and, through <see cref="LabInstrumentation.WatchedByBeyla"/>, to Beyla.</summary>
public static class InstrumentationBuilderExtensions
{
    /// <summary>The mode the plan chose (Lab19:Instrumentation, auto resolved) and the agent's destination (Lab19:Agent:OtlpEndpoint/OtlpProtocol).</summary>
    public static LabInstrumentation AddInstrumentation(this IDistributedApplicationBuilder builder, InstrumentationMode mode, LabSettings lab)
    {
        var instrumentation = LabInstrumentation.From(mode, lab);
        if (instrumentation.Mode != InstrumentationMode.Ebpf && builder.ExecutionContext.IsRunMode && !File.Exists(LabInstrumentation.AgentPath))
        {
            throw new InvalidOperationException($"Lab19:Instrumentation={instrumentation.Mode} needs {LabInstrumentation.AgentPath}: build the solution (the AppHost builds Lab19.Agent).");
        }
        return instrumentation;
    }

    /// <summary>
    /// In the modes named by <paramref name="agentIn"/> the service starts with the runtime agent and exports OTLP; in the others it exports
    /// nothing and keeps only its service name, which Beyla uses (see <see cref="ServiceResourceBuilderExtensions.WithoutTelemetryExport"/>).
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithInstrumentation(this IResourceBuilder<ProjectResource> service,
        LabInstrumentation instrumentation, InstrumentationMode agentIn)
    {
        instrumentation.Add(service, agentIn);
        return instrumentation.HasAgent(service) ? service.WithRuntimeAgent(instrumentation) : service.WithoutTelemetryExport();
    }

    /// <summary>
    /// DOTNET_STARTUP_HOOKS loads Lab19.Agent into the unmodified service; the standard OTEL_* variables tell it where to send what.
    /// Aspire already gives every project OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES and the dashboard's OTLP endpoint (with fast
    /// export intervals); those stay unless lgtm or Lab19:Agent:OtlpEndpoint is the destination.
    /// </summary>
    private static IResourceBuilder<ProjectResource> WithRuntimeAgent(this IResourceBuilder<ProjectResource> service, LabInstrumentation instrumentation) =>
        service.WithEnvironment(context =>
        {
            var env = context.EnvironmentVariables;
            env["DOTNET_STARTUP_HOOKS"] = LabInstrumentation.AgentPath;
            env["OTEL_SERVICE_NAME"] = service.Resource.Name;
            if (instrumentation.OtlpEndpoint is not null || instrumentation.Lgtm is not null)
            {
                // The dashboard's endpoint, protocol and API-key header are not for another receiver.
                foreach (var key in env.Keys.Where(k => k.StartsWith("OTEL_EXPORTER_OTLP_", StringComparison.Ordinal)).ToList())
                {
                    env.Remove(key);
                }
                env["OTEL_EXPORTER_OTLP_ENDPOINT"] = (object?)instrumentation.OtlpEndpoint ?? instrumentation.Lgtm!;
                env["OTEL_EXPORTER_OTLP_PROTOCOL"] = instrumentation.OtlpEndpoint is not null ? instrumentation.OtlpProtocol : "grpc";
            }
        });
}
