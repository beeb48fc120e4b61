using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Lab19.Tests.Infrastructure;
using YamlDotNet.RepresentationModel;
using static Lab19.Tests.Infrastructure.BeylaRules;

namespace Lab19.Tests;

/// <summary>
/// Network flow metrics: switched on with today's keys, a dashboard row that asks only for what Beyla is told to attach, and words
/// about that row (README, docs/beyla-under-aspire.md, dashboard, YAML) that promise only the flows Beyla's chosen flow source counts
/// (BeylaRules.FlowCopies).
/// </summary>
public partial class NetworkMetricsTests
{
    private const string Metric = "beyla_network_flow_bytes_total";

    private static YamlMappingNode Config()
    {
        var yaml = new YamlStream();
        yaml.Load(new StringReader(File.ReadAllText(Repo.PathOf("beyla", "beyla-config.yml"))));
        return (YamlMappingNode)yaml.Documents[0].RootNode;
    }

    private static YamlNode? At(YamlMappingNode root, string path)
    {
        YamlNode node = root;
        foreach (var key in path.Split('.'))
        {
            if (node is not YamlMappingNode map || !map.Children.TryGetValue(new YamlScalarNode(key), out var next)) return null;
            node = next;
        }
        return node;
    }

    private static List<string> Strings(YamlNode? node) => ((YamlSequenceNode)node!).Children.Select(c => c.ToString()).ToList();

    /// <summary>The panels after the network row, with their PromQL.</summary>
    private static List<(string Title, string Expr)> NetworkPanels()
    {
        var panels = JsonDocument.Parse(File.ReadAllText(Repo.PathOf("grafana", "custom", "lab19-beyla-red.json"))).RootElement.GetProperty("panels").EnumerateArray().ToList();
        var row = panels.FindIndex(p => p.GetProperty("type").GetString() == "row" && p.GetProperty("title").GetString()!.StartsWith("Network flows", StringComparison.Ordinal));
        Assert.True(row >= 0, "no 'Network flows' row in the dashboard");
        return panels.Skip(row + 1).TakeWhile(p => p.GetProperty("type").GetString() != "row")
            .SelectMany(p => p.GetProperty("targets").EnumerateArray().Select(t => (p.GetProperty("title").GetString()!, t.GetProperty("expr").GetString()!)))
            .ToList();
    }

    [Fact]
    public void Network_metrics_are_on_through_metrics_features_next_to_the_application_metrics()
    {
        var root = Config();
        Assert.Equal(["application", "network"], Strings(At(root, "metrics.features")).Order());
        // deprecated switches (vendor/go.opentelemetry.io/obi/pkg/obi/network_cfg.go, otelcfg/config_metrics.go)
        Assert.Null(At(root, "network.enable"));
        Assert.Null(At(root, "otel_metrics_export.features"));
        Assert.Null(At(root, "prometheus_export"));
    }

    /// <summary>
    /// The interfaces a packet crosses in the host's network namespace, where Beyla runs: lo between two local addresses; otherwise the
    /// Docker bridge, seen on the container's veth and on the bridge itself (their names do not matter to the rules).
    /// </summary>
    private static List<Interface> PathOf(IPAddress source, IPAddress destination) =>
        IPAddress.IsLoopback(destination) || source.Equals(destination) ? [new("lo", true)] : [new("veth1a2b3c4", false), new("br-0f1e2d3c4b5a", false)];

    private static int Copies(string cell) => cell.Trim() switch
    {
        "no" => 0,
        "yes" => 1,
        "twice" => 2,
        var other => throw new FormatException($"'{other}' is not no, yes or twice"),
    };

    [GeneratedRegex(@"^`(?<src>[^`]+)` → `(?<dst>[^`]+):(?<port>\d+)`$")]
    private static partial Regex FlowEnds();

    /// <summary>docs/beyla-under-aspire.md's table of the lab's traffic: what it is, its two ends, whether the flows row shows it, and what tc would show.</summary>
    private static List<(string Traffic, IPAddress Source, IPAddress Destination, int Port, int Lab, int Tc)> GuideFlowTable()
    {
        var lines = File.ReadAllLines(Repo.PathOf("docs", "beyla-under-aspire.md"));
        var header = Array.FindIndex(lines, l => l.StartsWith("| traffic | source → destination | in the flows row |", StringComparison.Ordinal));
        Assert.True(header >= 0, "docs/beyla-under-aspire.md has no table of the lab's traffic in the flows row");
        Assert.Contains("`network.source: tc` and `exclude_interfaces: []`", lines[header]);
        return lines.Skip(header + 2).TakeWhile(l => l.StartsWith('|')).Select(l =>
        {
            var cells = l.Split('|')[1..^1].Select(c => c.Trim()).ToArray();
            var ends = FlowEnds().Match(cells[1]);
            Assert.True(ends.Success, $"'{cells[1]}' is not `source` → `destination:port`");
            return (cells[0], IPAddress.Parse(ends.Groups["src"].Value), IPAddress.Parse(ends.Groups["dst"].Value), int.Parse(ends.Groups["port"].Value), Copies(cells[2]), Copies(cells[3]));
        }).ToList();
    }

    [Fact]
    public void The_guide_shows_in_the_flows_row_exactly_the_traffic_the_chosen_flow_source_counts()
    {
        var lab = FlowSettings.Of(Config());
        var tc = lab with { Source = "tc", ExcludeInterfaces = [] };
        var rows = GuideFlowTable();

        foreach (var row in rows)
        {
            var path = PathOf(row.Source, row.Destination);
            Assert.True(ReportedCopies(lab, row.Source, row.Destination, path) == row.Lab,
                $"docs/beyla-under-aspire.md: '{row.Traffic}' ({row.Source} → {row.Destination}:{row.Port}) says {row.Lab} copies in the flows row; Beyla's {lab.Source} counts {ReportedCopies(lab, row.Source, row.Destination, path)}");
            Assert.True(ReportedCopies(tc, row.Source, row.Destination, path) == row.Tc,
                $"docs/beyla-under-aspire.md: '{row.Traffic}' says {row.Tc} copies with tc; the rule gives {ReportedCopies(tc, row.Source, row.Destination, path)}");
        }
        // The lab's own service-to-service call is in the table, whatever the source makes of it.
        Assert.Contains(rows, r => r.Traffic == "user-service → point-service" && r.Port == LabSettings.DefaultPointServicePort);
        Assert.Contains(rows, r => r.Lab > 0);
    }

    /// <summary>Marks a sentence about traffic between local processes; such a sentence must say it is not counted, or be about tc.</summary>
    [GeneratedRegex(@"\bloopback\b|127\.0\.0\.1|::1|`lo`|\blo\b")]
    private static partial Regex LoopbackWords();

    [GeneratedRegex(@"\b(not|never|no|none|nothing|drops?|without)\b|\btc\b", RegexOptions.IgnoreCase)]
    private static partial Regex NotCountedOrTc();

    /// <summary>What the README, docs/beyla-under-aspire.md, the dashboard and the YAML say about the flows row, as text.</summary>
    private static IEnumerable<(string Where, string Text)> FlowTexts()
    {
        var guide = File.ReadAllText(Repo.PathOf("docs", "beyla-under-aspire.md"));
        var start = guide.IndexOf("the **Network flows** row", StringComparison.Ordinal);
        Assert.True(start >= 0, "docs/beyla-under-aspire.md does not describe the Network flows row");
        var paragraph = guide[start..guide.IndexOf("```promql", start, StringComparison.Ordinal)];
        yield return ("docs/beyla-under-aspire.md, the Network flows row", string.Join('\n', paragraph.Split('\n').Where(l => !l.StartsWith('|'))));

        var readme = File.ReadAllText(Repo.PathOf("README.md")).Split('\n');
        var mentions = readme.Where(l => l.Contains("Network flows", StringComparison.Ordinal) && !l.StartsWith('|')).ToList();
        Assert.NotEmpty(mentions);
        yield return ("README, where it names the Network flows row", string.Join('\n', mentions));
        yield return ("README, Troubleshooting", Assert.Single(readme, l => l.StartsWith("| Network flow panels empty", StringComparison.Ordinal)));

        var panels = JsonDocument.Parse(File.ReadAllText(Repo.PathOf("grafana", "custom", "lab19-beyla-red.json"))).RootElement.GetProperty("panels").EnumerateArray().ToList();
        var row = panels.FindIndex(p => p.GetProperty("type").GetString() == "row" && p.GetProperty("title").GetString()!.StartsWith("Network flows", StringComparison.Ordinal));
        foreach (var panel in panels.Skip(row).TakeWhile((p, i) => i == 0 || p.GetProperty("type").GetString() != "row"))
        {
            var title = panel.GetProperty("title").GetString()!;
            yield return ($"dashboard '{title}'", title + ". " + (panel.TryGetProperty("description", out var d) ? d.GetString() : ""));
        }

        var yaml = File.ReadAllLines(Repo.PathOf("beyla", "beyla-config.yml"));
        var network = Array.FindIndex(yaml, l => l.StartsWith("# ---- Network flow metrics", StringComparison.Ordinal));
        Assert.True(network >= 0, "beyla-config.yml has no network flow block");
        yield return ("beyla-config.yml", string.Join(' ', yaml.Skip(network + 1).Select(l => l.Trim()).Where(l => l.StartsWith('#')).Select(l => l.TrimStart('#').Trim())));
    }

    [Fact]
    public void Nothing_said_about_the_flows_row_promises_traffic_between_local_processes_the_socket_filter_drops()
    {
        Assert.Equal(0, ReportedCopies(FlowSettings.Of(Config()), IPAddress.Loopback, IPAddress.Loopback, PathOf(IPAddress.Loopback, IPAddress.Loopback)));
        foreach (var (where, text) in FlowTexts())
        {
            foreach (var sentence in Regex.Split(text, @"(?<=[.!?;])\s+").Where(s => LoopbackWords().IsMatch(s)))
            {
                Assert.True(NotCountedOrTc().IsMatch(sentence), $"{where} promises flows the socket filter never counts: \"{sentence.Trim()}\"");
            }
        }
    }

    [Fact]
    public void The_yaml_holds_no_interface_list_the_socket_filter_would_ignore()
    {
        var config = Config();
        if (FlowSettings.Of(config).Source != "socket_filter") return;
        // With socket_filter the lists only name interfaces (agent.go newFetcher passes them nowhere else): a list there looks like a choice and is none.
        var withList = FlowSettings.Of(config) with { ExcludeInterfaces = [], Interfaces = ["eth0"] };
        Assert.All(GuideFlowTable(), r => Assert.Equal(ReportedCopies(FlowSettings.Of(config), r.Source, r.Destination, PathOf(r.Source, r.Destination)),
            ReportedCopies(withList, r.Source, r.Destination, PathOf(r.Source, r.Destination))));
        Assert.Null(At(config, "network.exclude_interfaces"));
        Assert.Null(At(config, "network.interfaces"));
    }

    [Fact]
    public void The_dashboard_row_shows_bytes_per_source_and_destination_with_only_the_attributes_Beyla_attaches()
    {
        var included = Strings(At(Config(), "attributes.select.beyla_network_flow_bytes.include")).ToHashSet();
        // An attribute the flow settings leave empty on every flow is not one Beyla attaches: selecting it only adds an empty label.
        var empty = AlwaysEmptyFlowAttributes(FlowSettings.Of(Config()));
        Assert.True(!included.Overlaps(empty), $"beyla-config.yml selects {string.Join(", ", included.Intersect(empty))}, which network.deduper {FlowSettings.Of(Config()).Deduper} leaves empty on every flow");
        var panels = NetworkPanels();

        Assert.True(panels.Count >= 2, $"{panels.Count} network panels");
        Assert.All(panels, p => Assert.Contains(Metric, p.Expr));
        Assert.Contains(panels, p => p.Expr.Contains("src_address") && p.Expr.Contains("dst_address"));
        foreach (var (title, expr) in panels)
        {
            var labels = DashboardTests.Labels().Matches(expr)
                .SelectMany(m => m.Groups[1].Success ? m.Groups[1].Value.Split(',') : [m.Groups[2].Value])
                .Select(l => l.Trim()).Where(l => l.Length > 0);
            // anything else would be an empty label: outside Kubernetes Beyla attaches only what attributes.select includes
            Assert.All(labels, l => Assert.True(included.Contains(l), $"'{title}' groups by {l}, which beyla-config.yml does not include"));
            Assert.All(labels, l => Assert.False(empty.Contains(l), $"'{title}' groups by {l}, which network.deduper {FlowSettings.Of(Config()).Deduper} leaves empty"));
        }
        // Nor does a panel promise what that label would have said.
        if (empty.Contains("iface"))
        {
            Assert.All(FlowTexts().Where(t => t.Where.StartsWith("dashboard", StringComparison.Ordinal)),
                t => Assert.DoesNotMatch(@"(?i)\binterface", t.Text));
        }
    }

    [Fact]
    public void Flows_carry_no_ephemeral_client_port()
    {
        var included = Strings(At(Config(), "attributes.select.beyla_network_flow_bytes.include"));
        Assert.Contains("server_port", included);
        Assert.DoesNotContain("src_port", included);
        Assert.DoesNotContain("dst_port", included);
        Assert.DoesNotContain("client_port", included);
    }
}
