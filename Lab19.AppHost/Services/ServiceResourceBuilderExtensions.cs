namespace Lab19.AppHost;

/// <summary>How the two uninstrumented services are run so that Beyla can find and name them.</summary>
internal static class ServiceResourceBuilderExtensions
{
    /// <summary>
    /// The service itself listens on <paramref name="port"/> (no DCP proxy in front): Beyla discovers processes by the port they open.
    /// It binds all interfaces only when a container must reach it through the host (k6; Beyla shares the host's network and needs
    /// no more than loopback), and loopback only otherwise, so a lab without containers opens nothing to the network.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithUnproxiedHttpEndpoint(this IResourceBuilder<ProjectResource> service, int port, bool reachableFromContainers)
    {
        ArgumentNullException.ThrowIfNull(service);
        return service.WithEndpoint("http", e =>
        {
            e.Port = port;
            e.TargetPort = port;
            e.IsProxied = false;
            e.TargetHost = reachableFromContainers ? "0.0.0.0" : "127.0.0.1";
        });
    }

    /// <summary>
    /// Keeps OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (Beyla names the service from them) and drops the exporter
    /// settings Aspire gives every project (OTEL_EXPORTER_OTLP_* and the SDK tuning): nothing in these services exports telemetry.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithoutTelemetryExport(this IResourceBuilder<ProjectResource> service) =>
        service.WithEnvironment(context =>
        {
            foreach (var key in context.EnvironmentVariables.Keys.Where(k => k.StartsWith("OTEL_", StringComparison.Ordinal) && k is not ("OTEL_SERVICE_NAME" or "OTEL_RESOURCE_ATTRIBUTES")).ToList())
            {
                context.EnvironmentVariables.Remove(key);
            }
            context.EnvironmentVariables["OTEL_SERVICE_NAME"] = service.Resource.Name;
        });

    /// <summary>
    /// Whether .NET's HttpClient writes the W3C <c>traceparent</c> of the current request on outgoing calls (on by default in .NET).
    /// Off, the only trace context on the wire is what Beyla injects itself: the lab's "Beyla alone" exercise.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithDotnetTracePropagation(this IResourceBuilder<ProjectResource> service, bool enabled) =>
        enabled ? service : service.WithEnvironment(DisableActivityPropagationVariable, "false");

    /// <summary>The runtime's environment switch for the System.Net.Http.EnableActivityPropagation AppContext setting.</summary>
    public const string DisableActivityPropagationVariable = "DOTNET_SYSTEM_NET_HTTP_ENABLEACTIVITYPROPAGATION";
}
