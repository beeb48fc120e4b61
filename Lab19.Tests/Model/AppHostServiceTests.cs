using static Lab19.Tests.Infrastructure.AppModel;

namespace Lab19.Tests;

/// <summary>How the AppHost runs the two services (nothing started): unproxied ports, a service name for Beyla and no exporter, .NET's trace propagation switch.</summary>
public class AppHostServiceTests
{
    [Theory]
    [InlineData(new string[0], LabSettings.DefaultUserServicePort, LabSettings.DefaultPointServicePort)]
    [InlineData(new[] { "--Lab19:UserServicePort=18080", "--Lab19:PointServicePort=18001" }, 18080, 18001)]
    public async Task The_services_listen_unproxied_on_the_configured_ports_and_Beyla_watches_the_same(string[] args, int userPort, int pointPort)
    {
        await using var builder = await ModelAsync(args);

        foreach (var (name, port) in new[] { ("user-service", userPort), ("point-service", pointPort) })
        {
            var http = Assert.Single(Resource(builder, name).Annotations.OfType<EndpointAnnotation>(), e => e.Name == "http");
            Assert.False(http.IsProxied, $"{name} is behind DCP's proxy: Beyla would find the proxy, not the service");
            Assert.Equal((port, port), (http.Port, http.TargetPort));
        }
        Assert.Equal($"{userPort},{pointPort}", (await PublishEnvironmentAsync(Resource(builder, "beyla")))["BEYLA_OPEN_PORT"]);
    }

    [Fact]
    public async Task The_services_get_a_service_name_for_Beyla_and_no_telemetry_exporter()
    {
        // The dashboard's OTLP address makes Aspire add exporter variables to every project; the lab must take them off again.
        await using var builder = await ModelAsync("--ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL=http://localhost:18889",
            $"--ConnectionStrings:userdb={UserDb}", $"--ConnectionStrings:pointdb={PointDb}");

        foreach (var (name, env) in await RunEnvironmentsAsync(builder, "user-service", "point-service"))
        {
            Assert.Equal(name, env["OTEL_SERVICE_NAME"]);
            Assert.Contains("OTEL_RESOURCE_ATTRIBUTES", env.Keys); // proof that Aspire's OTLP settings were applied at all
            Assert.DoesNotContain(env.Keys, k => k.StartsWith("OTEL_EXPORTER_OTLP_", StringComparison.Ordinal));
        }
    }

    [Theory]
    [InlineData(new string[0], null)]
    [InlineData(new[] { "--Lab19:DotnetTracePropagation=false" }, "false")]
    public async Task Dotnet_trace_propagation_is_left_on_unless_the_lab_switches_it_off(string[] args, string? expected)
    {
        await using var builder = await ModelAsync(args);

        var env = await PublishEnvironmentAsync(Resource(builder, "user-service"));
        Assert.Equal(expected, env.GetValueOrDefault(ServiceResourceBuilderExtensions.DisableActivityPropagationVariable));
    }

    [Theory]
    [InlineData(new string[0], "0.0.0.0")]
    [InlineData(new[] { "--Lab19:Observability:Enabled=false" }, "127.0.0.1")]
    public async Task The_services_listen_on_all_interfaces_only_when_a_container_must_reach_them(string[] args, string host)
    {
        // With observability on, the k6 container calls the services through the host; without it nothing outside the host needs them.
        await using var builder = await ModelAsync(args);

        foreach (var (name, env) in await RunEnvironmentsAsync(builder, "user-service", "point-service"))
        {
            var port = name == "user-service" ? LabSettings.DefaultUserServicePort : LabSettings.DefaultPointServicePort;
            Assert.Equal($"http://{host}:{port}", env["ASPNETCORE_URLS"]);
        }
    }

    [Theory]
    [InlineData(new string[0], "text")]
    [InlineData(new[] { "--Lab19:Beyla:TracePrinter=json" }, "json")]
    [InlineData(new[] { "--Lab19:Beyla:TracePrinter=disabled" }, "disabled")]
    public async Task The_trace_printer_setting_reaches_Beylas_container(string[] args, string printer)
    {
        await using var builder = await ModelAsync(args);

        Assert.Equal(printer, (await PublishEnvironmentAsync(Resource(builder, "beyla")))["BEYLA_TRACE_PRINTER"]);
    }
}
