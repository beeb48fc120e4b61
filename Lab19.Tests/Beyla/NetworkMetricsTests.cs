using System.Text.Json;
using Lab19.Tests.Infrastructure;
using YamlDotNet.RepresentationModel;

namespace Lab19.Tests;

/// <summary>Network flow metrics: switched on with today's keys, loopback included, and a dashboard row that asks only for what Beyla is told to attach.</summary>
public class NetworkMetricsTests
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

    [Fact]
    public void Loopback_is_not_excluded_because_the_services_talk_over_it()
    {
        var excluded = Strings(At(Config(), "network.exclude_interfaces"));
        Assert.DoesNotContain("lo", excluded);
        Assert.Null(At(Config(), "network.interfaces")); // no allow-list that could leave lo out
    }

    [Fact]
    public void The_dashboard_row_shows_bytes_per_source_and_destination_with_only_the_attributes_Beyla_attaches()
    {
        var included = Strings(At(Config(), "attributes.select.beyla_network_flow_bytes.include")).ToHashSet();
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
