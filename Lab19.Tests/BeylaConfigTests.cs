using Lab19.Tests.Infrastructure;
using YamlDotNet.RepresentationModel;

namespace Lab19.Tests;

/// <summary>beyla/beyla-config.yml: current schema only, the AppHost's ports, and routes that exist.</summary>
public class BeylaConfigTests
{
    /// <summary>
    /// Keys of Beyla's classic YAML schema that this file may use, checked against the Beyla 3.35 documentation
    /// (the version the AppHost pins). Deprecated keys (discovery.services, exe_path_regexp) are deliberately absent.
    /// </summary>
    private static readonly HashSet<string> CurrentSchema =
    [
        "discovery", "discovery.instrument", "discovery.instrument[].open_ports", "discovery.instrument[].exe_path",
        "discovery.exclude_instrument", "discovery.exclude_otel_instrumented_services",
        "routes", "routes.patterns", "routes.ignored_patterns", "routes.ignore_mode", "routes.unmatched",
        "ebpf", "ebpf.context_propagation", "ebpf.track_request_headers",
        "otel_traces_export", "otel_traces_export.endpoint", "otel_traces_export.protocol",
        "otel_metrics_export", "otel_metrics_export.endpoint", "otel_metrics_export.protocol", "otel_metrics_export.interval",
        "log_level", "trace_printer",
        // network flow metrics (v3.33.0 docs/config-schema.json: metrics.features, network.*, attributes.select)
        "metrics", "metrics.features", "network", "network.exclude_interfaces",
        "attributes", "attributes.select", "attributes.select.beyla_network_flow_bytes", "attributes.select.beyla_network_flow_bytes.include",
    ];

    private static YamlMappingNode Load()
    {
        var yaml = new YamlStream();
        yaml.Load(new StringReader(File.ReadAllText(Repo.PathOf("beyla", "beyla-config.yml"))));
        return (YamlMappingNode)yaml.Documents[0].RootNode;
    }

    private static IEnumerable<string> Keys(YamlNode node, string prefix) => node switch
    {
        YamlMappingNode map => map.Children.SelectMany(c =>
        {
            var key = prefix.Length == 0 ? ((YamlScalarNode)c.Key).Value! : $"{prefix}.{((YamlScalarNode)c.Key).Value}";
            return Keys(c.Value, key).Prepend(key);
        }),
        YamlSequenceNode seq => seq.Children.SelectMany(c => Keys(c, prefix + "[]")),
        _ => [],
    };

    private static YamlNode At(YamlMappingNode root, string path) =>
        path.Split('.').Aggregate((YamlNode)root, (node, key) => ((YamlMappingNode)node)[key]);

    [Fact]
    public void Uses_only_keys_of_the_current_schema()
    {
        var unknown = Keys(Load(), "").Where(k => !CurrentSchema.Contains(k)).ToList();
        Assert.True(unknown.Count == 0, "not in Beyla's current schema: " + string.Join(", ", unknown));
    }

    [Fact]
    public async Task Instruments_the_ports_the_AppHost_gives_the_services_by_default()
    {
        var ports = ((YamlSequenceNode)At(Load(), "discovery.instrument")).Children
            .Select(i => int.Parse(((YamlScalarNode)((YamlMappingNode)i)["open_ports"]).Value!)).Order();

        await using var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Lab19_AppHost>([], TestContext.Current.CancellationToken);
        var servicePorts = builder.Resources.OfType<ProjectResource>()
            .SelectMany(r => r.Annotations.OfType<EndpointAnnotation>()).Where(e => e.Name == "http").Select(e => e.Port!.Value).Order();
        Assert.Equal(servicePorts, ports);
    }

    [Fact]
    public void Exports_traces_and_metrics_over_grpc_every_10_s_and_keeps_traces_whole()
    {
        var root = Load();
        Assert.Equal("grpc", At(root, "otel_traces_export.protocol").ToString());
        Assert.Equal("grpc", At(root, "otel_metrics_export.protocol").ToString());
        Assert.Equal("10s", At(root, "otel_metrics_export.interval").ToString());
        Assert.Equal("true", At(root, "ebpf.track_request_headers").ToString());
        Assert.Equal("headers", At(root, "ebpf.context_propagation").ToString());
        Assert.Equal("heuristic", At(root, "routes.unmatched").ToString());
    }

    public static TheoryData<string> RoutePatterns() =>
        new(((YamlSequenceNode)At(Load(), "routes.patterns")).Children.Select(p => p.ToString()));

    /// <summary>Each pattern, with its placeholders filled in, is answered by one of the running services (anything but 404/405).</summary>
    [Collection(LabCollection.Name)]
    public class Routes(LabFixture fixture)
    {
        [Theory]
        [MemberData(nameof(RoutePatterns), MemberType = typeof(BeylaConfigTests))]
        public async Task Every_route_pattern_is_a_real_endpoint(string pattern)
        {
            var path = System.Text.RegularExpressions.Regex.Replace(pattern, @"\{[^}]+\}", "1");
            var answers = new List<HttpStatusCode>();
            foreach (var client in new[] { fixture.Lab.Users, fixture.Lab.Points })
            {
                answers.Add((await client.GetAsync(path, TestContext.Current.CancellationToken)).StatusCode);
            }
            Assert.Contains(answers, s => s is not (HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed));
        }

        [Theory]
        [InlineData("/api/v1/users/{id}")]
        [InlineData("/api/v1/points/user/{userId}/total")]
        public void The_patterns_cover_the_main_routes(string route) =>
            Assert.Contains(route, RoutePatterns().Select(r => r.Data));
    }
}
