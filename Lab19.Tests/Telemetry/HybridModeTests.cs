using System.Diagnostics;
using Lab19.Tests.Infrastructure;

namespace Lab19.Tests;

/// <summary>
/// Hybrid mode run for real, with .NET's own propagation switched off (Lab19:DotnetTracePropagation=false): user-service runs the
/// runtime agent and reports to the tests' OTLP receiver, point-service runs bare; user-service calls a recording stand-in for
/// point-service, which sees the traceparent user-service writes.
/// </summary>
public sealed class HybridLabFixture(SharedDatabases databases) : FakePointServiceFixture(databases)
{
    public OtlpReceiver Receiver { get; } = new();

    protected override string DatabaseSuffix => "hybrid";

    protected override string[] Settings =>
        ["--Lab19:Instrumentation=hybrid", "--Lab19:DotnetTracePropagation=false", $"--Lab19:Agent:OtlpEndpoint={Receiver.Endpoint}", "--Lab19:Agent:OtlpProtocol=http/protobuf"];

    public override async ValueTask InitializeAsync()
    {
        await Receiver.StartAsync();
        await base.InitializeAsync();
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await Receiver.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class HybridLabCollection : ICollectionFixture<HybridLabFixture>
{
    public const string Name = "lab in hybrid mode";
}

[Collection(HybridLabCollection.Name)]
public class HybridModeTests(HybridLabFixture fixture)
{
    [Fact]
    public async Task User_services_agent_owns_trace_propagation_even_with_dotnet_propagation_off_and_its_client_span_is_point_services_parent()
    {
        string traceId = ActivityTraceId.CreateRandom().ToHexString(), callerSpan = ActivitySpanId.CreateRandom().ToHexString();
        var calls = await TraceparentHeader.CallsMadeForAsync(fixture, 12, $"00-{traceId}-{callerSpan}-01");

        // The agent sets HttpClient's propagation switch itself (Lab19.Agent/StartupHook.cs): the setting that turns .NET's off does not reach it.
        var received = calls.Select(TraceparentHeader.Parse).ToList();
        Assert.All(received, r => Assert.Equal((traceId, true), (r.TraceId, r.Sampled)));
        await OtlpReceiver.WaitUntilAsync(() => received.All(r => fixture.Receiver.Spans.Any(s => s.SpanId == r.SpanId)), "the agent's client spans of both calls");
        foreach (var (_, spanId, _) in received)
        {
            var client = Assert.Single(fixture.Receiver.Spans, s => s.SpanId == spanId);
            Assert.Equal(("user-service", SpanKind.Client, traceId), (client.Service, client.Kind, client.TraceId));
        }
        var server = Assert.Single(fixture.Receiver.Spans, s => s.TraceId == traceId && s.Kind == SpanKind.Server);
        Assert.Equal(("user-service", callerSpan), (server.Service, server.ParentSpanId));
    }

    [Fact]
    public async Task Point_service_runs_without_the_agent_and_sends_no_telemetry()
    {
        // The real point-service of this lab (user-service calls the stand-in): a process with no startup hook and no OpenTelemetry loaded.
        var pid = fixture.Lab.ServiceProcessId("point-service");
        Assert.DoesNotContain("DOTNET_STARTUP_HOOKS=", File.ReadAllText($"/proc/{pid}/environ").Split('\0').Select(v => v[..(v.IndexOf('=') + 1)]));
        Assert.DoesNotContain("OpenTelemetry", File.ReadAllText($"/proc/{pid}/maps"));

        using var response = await fixture.Lab.Points.GetAsync("/api/v1/points/user/3/total", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        // user-service's own telemetry keeps arriving; nothing ever comes from point-service.
        await OtlpReceiver.WaitUntilAsync(() => fixture.Receiver.Metrics.Any(m => m.Service == "user-service"), "user-service's metrics");
        Assert.DoesNotContain(fixture.Receiver.Spans, s => s.Service == "point-service");
        Assert.DoesNotContain(fixture.Receiver.Metrics, m => m.Service == "point-service");
    }
}
