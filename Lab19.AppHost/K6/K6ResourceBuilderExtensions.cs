namespace Aspire.Hosting;

/// <summary>grafana/k6 running k6/load.js; started from the dashboard's Start button, not with the lab.</summary>
public static class K6ResourceBuilderExtensions
{
    public const string Image = "grafana/k6";
    public const string Tag = "1.8.1";
    public const string ScriptsTarget = "/scripts";

    public static IResourceBuilder<ContainerResource> AddK6(this IDistributedApplicationBuilder builder, string name, string scriptsDirectory, string script)
    {
        return builder.AddContainer(name, Image, Tag)
            .WithImageRegistry("docker.io")
            .WithBindMount(Path.GetFullPath(scriptsDirectory, builder.AppHostDirectory), ScriptsTarget, isReadOnly: true)
            .WithArgs("run", "--out", "opentelemetry", $"{ScriptsTarget}/{script}")
            .WithExplicitStart();
    }

    /// <summary>Passes a service's base URL, as a container reaches it, in the variable the script reads.</summary>
    public static IResourceBuilder<ContainerResource> WithTarget(this IResourceBuilder<ContainerResource> k6, string variable, IResourceBuilder<IResourceWithEndpoints> service) =>
        k6.WithEnvironment(variable, service.GetEndpoint("http"));

    /// <summary>k6's own metrics (its request rate, latencies, checks) go to the same OTLP receiver as Beyla's.</summary>
    public static IResourceBuilder<ContainerResource> WithOtlpMetrics(this IResourceBuilder<ContainerResource> k6, EndpointReference otlpGrpc) =>
        k6
            .WithEnvironment("K6_OTEL_GRPC_EXPORTER_ENDPOINT", ReferenceExpression.Create($"{otlpGrpc.Property(EndpointProperty.HostAndPort)}"))
            .WithEnvironment("K6_OTEL_GRPC_EXPORTER_INSECURE", "true")
            .WithEnvironment("K6_OTEL_SERVICE_NAME", "k6")
            .WithEnvironment("K6_OTEL_METRIC_PREFIX", "k6_");
}
