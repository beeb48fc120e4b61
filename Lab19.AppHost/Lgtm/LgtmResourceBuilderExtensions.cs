namespace Lab19.AppHost;

/// <summary>lgtm in the graph: its ports, health check, dashboard links and the lab's own Grafana dashboards.</summary>
internal static class LgtmResourceBuilderExtensions
{
    public const string DashboardPath = "/d/lab19-beyla-red";

    /// <summary>Where the image reads extra Grafana dashboard providers and dashboards.</summary>
    public const string ProvisioningTarget = "/otel-lgtm/grafana/conf/provisioning/dashboards";

    /// <param name="grafanaPort">Grafana's port on the host.</param>
    public static IResourceBuilder<LgtmResource> AddLgtm(this IDistributedApplicationBuilder builder, string name, int grafanaPort)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);

        var lgtm = builder.AddResource(new LgtmResource(name))
            .WithImage(LgtmContainerImageTags.Image, LgtmContainerImageTags.Tag)
            .WithImageRegistry(LgtmContainerImageTags.Registry)
            .WithHttpEndpoint(port: grafanaPort, targetPort: 3000, name: LgtmResource.GrafanaEndpointName)
            .WithEndpoint(targetPort: 4317, name: LgtmResource.OtlpGrpcEndpointName, scheme: "http")
            .WithHttpEndpoint(targetPort: 4318, name: LgtmResource.OtlpHttpEndpointName)
            .WithHttpHealthCheck("/api/health", endpointName: LgtmResource.GrafanaEndpointName)
            .WithUrlForEndpoint(LgtmResource.GrafanaEndpointName, u => u.DisplayText = "Grafana")
            .WithUrlForEndpoint(LgtmResource.OtlpGrpcEndpointName, u => u.DisplayLocation = UrlDisplayLocation.DetailsOnly)
            .WithUrlForEndpoint(LgtmResource.OtlpHttpEndpointName, u => u.DisplayLocation = UrlDisplayLocation.DetailsOnly);
        return lgtm.WithUrl($"{lgtm.Resource.GrafanaEndpoint}{DashboardPath}", "Lab19 · RED metrics");
    }

    /// <summary>Provisions the lab's own Grafana dashboards (a provider YAML plus JSON files) from <paramref name="directory"/>, read-only.</summary>
    public static IResourceBuilder<LgtmResource> WithDashboards(this IResourceBuilder<LgtmResource> lgtm, string directory)
    {
        ArgumentNullException.ThrowIfNull(lgtm);
        ArgumentException.ThrowIfNullOrEmpty(directory);

        var source = Path.GetFullPath(directory, lgtm.ApplicationBuilder.AppHostDirectory);
        return lgtm
            .WithBindMount(Path.Combine(source, "custom.yaml"), $"{ProvisioningTarget}/custom.yaml", isReadOnly: true)
            .WithBindMount(Path.Combine(source, "custom"), $"{ProvisioningTarget}/custom", isReadOnly: true);
    }
}
