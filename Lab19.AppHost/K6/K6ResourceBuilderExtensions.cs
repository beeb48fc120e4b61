namespace Lab19.AppHost;

/// <summary>k6 in the graph: the script, the services it calls, and where its own metrics go.</summary>
internal static class K6ResourceBuilderExtensions
{
    public const string ScriptsTarget = "/scripts";

    /// <param name="scriptsDirectory">The folder of the scripts, relative to the AppHost's directory, mounted read-only.</param>
    /// <param name="script">The script k6 runs, in that folder.</param>
    public static IResourceBuilder<K6Resource> AddK6(this IDistributedApplicationBuilder builder, string name, string scriptsDirectory, string script)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentException.ThrowIfNullOrEmpty(scriptsDirectory);
        ArgumentException.ThrowIfNullOrEmpty(script);

        return builder.AddResource(new K6Resource(name))
            .WithImage(K6ContainerImageTags.Image, K6ContainerImageTags.Tag)
            .WithImageRegistry(K6ContainerImageTags.Registry)
            .WithBindMount(Path.GetFullPath(scriptsDirectory, builder.AppHostDirectory), ScriptsTarget, isReadOnly: true)
            .WithArgs("run", "--out", "opentelemetry", $"{ScriptsTarget}/{script}")
            .WithExplicitStart();
    }

    /// <summary>Passes a service's base URL, as a container reaches it, in the variable the script reads.</summary>
    public static IResourceBuilder<K6Resource> WithTarget(this IResourceBuilder<K6Resource> k6, string variable, IResourceBuilder<IResourceWithEndpoints> service)
    {
        ArgumentNullException.ThrowIfNull(k6);
        ArgumentException.ThrowIfNullOrEmpty(variable);
        ArgumentNullException.ThrowIfNull(service);
        return k6.WithEnvironment(variable, service.GetEndpoint("http"));
    }

    /// <summary>k6's own metrics (its request rate, latencies, checks) go to lgtm's OTLP receiver, beside Beyla's.</summary>
    public static IResourceBuilder<K6Resource> WithOtlpMetrics(this IResourceBuilder<K6Resource> k6, EndpointReference otlpGrpc)
    {
        ArgumentNullException.ThrowIfNull(k6);
        ArgumentNullException.ThrowIfNull(otlpGrpc);
        return k6
            .WithEnvironment("K6_OTEL_GRPC_EXPORTER_ENDPOINT", ReferenceExpression.Create($"{otlpGrpc.Property(EndpointProperty.HostAndPort)}"))
            .WithEnvironment("K6_OTEL_GRPC_EXPORTER_INSECURE", "true")
            .WithEnvironment("K6_OTEL_SERVICE_NAME", "k6")
            .WithEnvironment("K6_OTEL_METRIC_PREFIX", "k6_");
    }
}
