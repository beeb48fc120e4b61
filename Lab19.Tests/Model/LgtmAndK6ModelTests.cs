using Lab19.Tests.Infrastructure;
using static Lab19.Tests.Infrastructure.AppModel;

namespace Lab19.Tests;

/// <summary>lgtm and k6 in the AppHost's model (nothing started): Grafana's links and provisioning, k6's explicit start, script and targets.</summary>
public class LgtmAndK6ModelTests
{
    [Fact]
    public async Task Lgtm_shows_grafana_and_the_lab_dashboard_and_mounts_the_provisioning_read_only()
    {
        await using var builder = await ModelAsync();
        var lgtm = Resource(builder, "lgtm");

        var endpoints = lgtm.Annotations.OfType<EndpointAnnotation>().ToDictionary(e => e.Name, e => e.TargetPort);
        Assert.Equal(3000, endpoints["grafana"]);
        Assert.Equal(4317, endpoints["otlp-grpc"]);
        Assert.Equal(4318, endpoints["otlp-http"]);
        Assert.Contains(lgtm.Annotations.OfType<HealthCheckAnnotation>(), h => h.Key.Contains("lgtm"));

        var mounts = lgtm.Annotations.OfType<ContainerMountAnnotation>().ToList();
        Assert.All(mounts, m => Assert.True(m.IsReadOnly));
        Assert.Contains(mounts, m => m.Target == "/otel-lgtm/grafana/conf/provisioning/dashboards/custom.yaml" && File.Exists(m.Source));
        Assert.Contains(mounts, m => m.Target == "/otel-lgtm/grafana/conf/provisioning/dashboards/custom" && File.Exists(Path.Combine(m.Source!, "lab19-beyla-red.json")));

        var grafana = lgtm.Annotations.OfType<EndpointAnnotation>().Single(e => e.Name == "grafana");
        grafana.AllocatedEndpoint = new AllocatedEndpoint(grafana, "localhost", 3000);
        var urls = new List<ResourceUrlAnnotation> { new() { Url = "http://localhost:3000", Endpoint = new EndpointReference((IResourceWithEndpoints)lgtm, "grafana") } };
        var context = new ResourceUrlsCallbackContext(new DistributedApplicationExecutionContext(DistributedApplicationOperation.Run), lgtm, urls, TestContext.Current.CancellationToken);
        foreach (var callback in lgtm.Annotations.OfType<ResourceUrlsCallbackAnnotation>())
        {
            await callback.Callback(context);
        }
        Assert.Contains(urls, u => u.DisplayText == "Grafana" && u.Url == "http://localhost:3000");
        Assert.Contains(urls, u => u.DisplayText == "Lab19 · RED metrics" && u.Url == "http://localhost:3000/d/lab19-beyla-red");
    }

    [Fact]
    public async Task K6_starts_only_on_request_runs_the_mounted_script_and_reports_to_lgtm()
    {
        await using var builder = await ModelAsync();
        var k6 = Resource(builder, "k6");

        Assert.Single(k6.Annotations.OfType<ExplicitStartupAnnotation>());
        var script = Assert.Single(k6.Annotations.OfType<ContainerMountAnnotation>());
        Assert.True(script.IsReadOnly);
        Assert.Equal(Repo.PathOf("k6"), script.Source);
        Assert.True(File.Exists(Path.Combine(script.Source!, "load.js")));

        Assert.Equal(["run", "--out", "opentelemetry", "/scripts/load.js"], await ArgumentsAsync(k6));
        var env = await PublishEnvironmentAsync(k6);
        Assert.Equal("{user-service.bindings.http.url}", env["USER_SERVICE_URL"]);
        Assert.Equal("{point-service.bindings.http.url}", env["POINT_SERVICE_URL"]);
        Assert.Contains("lgtm", env["K6_OTEL_GRPC_EXPORTER_ENDPOINT"]);
    }
}
