using System.Diagnostics;
using Lab19.Tests.Infrastructure;

namespace Lab19.Tests;

/// <summary>The agent as docs/runtime-agent.md hands it out: <c>dotnet publish Lab19.Agent -c Release -o DIR</c>, once per test run.</summary>
public sealed class PublishedAgent : IAsyncLifetime
{
    private readonly string _folder = Directory.CreateTempSubdirectory("lab19-agent-").FullName;
    public OtlpReceiver Receiver { get; } = new();

    public string Hook => Path.Combine(_folder, "Lab19.Agent.dll");

    public async ValueTask InitializeAsync()
    {
        await Processes.RunAsync("dotnet", "publish", Repo.PathOf("Lab19.Agent", "Lab19.Agent.csproj"), "-c", "Release", "-o", _folder, "--nologo", "-v", "quiet");
        await Receiver.StartAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await Receiver.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }
}

/// <summary>The contract: the published agent in an unmodified service through DOTNET_STARTUP_HOOKS and the standard OTEL_* variables, nothing else.</summary>
public class AgentContractTests(PublishedAgent agent, SharedDatabases databases) : IClassFixture<PublishedAgent>
{
    private Dictionary<string, string> Database(string service) => service == "UserService"
        ? new() { ["ConnectionStrings__userdb"] = databases.Postgres.ConnectionString("userdb_plain") }
        : new() { ["ConnectionStrings__pointdb"] = databases.MariaDb.ConnectionString("pointdb_plain") };

    private Dictionary<string, string> WithAgent(string service, string endpoint, string protocol = "http/protobuf") => new(Database(service))
    {
        ["DOTNET_STARTUP_HOOKS"] = agent.Hook,
        ["OTEL_EXPORTER_OTLP_ENDPOINT"] = endpoint,
        ["OTEL_EXPORTER_OTLP_PROTOCOL"] = protocol,
        ["OTEL_SERVICE_NAME"] = $"{service}-{protocol}",
        ["OTEL_RESOURCE_ATTRIBUTES"] = "deployment.environment.name=test",
        ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
        ["OTEL_METRIC_EXPORT_INTERVAL"] = "500",
    };

    [Theory]
    [InlineData("PointService", "/api/v1/points/user/3/total", "MySqlConnector", "http/protobuf")]
    [InlineData("UserService", "/api/v1/users?limit=2", "Npgsql", "http/protobuf")]
    [InlineData("PointService", "/api/v1/points/user/4/total", "MySqlConnector", "grpc")] // what lgtm and the Aspire dashboard receive
    public async Task A_published_agent_makes_an_unmodified_service_export_traces_and_metrics(string service, string path, string database, string protocol)
    {
        var endpoint = protocol == "grpc" ? agent.Receiver.GrpcEndpoint : agent.Receiver.Endpoint;
        await using var process = await ServiceProcess.StartAsync(service, WithAgent(service, endpoint, protocol));
        Assert.Contains("OpenTelemetry.dll", process.LoadedAssemblies());
        var traceId = ActivityTraceId.CreateRandom().ToHexString();
        using var request = Http.Request(HttpMethod.Get, path);
        request.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom().ToHexString()}-01");
        using var response = await process.Http.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var name = $"{service}-{protocol}";
        await OtlpReceiver.WaitUntilAsync(() => agent.Receiver.Spans.Any(s => s.TraceId == traceId && s.Kind == SpanKind.Server), $"the server span of {name}");
        var server = Assert.Single(agent.Receiver.Spans, s => s.TraceId == traceId && s.Kind == SpanKind.Server);
        Assert.Equal(name, server.Service);
        Assert.Contains(agent.Receiver.Spans, s => s.TraceId == traceId && s.Scope == database && s.ParentSpanId == server.SpanId);
        await OtlpReceiver.WaitUntilAsync(() => agent.Receiver.Metrics.Any(m => m.Service == name && m.Name == "http.server.request.duration"), $"metrics of {name}");

        Assert.Equal(0, await process.StopAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task With_the_agent_its_own_sampler_decides_even_for_a_trace_the_service_starts()
    {
        // The services mark a trace they start as sampled (Lab19.ServiceDefaults/TraceContext.cs); with the agent loaded, OTEL_TRACES_SAMPLER decides.
        var environment = new Dictionary<string, string>(WithAgent("PointService", agent.Receiver.Endpoint)) { ["OTEL_TRACES_SAMPLER"] = "always_off", ["OTEL_SERVICE_NAME"] = "point-service-unsampled" };
        await using var process = await ServiceProcess.StartAsync("PointService", environment);
        using var response = await process.Http.GetAsync("/api/v1/points/user/5/total", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        // Metrics arrive (the agent exports), and after the stop has flushed every batch, no span of this service is among them.
        await OtlpReceiver.WaitUntilAsync(() => agent.Receiver.Metrics.Any(m => m.Service == "point-service-unsampled" && m.Name == "http.server.request.duration"), "metrics of point-service-unsampled");
        Assert.Equal(0, await process.StopAsync(TimeSpan.FromSeconds(30)));
        Assert.DoesNotContain(agent.Receiver.Spans, s => s.Service == "point-service-unsampled");
    }

    [Fact]
    public async Task Without_the_hook_the_service_loads_no_OpenTelemetry_and_exports_nothing()
    {
        var environment = new Dictionary<string, string>(Database("PointService"))
        {
            // Everything the agent would need, except the hook itself.
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = agent.Receiver.Endpoint,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_SERVICE_NAME"] = "point-service-bare",
        };
        await using var process = await ServiceProcess.StartAsync("PointService", environment);
        using var response = await process.Http.GetAsync("/api/v1/points/user/3/total", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var loaded = process.LoadedAssemblies();
        Assert.Contains("PointService.dll", loaded); // the list is the real one
        Assert.DoesNotContain(loaded, a => a.StartsWith("OpenTelemetry", StringComparison.Ordinal) || a.StartsWith("Lab19.Agent", StringComparison.Ordinal));
        Assert.Equal(0, await process.StopAsync(TimeSpan.FromSeconds(30)));
        Assert.DoesNotContain(agent.Receiver.Spans, s => s.Service == "point-service-bare");
    }

    [Theory]
    [InlineData("refused", "http/protobuf")]
    [InlineData("refused", "grpc")]
    [InlineData("malformed", "http/protobuf")]
    public async Task An_unreachable_or_malformed_endpoint_never_stops_the_service(string endpoint, string protocol)
    {
        var url = endpoint == "refused" ? $"http://127.0.0.1:{DatabaseServer.FreePort()}" : "not a url";
        await using var process = await ServiceProcess.StartAsync("PointService", WithAgent("PointService", url, protocol));
        Assert.Contains("OpenTelemetry.dll", process.LoadedAssemblies());

        // Enough requests to fill several export batches, each answered as without the agent.
        for (var i = 0; i < 200; i++)
        {
            using var response = await process.Http.GetAsync($"/api/v1/points/user/{i % 100 + 1}/total", TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        await Task.Delay(1500, TestContext.Current.CancellationToken); // several failed exports (every 200 ms and 500 ms)
        using var last = await process.Http.GetAsync("/api/v1/points/user/1/total", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, last.StatusCode);

        Assert.Equal(0, await process.StopAsync(TimeSpan.FromSeconds(30)));
        Assert.DoesNotContain("Unhandled exception", process.Output);
    }
}
