namespace Aspire.Hosting;

/// <summary>grafana/otel-lgtm: Grafana, Tempo, Prometheus and Loki behind one OTLP receiver.</summary>
public static class LgtmResourceBuilderExtensions
{
    public const string Image = "grafana/otel-lgtm";
    public const string Tag = "0.31.0";
    public const string GrafanaEndpoint = "grafana";
    public const string OtlpGrpcEndpoint = "otlp-grpc";
    public const string OtlpHttpEndpoint = "otlp-http";
    public const string DashboardPath = "/d/lab19-beyla-red";

    /// <summary>Where the image reads extra Grafana dashboard providers and dashboards.</summary>
    public const string ProvisioningTarget = "/otel-lgtm/grafana/conf/provisioning/dashboards";

    public static IResourceBuilder<ContainerResource> AddLgtm(this IDistributedApplicationBuilder builder, string name, int grafanaPort)
    {
        var lgtm = builder.AddContainer(name, Image, Tag)
            .WithImageRegistry("docker.io")
            .WithHttpEndpoint(port: grafanaPort, targetPort: 3000, name: GrafanaEndpoint)
            .WithEndpoint(targetPort: 4317, name: OtlpGrpcEndpoint, scheme: "http")
            .WithHttpEndpoint(targetPort: 4318, name: OtlpHttpEndpoint)
            .WithHttpHealthCheck("/api/health", endpointName: GrafanaEndpoint)
            .WithUrlForEndpoint(GrafanaEndpoint, u => u.DisplayText = "Grafana")
            .WithUrlForEndpoint(OtlpGrpcEndpoint, u => u.DisplayLocation = UrlDisplayLocation.DetailsOnly)
            .WithUrlForEndpoint(OtlpHttpEndpoint, u => u.DisplayLocation = UrlDisplayLocation.DetailsOnly);
        return lgtm.WithUrl($"{lgtm.GetEndpoint(GrafanaEndpoint)}{DashboardPath}", "Lab19 · RED metrics");
    }

    /// <summary>Provisions the lab's own Grafana dashboards (a provider YAML plus JSON files) from <paramref name="directory"/>, read-only.</summary>
    public static IResourceBuilder<ContainerResource> WithDashboards(this IResourceBuilder<ContainerResource> lgtm, string directory)
    {
        var source = Path.GetFullPath(directory, lgtm.ApplicationBuilder.AppHostDirectory);
        return lgtm
            .WithBindMount(Path.Combine(source, "custom.yaml"), $"{ProvisioningTarget}/custom.yaml", isReadOnly: true)
            .WithBindMount(Path.Combine(source, "custom"), $"{ProvisioningTarget}/custom", isReadOnly: true);
    }

    public static EndpointReference GetOtlpGrpcEndpoint(this IResourceBuilder<ContainerResource> lgtm) => lgtm.GetEndpoint(OtlpGrpcEndpoint);
}
