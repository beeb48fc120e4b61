using System.Diagnostics;
using System.Text.RegularExpressions;
using Lab19.Tests.Infrastructure;
using Microsoft.Playwright;

namespace Lab19.Tests;

/// <summary>
/// The lab as a new user meets it on a host with the two database servers installed and no Docker: started with
/// `dotnet run --project Lab19.AppHost` and no arguments, its Aspire dashboard opened in a real browser from the login URL the AppHost
/// prints, one request followed from the resources page to its trace, and Ctrl+C at the end.
/// </summary>
[Collection(DefaultPortsCollection.Name)]
public sealed partial class DashboardInBrowserTests : IDisposable
{
    private static readonly TimeSpan PageTimeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The resources page as the user sees it, name and state column: the databases (run from the host's servers) and the services
    /// "Running", which the dashboard writes only for a healthy resource ("Running (Unhealthy)" while a health check fails), and in place
    /// of what needs Docker or eBPF, a resource whose state says what runs instead. Aspire also adds a hidden rebuilder to each project
    /// and lists itself (aspire-dashboard): none of them is in the grid unless the user chooses "Show hidden resources".
    /// </summary>
    private static readonly Dictionary<string, string> Resources = new()
    {
        ["user-db"] = "Running",
        ["userdb"] = "Running",
        ["point-db"] = "Running",
        ["pointdb"] = "Running",
        ["point-service-account"] = "Running",
        ["point-service"] = "Running",
        ["user-service"] = "Running",
        ["beyla"] = "Runtime agent instead",
        ["lgtm"] = "Docker not reachable",
        ["k6"] = "Docker not reachable",
    };

    private readonly string _dataHome = AppHostProcess.NewDataHome();

    public void Dispose() => Directory.Delete(_dataHome, recursive: true);

    private const string UserRoute = "GET /api/v1/users/{id}";
    private static readonly string[] PointRoutes = ["GET /api/v1/points/user/{userId}", "GET /api/v1/points/user/{userId}/total"];

    private readonly Stopwatch _clock = Stopwatch.StartNew();

    private static ITestOutputHelper? Log => TestContext.Current.TestOutputHelper;

    /// <summary>How far the test got, and when: where the time goes on a slow machine.</summary>
    private void Step(string what) => Log?.WriteLine($"{_clock.Elapsed.TotalSeconds,5:F1} s: {what}");

    [Fact]
    public async Task A_new_user_starts_the_lab_sees_it_running_and_follows_a_request_to_both_databases()
    {
        Chromium.SkipUnlessInstalled();
        LocalServers.SkipUnlessInstalled();
        await using var lab = await AppHostProcess.StartWithDefaultsAsync(_dataHome);
        Step($"user-service healthy; login URL {lab.LoginUrl}");
        await using var chromium = await Chromium.LaunchAsync();
        var page = chromium.Page;

        // The login URL sets the dashboard's cookie and lands on the resources page.
        await page.GotoAsync(lab.LoginUrl.ToString());
        await page.WaitForURLAsync(new Uri(lab.Dashboard, "/").ToString());
        Step("logged in");
        await TheResourcesPageShowsTheLabRunningAsync(page);
        Step("resources and parameters read");

        var (traceId, parentSpanId) = await SendARequestAsync(lab);
        Step($"GET /api/v1/users/7 answered, trace {traceId}");
        var spans = await TheTracePageShowsBothServicesAndBothDatabasesAsync(page, lab, traceId);
        Step("the trace page shows the whole trace");
        await TheTelemetryApiHasTheSameTraceAsync(chromium, lab, traceId, parentSpanId, spans);
        Step("the telemetry API agrees");

        var (exitCode, exited, allGone) = await lab.StopAsync();
        Step($"Ctrl+C: dotnet run exited with {exitCode} after {exited.TotalSeconds:F1} s, the lab's last process ended after {allGone.TotalSeconds:F1} s");
        // dotnet run exits with the AppHost's code: 0 when it handled the Ctrl+C, 130 had the signal killed it.
        Assert.True(exitCode == 0, $"dotnet run exited with {exitCode} on Ctrl+C. Its last output:\n{lab.Output}");
    }

    private static async Task TheResourcesPageShowsTheLabRunningAsync(IPage page)
    {
        // Health checks run every few seconds: the state can still read "Running (Unhealthy)" just after user-service first answered.
        await DashboardGrid.WaitUntilAsync(page, grid => Shows(grid, Resources), PageTimeout, Describe(Resources));
        await ResultFiles.ScreenshotAsync(page, "dashboard-resources");
    }

    /// <summary>
    /// The grid shows exactly these names, each with exactly this state: no red badge of error logs beside any of them, as a first start
    /// logs none (Faults/StartupLogTests.cs; the badge reads "Running [2 error logs]").
    /// </summary>
    private static bool Shows(DashboardGrid grid, Dictionary<string, string> expected) =>
        grid.Rows.Count == expected.Count && grid.Pairs("Name", "State").All(r => expected.GetValueOrDefault(r.Item1) == r.Item2);

    private static string Describe(Dictionary<string, string> rows) => string.Join(", ", rows.Select(r => $"{r.Key} {r.Value}")) + ", and nothing else";

    /// <summary><c>GET /api/v1/users/7</c> with a sampled W3C traceparent of a new trace, as a calling service or k6 sends it.</summary>
    private static async Task<(string TraceId, string ParentSpanId)> SendARequestAsync(AppHostProcess lab)
    {
        string traceId = ActivityTraceId.CreateRandom().ToHexString(), parentSpanId = ActivitySpanId.CreateRandom().ToHexString();
        using var http = new HttpClient { BaseAddress = lab.UserService, Timeout = TimeSpan.FromSeconds(30) };
        using var request = Http.Request(HttpMethod.Get, "/api/v1/users/7");
        request.Headers.Add("traceparent", $"00-{traceId}-{parentSpanId}-01");
        using var response = await http.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (traceId, parentSpanId);
    }

    /// <summary>
    /// The trace's page, /traces/detail/{traceId}: one row per span, its name and resource. The agent exports in batches, so the page is read
    /// again until the trace is whole: the user-service request, both point-service requests, and the database calls, which the dashboard
    /// names "DATA {db.system} {span name}" ("DATA postgresql userdb" for Npgsql, "DATA mysql Execute" for MySqlConnector). The page
    /// follows new spans only from the resource of the first span it showed (and none before it showed one): it is reloaded every 5 s.
    /// </summary>
    private static async Task<DashboardGrid> TheTracePageShowsBothServicesAndBothDatabasesAsync(IPage page, AppHostProcess lab, string traceId)
    {
        var url = new Uri(lab.Dashboard, $"/traces/detail/{traceId}").ToString();
        await page.GotoAsync(url);
        var spans = await DashboardGrid.WaitUntilAsync(page, IsWhole, PageTimeout,
            $"{UserRoute} in user-service, {string.Join(" and ", PointRoutes)} in point-service, a PostgreSQL call in user-service and a MySQL call in point-service",
            reloadEvery: TimeSpan.FromSeconds(5));
        await ResultFiles.ScreenshotAsync(page, "dashboard-trace-detail");

        var rows = spans.Pairs("Name", "Resource").ToList();
        Assert.Single(rows, r => r == (UserRoute, "user-service"));
        Assert.All(PointRoutes, route => Assert.Contains((route, "point-service"), rows));
        Assert.Contains(rows, r => r.Item1.StartsWith("DATA postgresql ", StringComparison.Ordinal) && r.Item2 == "user-service");
        Assert.Contains(rows, r => r.Item1.StartsWith("DATA mysql ", StringComparison.Ordinal) && r.Item2 == "point-service");
        Assert.Equal(["point-service", "user-service"], spans.Column("Resource").Distinct().Order());
        // The page is named after the trace's first span and the start of its id.
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToContainTextAsync($"user-service: {UserRoute} {traceId[..7]}");
        return spans;
    }

    private static bool IsWhole(DashboardGrid grid)
    {
        var rows = grid.Pairs("Name", "Resource").ToList();
        return rows.Contains((UserRoute, "user-service"))
            && PointRoutes.All(route => rows.Contains((route, "point-service")))
            && rows.Any(r => r.Item1.StartsWith("DATA postgresql ", StringComparison.Ordinal))
            && rows.Any(r => r.Item1.StartsWith("DATA mysql ", StringComparison.Ordinal));
    }

    /// <summary>
    /// The second witness: the dashboard's telemetry API gives the same trace, with what the page does not show (span kinds, the activity
    /// sources, the caller's span as parent). Both read the dashboard's one store; once the page showed the whole trace, nothing of it is
    /// still on its way (a process exports its spans in the order they end, and each server span ends after its database calls).
    /// </summary>
    private static async Task TheTelemetryApiHasTheSameTraceAsync(Chromium chromium, AppHostProcess lab, string traceId, string parentSpanId, DashboardGrid page)
    {
        var api = await DashboardTelemetryApi.LoginAsync(chromium.Context.APIRequest, lab.Dashboard, lab.LoginToken);

        var resources = await api.ResourcesAsync();
        Assert.All(new[] { "point-service", "user-service" }, name => Assert.Contains(resources, r => r.Name == name && r.HasTraces));

        var spans = await api.TraceAsync(traceId);
        Assert.NotNull(spans);
        Assert.All(spans, s => Assert.Equal(traceId, s.TraceId));
        Assert.Equal(["point-service", "user-service"], spans.Select(s => s.Service).Distinct().Order());
        Assert.Equal(page.Rows.Count, spans.Count);

        var root = Assert.Single(spans, s => s.Kind == SpanKind.Server && s.Service == "user-service");
        Assert.Equal(UserRoute, root.Name);
        Assert.Equal(parentSpanId, root.ParentSpanId);
        Assert.Equal(PointRoutes, spans.Where(s => s.Kind == SpanKind.Server && s.Service == "point-service").Select(s => s.Name).Distinct().Order());

        var postgres = Assert.Single(spans, s => s.Scope == "Npgsql");
        Assert.Equal(("user-service", SpanKind.Client, "postgresql"), (postgres.Service, postgres.Kind, postgres.Attribute("db.system")));
        var mysql = spans.Where(s => s.Scope == "MySqlConnector").ToList();
        Assert.NotEmpty(mysql);
        Assert.All(mysql, s => Assert.Equal(("point-service", SpanKind.Client, "mysql"), (s.Service, s.Kind, s.Attribute("db.system"))));
    }
}
