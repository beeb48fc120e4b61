using System.Diagnostics;
using Lab19.Tests.Infrastructure;

namespace Lab19.Tests;

/// <summary>The lab in agent mode (observability off), both services reporting to the tests' own OTLP receiver.</summary>
public sealed class AgentLabFixture(SharedDatabases databases) : IAsyncLifetime
{
    public const string UserDb = "userdb_agent";

    public OtlpReceiver Receiver { get; } = new();
    public LabApp Lab { get; private set; } = null!;
    public SharedDatabases Databases => databases;

    public async ValueTask InitializeAsync()
    {
        await Receiver.StartAsync();
        Lab = await LabApp.StartAsync(databases.Postgres.ConnectionString(UserDb), databases.MariaDb.ConnectionString("pointdb_agent"),
            settings: ["--Lab19:Instrumentation=agent", $"--Lab19:Agent:OtlpEndpoint={Receiver.Endpoint}", "--Lab19:Agent:OtlpProtocol=http/protobuf"]);
    }

    public async ValueTask DisposeAsync()
    {
        await Lab.DisposeAsync();
        await Receiver.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class AgentLabCollection : ICollectionFixture<AgentLabFixture>
{
    public const string Name = "lab in agent mode";
}

[Collection(AgentLabCollection.Name)]
public class AgentTraceTests(AgentLabFixture fixture)
{
    private OtlpReceiver Receiver => fixture.Receiver;

    /// <summary>A sampled W3C traceparent, as k6 or a calling service would send it; returns the trace id and the caller's span id.</summary>
    private static (string TraceId, string ParentId, string Header) Traceparent()
    {
        string traceId = ActivityTraceId.CreateRandom().ToHexString(), parentId = ActivitySpanId.CreateRandom().ToHexString();
        return (traceId, parentId, $"00-{traceId}-{parentId}-01");
    }

    private List<OtlpSpan> Trace(string traceId) => [.. Receiver.Spans.Where(s => s.TraceId == traceId)];

    private static bool IsServer(OtlpSpan span, string service) => span.Service == service && span.Kind == SpanKind.Server;

    private static string? Statement(OtlpSpan span) => span.Attribute("db.query.text") ?? span.Attribute("db.statement");

    [Fact]
    public async Task One_user_request_is_one_trace_through_both_services_and_both_databases()
    {
        var (traceId, parentId, traceparent) = Traceparent();
        using var request = Http.Request(HttpMethod.Get, "/api/v1/users/7");
        request.Headers.Add("traceparent", traceparent);
        using var response = await fixture.Lab.Users.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        // Children end, and are exported, before their parents. A slow attempt may have been retried (the resilience handler): each
        // attempt is a client span of its own, so the assertions follow the two calls that answered.
        await OtlpReceiver.WaitUntilAsync(() => Trace(traceId) is var t && t.Any(s => IsServer(s, "user-service"))
                && t.Count(s => IsServer(s, "point-service") && s.Attribute("http.response.status_code") == "200") >= 2,
            $"the server spans of trace {traceId}");
        var trace = Trace(traceId);

        var server = Assert.Single(trace, s => IsServer(s, "user-service"));
        Assert.Equal(parentId, server.ParentSpanId);
        Assert.Equal("GET /api/v1/users/{id}", server.Name);
        Assert.Equal("200", server.Attribute("http.response.status_code"));

        var postgres = Assert.Single(trace, s => s.Scope == "Npgsql");
        Assert.Equal(server.SpanId, postgres.ParentSpanId);
        Assert.Equal(SpanKind.Client, postgres.Kind);
        Assert.Equal("user-service", postgres.Service);
        Assert.Equal("postgresql", postgres.Attribute("db.system"));
        Assert.StartsWith("SELECT", Statement(postgres));

        var clients = trace.Where(s => s.Service == "user-service" && s.Kind == SpanKind.Client && s.Scope == "System.Net.Http").ToList();
        Assert.All(clients, client => Assert.Equal(server.SpanId, client.ParentSpanId));
        var answered = clients.Where(c => c.Attribute("http.response.status_code") == "200").ToList();
        // The total and the recent records (the query string is redacted by HttpClient itself).
        Assert.Equal(["/api/v1/points/user/7", "/api/v1/points/user/7/total"], answered.Select(c => new Uri(c.Attribute("url.full")!).AbsolutePath).Order());
        foreach (var client in answered)
        {
            var pointServer = Assert.Single(trace, s => IsServer(s, "point-service") && s.ParentSpanId == client.SpanId);
            Assert.Equal("200", pointServer.Attribute("http.response.status_code"));
            var mysql = trace.Where(s => s.Scope == "MySqlConnector" && s.ParentSpanId == pointServer.SpanId).ToList();
            Assert.Contains(mysql, s => Statement(s)?.StartsWith("SELECT", StringComparison.Ordinal) == true);
            Assert.All(mysql, s => Assert.Equal("point-service", s.Service));
            // The names Beyla gives these statements (its rule, BeylaRules.SqlSpanName) are the ones the ebpf trace tree in docs/beyla-under-aspire.md shows.
            Assert.All(mysql.Where(s => Statement(s)?.StartsWith("SELECT", StringComparison.Ordinal) == true),
                s => Assert.Contains(("point-service", BeylaRules.SqlSpanName(Statement(s)!, "mysql")), TraceTreeTests.SqlSpansOfTheWalkthroughsTree()));
        }
        Assert.Contains(("user-service", BeylaRules.SqlSpanName(Statement(postgres)!, "postgresql")), TraceTreeTests.SqlSpansOfTheWalkthroughsTree());
    }

    [Fact]
    public async Task Both_services_report_their_request_duration_runtime_metrics_and_logs()
    {
        using var response = await fixture.Lab.Users.GetAsync("/api/v1/users/8", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        foreach (var service in new[] { "user-service", "point-service" })
        {
            await OtlpReceiver.WaitUntilAsync(() => Receiver.Metrics.Any(m => m.Service == service && m.Name == "http.server.request.duration"),
                $"http.server.request.duration from {service}");
            await OtlpReceiver.WaitUntilAsync(() => Receiver.Metrics.Any(m => m.Service == service && m.Scope == "System.Runtime"), $"runtime metrics from {service}");
            // The host's own start-up log, from the service's ILogger, as a structured log record.
            await OtlpReceiver.WaitUntilAsync(() => Receiver.Logs.Any(l => l.Service == service && l.Category == "Microsoft.Hosting.Lifetime"), $"logs from {service}");
        }
        Assert.Contains(Receiver.Metrics, m => m.Service == "user-service" && m.Name == "http.client.request.duration");

        // What the Grafana dashboard relies on when it says a panel is filled by the agent too: these metrics, with these attributes.
        foreach (var (name, attributes) in DashboardTests.AgentMetrics)
        {
            Assert.Contains(Receiver.Metrics, m => m.Name == name && attributes.All(m.Attributes.Contains));
        }
    }

    [Fact]
    public async Task A_rejected_post_is_a_400_server_span_and_writes_nothing()
    {
        // The control: a valid POST, whose INSERT the agent does show.
        var (createdTrace, _, createdParent) = Traceparent();
        using var create = Http.Request(HttpMethod.Post, "/api/v1/users", Http.Json(new { name = "Agent Test", email = $"agent-{Guid.NewGuid():N}@example.com" }));
        create.Headers.Add("traceparent", createdParent);
        using var created = await fixture.Lab.Users.SendAsync(create, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        var (rejectedTrace, rejectedParentId, rejectedParent) = Traceparent();
        const string users = "SELECT COUNT(*) + COALESCE(MAX(id), 0) FROM users"; // a stored row adds to both
        var before = await DataSnapshot.ScalarAsync(fixture.Databases, LabDatabase.Users, AgentLabFixture.UserDb, users);
        using var reject = Http.Request(HttpMethod.Post, "/api/v1/users", Http.Json(new { name = "", email = "not-an-address" }));
        reject.Headers.Add("traceparent", rejectedParent);
        using var rejected = await fixture.Lab.Users.SendAsync(reject, TestContext.Current.CancellationToken);
        await Http.AssertProblemAsync(rejected, HttpStatusCode.BadRequest);
        Assert.Equal(before, await DataSnapshot.ScalarAsync(fixture.Databases, LabDatabase.Users, AgentLabFixture.UserDb, users));

        await OtlpReceiver.WaitUntilAsync(() => Trace(createdTrace).Any(s => IsServer(s, "user-service")) && Trace(rejectedTrace).Any(s => IsServer(s, "user-service")),
            "the server spans of both POSTs");
        Assert.Contains(Trace(createdTrace), s => s.Scope == "Npgsql" && Statement(s)?.Contains("INSERT", StringComparison.Ordinal) == true);

        var trace = Trace(rejectedTrace);
        var server = Assert.Single(trace, s => IsServer(s, "user-service"));
        Assert.Equal(rejectedParentId, server.ParentSpanId);
        Assert.Equal("POST /api/v1/users/", server.Name); // the route as mapped: MapPost("/") in the /api/v1/users group
        Assert.Equal("400", server.Attribute("http.response.status_code"));
        Assert.DoesNotContain(trace, s => s.Scope == "Npgsql" && Statement(s)?.Contains("INSERT", StringComparison.Ordinal) == true);
    }
}
