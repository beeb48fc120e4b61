namespace Lab19.AppHost;

/// <summary>grafana/otel-lgtm: Grafana, Tempo, Prometheus and Loki behind one OTLP receiver, in one container.</summary>
internal sealed class LgtmResource(string name) : ContainerResource(name)
{
    public const string GrafanaEndpointName = "grafana";
    public const string OtlpGrpcEndpointName = "otlp-grpc";
    public const string OtlpHttpEndpointName = "otlp-http";

    public EndpointReference GrafanaEndpoint => new(this, GrafanaEndpointName);

    /// <summary>Where Beyla, k6 and the runtime agent send their telemetry.</summary>
    public EndpointReference OtlpGrpcEndpoint => new(this, OtlpGrpcEndpointName);
}

/// <summary>The image lgtm runs (tags are X.Y.Z, e.g. 0.31.0).</summary>
internal static class LgtmContainerImageTags
{
    public const string Registry = "docker.io";
    public const string Image = "grafana/otel-lgtm";
    public const string Tag = "0.31.0";
}
