using Lab19.Tests.Infrastructure;
using static Lab19.Tests.Infrastructure.AppModel;

namespace Lab19.Tests;

/// <summary>Lab19:Instrumentation in the AppHost's model (nothing started): who gets the agent, who gets Beyla, where the agent reports.</summary>
public class InstrumentationModelTests
{
    private const string Dashboard = "http://localhost:18889";
    private static readonly string[] Services = ["user-service", "point-service"];

    private static Task<IDistributedApplicationTestingBuilder> ModelAsync(string mode, params string[] args) =>
        AppModel.ModelAsync([$"--Lab19:Instrumentation={mode}", $"--ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL={Dashboard}",
            "--Lab19:UserServicePort=18080", "--Lab19:PointServicePort=18001", .. args]);

    [Theory]
    [InlineData("ebpf", new string[0], "18080,18001")]
    [InlineData("agent", new[] { "user-service", "point-service" }, null)]
    [InlineData("hybrid", new[] { "user-service" }, "18001")]
    [InlineData("HYBRID", new[] { "user-service" }, "18001")]
    public async Task Each_mode_gives_the_agent_and_Beyla_their_services(string mode, string[] withAgent, string? beylaPorts)
    {
        await using var builder = await ModelAsync(mode);
        var environments = await RunEnvironmentsAsync(builder, Services);

        foreach (var (name, env) in environments)
        {
            Assert.Equal(name, env["OTEL_SERVICE_NAME"]);
            if (withAgent.Contains(name))
            {
                Assert.Equal(RuntimeAgent.Path, env["DOTNET_STARTUP_HOOKS"]);
                // Observability is on: lgtm's OTLP gRPC receiver, not the dashboard.
                Assert.Equal(await EndpointUrlAsync(builder, "lgtm", "otlp-grpc"), env["OTEL_EXPORTER_OTLP_ENDPOINT"]);
                Assert.Equal("grpc", env["OTEL_EXPORTER_OTLP_PROTOCOL"]);
                Assert.DoesNotContain("OTEL_EXPORTER_OTLP_HEADERS", env.Keys); // the dashboard's API key is not for lgtm
            }
            else
            {
                Assert.DoesNotContain("DOTNET_STARTUP_HOOKS", env.Keys);
                Assert.DoesNotContain(env.Keys, k => k.StartsWith("OTEL_EXPORTER_OTLP_", StringComparison.Ordinal));
            }
        }

        var beyla = builder.Resources.SingleOrDefault(r => r.Name == "beyla");
        if (beylaPorts is null)
        {
            Assert.Null(beyla);
            Assert.DoesNotContain(builder.Resources.SelectMany(r => r.Annotations.OfType<WaitAnnotation>()), w => w.Resource.Name == "beyla");
        }
        else
        {
            var env = await PublishEnvironmentAsync(Assert.IsAssignableFrom<IResource>(beyla));
            Assert.Equal(beylaPorts, env["BEYLA_OPEN_PORT"]);
            Assert.Equal("true", env["BEYLA_EXCLUDE_OTEL_INSTRUMENTED_SERVICES"]);
        }
        Assert.Contains(builder.Resources, r => r.Name == "lgtm");
    }

    [Theory]
    [InlineData("agent", 2)]
    [InlineData("hybrid", 1)]
    public async Task Without_observability_the_agent_reports_to_the_Aspire_dashboard(string mode, int servicesWithAgent)
    {
        await using var builder = await ModelAsync(mode, "--Lab19:Observability:Enabled=false");
        var environments = await RunEnvironmentsAsync(builder, Services);

        var withAgent = environments.Values.Where(env => env.ContainsKey("DOTNET_STARTUP_HOOKS")).ToList();
        Assert.Equal(servicesWithAgent, withAgent.Count);
        Assert.All(withAgent, env =>
        {
            Assert.Equal(Dashboard, env["OTEL_EXPORTER_OTLP_ENDPOINT"]);
            Assert.Equal("grpc", env["OTEL_EXPORTER_OTLP_PROTOCOL"]);
        });
        Assert.DoesNotContain(builder.Resources, r => r.Name is "beyla" or "lgtm");
    }

    [Fact]
    public async Task A_configured_OTLP_endpoint_replaces_lgtm_and_the_dashboard()
    {
        await using var builder = await ModelAsync("agent", "--Lab19:Agent:OtlpEndpoint=http://collector:4318", "--Lab19:Agent:OtlpProtocol=http/protobuf");

        foreach (var env in (await RunEnvironmentsAsync(builder, Services)).Values)
        {
            Assert.Equal("http://collector:4318", env["OTEL_EXPORTER_OTLP_ENDPOINT"]);
            Assert.Equal("http/protobuf", env["OTEL_EXPORTER_OTLP_PROTOCOL"]);
        }
    }

    [Fact]
    public async Task The_OTLP_protocol_goes_with_the_configured_endpoint_only()
    {
        await using (var endpointOnly = await ModelAsync("agent", "--Lab19:Agent:OtlpEndpoint=http://collector:4317"))
        {
            Assert.All((await RunEnvironmentsAsync(endpointOnly, Services)).Values, env => Assert.Equal("grpc", env["OTEL_EXPORTER_OTLP_PROTOCOL"]));
        }

        // Without an endpoint the agent sends to lgtm's gRPC receiver whatever the protocol says (the plan says it is ignored).
        await using var protocolOnly = await ModelAsync("agent", "--Lab19:Agent:OtlpProtocol=http/protobuf");
        foreach (var env in (await RunEnvironmentsAsync(protocolOnly, Services)).Values)
        {
            Assert.Equal(await EndpointUrlAsync(protocolOnly, "lgtm", "otlp-grpc"), env["OTEL_EXPORTER_OTLP_ENDPOINT"]);
            Assert.Equal("grpc", env["OTEL_EXPORTER_OTLP_PROTOCOL"]);
        }
    }

    [Fact]
    public void The_AppHost_knows_where_its_build_put_the_agent_and_the_agents_dependencies_are_beside_it()
    {
        var agent = RuntimeAgent.Path;
        Assert.True(File.Exists(agent), agent);
        Assert.Equal("Lab19.Agent.dll", Path.GetFileName(agent));
        Assert.True(File.Exists(Path.Combine(Path.GetDirectoryName(agent)!, "OpenTelemetry.dll")));
        Assert.True(File.Exists(Path.Combine(Path.GetDirectoryName(agent)!, "OpenTelemetry.Exporter.OpenTelemetryProtocol.dll")));
    }

    private static async Task<string> EndpointUrlAsync(IDistributedApplicationTestingBuilder builder, string resource, string endpoint) =>
        (await new EndpointReference((IResourceWithEndpoints)Resource(builder, resource), endpoint).GetValueAsync(TestContext.Current.CancellationToken))!;
}
