using System.Text.Json;
using System.Text.RegularExpressions;
using Lab19.Tests.Infrastructure;
using YamlDotNet.RepresentationModel;

namespace Lab19.Tests;

/// <summary>
/// grafana/: the provisioned RED dashboard queries only what Beyla exports today, from lgtm's own datasources, and each panel says
/// truthfully whether the runtime agent (which replaces Beyla where the host cannot run eBPF) fills it too.
/// </summary>
public partial class DashboardTests
{
    /// <summary>What Beyla 3.x exports for HTTP (Prometheus names, as stored by lgtm's Prometheus).</summary>
    private static readonly HashSet<string> BeylaMetrics =
    [
        "http_server_request_duration_seconds_bucket", "http_server_request_duration_seconds_sum", "http_server_request_duration_seconds_count",
        "http_client_request_duration_seconds_bucket", "http_client_request_duration_seconds_sum", "http_client_request_duration_seconds_count",
        "http_server_request_body_size_bytes_bucket", "http_server_request_body_size_bytes_sum", "http_server_request_body_size_bytes_count",
        "db_client_operation_duration_seconds_bucket", "db_client_operation_duration_seconds_sum", "db_client_operation_duration_seconds_count",
        "target_info",
        "beyla_network_flow_bytes_total",
    ];

    private static readonly HashSet<string> BeylaLabels =
        ["service_name", "http_request_method", "http_response_status_code", "http_route", "server_address", "server_port", "url_scheme", "le",
         "db_operation_name", "db_system_name", "src_address", "dst_address", "direction"];

    /// <summary>
    /// What the runtime agent records that the dashboard could use, with the attributes of its data points: ASP.NET Core's and
    /// HttpClient's request durations (AgentTraceTests checks that the agent sends them so). Nothing of it for database calls or flows.
    /// </summary>
    internal static readonly Dictionary<string, string[]> AgentMetrics = new()
    {
        ["http.server.request.duration"] = ["http.request.method", "http.response.status_code", "http.route"],
        ["http.client.request.duration"] = ["http.request.method", "http.response.status_code", "server.address", "server.port"],
    };

    /// <summary>
    /// The agent's metrics as lgtm's Prometheus stores them: names with the unit and the histogram suffixes, attributes with '_' for '.',
    /// and service_name, which lgtm's Prometheus promotes from the resource (otlp.promote_resource_attributes in grafana/docker-otel-lgtm's
    /// docker/prometheus.yaml).
    /// </summary>
    private static readonly HashSet<string> AgentPrometheusMetrics =
        [.. AgentMetrics.Keys.SelectMany(m => new[] { "_bucket", "_sum", "_count" }.Select(suffix => m.Replace('.', '_') + "_seconds" + suffix))];

    private static readonly HashSet<string> AgentPrometheusLabels =
        [.. AgentMetrics.Values.SelectMany(a => a).Select(a => a.Replace('.', '_')), "service_name", "le"];

    /// <summary>Beyla exports metrics every 10 s (beyla-config.yml); a one-minute window holds six points of each series.</summary>
    private const string RateWindow = "[1m]";

    /// <summary>The probes' routes: the RED panels show what users asked for, not the AppHost's health checks.</summary>
    private const string NoHealthRoutes = "http_route!~\"/health|/alive|/actuator/health\"";

    private static readonly HashSet<string> LgtmDatasources = ["prometheus", "tempo", "loki", "pyroscope"];

    private static JsonElement Dashboard => JsonDocument.Parse(File.ReadAllText(Repo.PathOf("grafana", "custom", "lab19-beyla-red.json"))).RootElement;

    private static IEnumerable<JsonElement> Walk(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => e.EnumerateObject().SelectMany(p => Walk(p.Value)).Prepend(e),
        JsonValueKind.Array => e.EnumerateArray().SelectMany(Walk),
        _ => [],
    };

    private static List<string> PromQl() =>
        Walk(Dashboard).Where(o => o.TryGetProperty("expr", out _)).Select(o => o.GetProperty("expr").GetString()!)
            .Concat(Walk(Dashboard).Where(o => o.TryGetProperty("definition", out _)).Select(o => o.GetProperty("definition").GetString()!))
            .ToList();

    [GeneratedRegex(@"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\s*[{\[]")]
    private static partial Regex MetricSelector();

    [GeneratedRegex(@"label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*,\s*([a-zA-Z_]+)\s*\)")]
    private static partial Regex LabelValues();

    [GeneratedRegex(@"\b(?:by|without)\s*\(([^)]*)\)|[{,]\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)")]
    internal static partial Regex Labels();

    [Fact]
    public void Is_the_lab_dashboard_with_red_panels_and_a_tempo_panel()
    {
        Assert.Equal("Lab19 · RED metrics", Dashboard.GetProperty("title").GetString());
        Assert.Equal(LgtmResourceBuilderExtensions.DashboardPath, "/d/" + Dashboard.GetProperty("uid").GetString());
        var panels = Dashboard.GetProperty("panels").EnumerateArray().ToList();
        var titles = string.Join(" | ", panels.Select(p => p.GetProperty("title").GetString()));
        foreach (var word in new[] { "Request rate", "Error rate", "p50 / p95 / p99", "client side", "Database", "traces" })
        {
            Assert.Contains(word, titles);
        }
        var tempo = Assert.Single(panels, p => p.GetProperty("datasource").GetProperty("uid").GetString() == "tempo");
        Assert.Contains("user-service", tempo.GetProperty("targets")[0].GetProperty("query").GetString());
    }

    [Fact]
    public void Every_query_uses_only_metrics_and_labels_Beyla_exports()
    {
        var queries = PromQl();
        Assert.True(queries.Count >= 6, $"{queries.Count} queries");
        foreach (var query in queries)
        {
            var metrics = MetricSelector().Matches(query).Select(m => m.Groups[1].Value)
                .Concat(LabelValues().Matches(query).Select(m => m.Groups[1].Value)).ToList();
            Assert.NotEmpty(metrics);
            Assert.All(metrics, m => Assert.Contains(m, BeylaMetrics));

            var labels = Labels().Matches(query)
                .SelectMany(m => m.Groups[1].Success ? m.Groups[1].Value.Split(',') : [m.Groups[2].Value])
                .Select(l => l.Trim()).Where(l => l.Length > 0)
                .Concat(LabelValues().Matches(query).Select(m => m.Groups[2].Value));
            Assert.All(labels, l => Assert.Contains(l, BeylaLabels));
        }
    }

    [Fact]
    public void Every_panel_says_which_source_fills_it_and_the_runtime_agent_is_named_only_where_its_metrics_answer_the_queries()
    {
        var panels = Dashboard.GetProperty("panels").EnumerateArray().Where(p => p.GetProperty("type").GetString() != "row").ToList();
        Assert.NotEmpty(panels);
        foreach (var panel in panels)
        {
            var title = panel.GetProperty("title").GetString();
            var queries = panel.GetProperty("targets").EnumerateArray().Where(t => t.TryGetProperty("expr", out _)).Select(t => t.GetProperty("expr").GetString()!).ToList();
            var metrics = queries.SelectMany(q => MetricSelector().Matches(q).Select(m => m.Groups[1].Value)).ToList();
            var labels = queries.SelectMany(q => Labels().Matches(q).SelectMany(m => m.Groups[1].Success ? m.Groups[1].Value.Split(',') : [m.Groups[2].Value]))
                .Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
            // A Tempo panel shows the traces of either source; a Prometheus panel is the agent's too only if all it asks the agent has.
            var agentFillsIt = metrics.All(AgentPrometheusMetrics.Contains) && labels.All(AgentPrometheusLabels.Contains);
            var expected = agentFillsIt ? "Filled by: Beyla and the runtime agent" : "Filled by: Beyla only";
            Assert.True(panel.GetProperty("description").GetString()!.Contains(expected, StringComparison.Ordinal), $"'{title}' should say '{expected}'");
        }
    }

    [Fact]
    public void Every_rate_uses_a_window_that_fits_the_10_s_export_not_the_datasources_scrape_interval()
    {
        // lgtm's Prometheus datasource assumes a 60 s scrape, so $__rate_interval would be 4 minutes or more.
        // (a total over a stated period, such as increase(...[5m]) for "the last 5 minutes", is not a rate and keeps its window)
        var ranges = PromQl().SelectMany(q => RateRange().Matches(q).Select(m => m.Groups[1].Value)).ToList();
        Assert.NotEmpty(ranges);
        Assert.All(ranges, r => Assert.Equal(RateWindow, r));
        Assert.Equal("10s", BeylaConfigTests.At(BeylaConfigTests.Load(), "otel_metrics_export.interval").ToString());
    }

    [Fact]
    public void The_server_side_red_panels_leave_out_the_health_routes()
    {
        var serverQueries = PromQl().Where(q => q.Contains("http_server_request_duration_seconds") && !q.StartsWith("label_values")).ToList();
        Assert.True(serverQueries.Count >= 5, $"{serverQueries.Count} server-side queries");
        foreach (var query in serverQueries)
        {
            // every selector of the server metric, not just one of them (an error ratio has two)
            var selectors = Regex.Matches(query, @"http_server_request_duration_seconds_\w+\{[^}]*\}").Select(m => m.Value).ToList();
            Assert.NotEmpty(selectors);
            Assert.All(selectors, s => Assert.Contains(NoHealthRoutes, s));
        }
    }

    [Fact]
    public void The_database_panels_break_calls_down_by_service_and_operation()
    {
        var db = PromQl().Where(q => q.Contains("db_client_operation_duration_seconds")).ToList();
        Assert.Contains(db, q => q.Contains("histogram_quantile(0.95") && q.Contains("service_name") && q.Contains("db_operation_name"));
        Assert.Contains(db, q => q.Contains("_count") && q.Contains("service_name") && q.Contains("db_operation_name"));
    }

    [GeneratedRegex(@"\brate\([^\[]*(\[[^\]]+\])")]
    private static partial Regex RateRange();

    [Fact]
    public void Every_datasource_is_one_lgtm_provides()
    {
        var uids = Walk(Dashboard).Where(o => o.TryGetProperty("datasource", out var d) && d.ValueKind == JsonValueKind.Object)
            .Select(o => o.GetProperty("datasource").GetProperty("uid").GetString()!).Distinct().ToList();
        Assert.Contains("prometheus", uids);
        Assert.All(uids, u => Assert.Contains(u, LgtmDatasources));
    }

    [Fact]
    public void The_provider_points_where_the_AppHost_mounts_the_dashboards()
    {
        var yaml = new YamlStream();
        yaml.Load(new StringReader(File.ReadAllText(Repo.PathOf("grafana", "custom.yaml"))));
        var provider = (YamlMappingNode)((YamlSequenceNode)((YamlMappingNode)yaml.Documents[0].RootNode)["providers"]).Children.Single();
        var path = ((YamlMappingNode)provider["options"])["path"].ToString();

        Assert.Equal($"{LgtmResourceBuilderExtensions.ProvisioningTarget}/custom", path);
        Assert.Equal("file", provider["type"].ToString());
    }
}
