using Lab19.Tests.Infrastructure;
using YamlDotNet.RepresentationModel;

namespace Lab19.Tests;

/// <summary>beyla/beyla-config.yml and the AppHost's Beyla variables together: one source per setting, and what Beyla makes of them.</summary>
public class BeylaConfigTests
{
    /// <summary>
    /// Keys of Beyla's classic YAML schema that the lab's files may use (beyla-config.yml, and the one the Kubernetes manifests derive from it),
    /// checked against docs/config-schema.json of v3.33.0 (the pinned version). Deprecated keys (discovery.services, network.enable,
    /// otel_metrics_export.features) are deliberately absent.
    /// </summary>
    internal static readonly HashSet<string> CurrentSchema =
    [
        "discovery", "discovery.instrument", "discovery.instrument[].open_ports", "discovery.instrument[].exe_path",
        "discovery.instrument[].k8s_namespace", "discovery.instrument[].k8s_deployment_name",
        "discovery.exclude_instrument", "discovery.exclude_otel_instrumented_services",
        "routes", "routes.patterns", "routes.ignored_patterns", "routes.ignore_mode", "routes.unmatched",
        "ebpf", "ebpf.context_propagation", "ebpf.track_request_headers",
        "ebpf.buffer_sizes", "ebpf.buffer_sizes.postgres", "ebpf.buffer_sizes.mysql",
        "otel_traces_export", "otel_traces_export.endpoint", "otel_traces_export.protocol", "otel_traces_export.batch_timeout",
        "otel_metrics_export", "otel_metrics_export.endpoint", "otel_metrics_export.protocol", "otel_metrics_export.interval",
        "metrics", "metrics.features",
        "network", "network.exclude_interfaces", "network.interfaces", "network.source", "network.cidrs",
        "attributes", "attributes.select",
        "log_level", "trace_printer",
    ];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static YamlMappingNode Load() => BeylaRules.LabConfig();

    public static YamlNode At(YamlMappingNode root, string path) =>
        BeylaRules.At(root, path) ?? throw new KeyNotFoundException($"{path} is not in beyla-config.yml");

    internal static IEnumerable<string> Keys(YamlNode node, string prefix) => node switch
    {
        YamlMappingNode map => map.Children.SelectMany(c =>
        {
            var key = prefix.Length == 0 ? ((YamlScalarNode)c.Key).Value! : $"{prefix}.{((YamlScalarNode)c.Key).Value}";
            // attributes.select's children are metric names, not schema keys
            return key == "attributes.select" ? [key] : Keys(c.Value, key).Prepend(key);
        }),
        YamlSequenceNode seq => seq.Children.SelectMany(c => Keys(c, prefix + "[]")),
        _ => [],
    };

    /// <summary>The variables the real AppHost gives the beyla resource, as expressions (publish mode: nothing is started).</summary>
    private static async Task<Dictionary<string, string>> BeylaEnvironmentAsync(params string[] args)
    {
        // With the preflight on, a host that cannot run eBPF (like a CI machine) gets a stand-in without Beyla's variables.
        await using var builder = await AppModel.ModelAsync(args);
        return await AppModel.PublishEnvironmentAsync(AppModel.Resource(builder, "beyla"));
    }

    [Fact]
    public void The_Beyla_config_uses_only_keys_of_Beylas_current_schema()
    {
        var unknown = Keys(Load(), "").Where(k => !CurrentSchema.Contains(k)).ToList();
        Assert.True(unknown.Count == 0, "not in Beyla's current schema: " + string.Join(", ", unknown));
    }

    [Fact]
    public async Task The_yaml_holds_no_setting_the_AppHost_also_sets()
    {
        var env = await BeylaEnvironmentAsync();
        Assert.Contains("BEYLA_OPEN_PORT", env.Keys);
        Assert.Contains("OTEL_EXPORTER_OTLP_ENDPOINT", env.Keys);
        foreach (var variable in env.Keys)
        {
            Assert.True(BeylaRules.YamlKeysOf.TryGetValue(variable, out var yamlKeys),
                $"the AppHost sets {variable}: add its YAML counterparts to BeylaRules.YamlKeysOf, so this test can keep them out of the file");
            foreach (var key in yamlKeys)
            {
                Assert.True(BeylaRules.At(Load(), key) is null, $"beyla-config.yml sets {key}, which the AppHost already sets as {variable}");
            }
        }
    }

    [Theory]
    [InlineData(new string[0], new[] { LabSettings.DefaultPointServicePort, LabSettings.DefaultUserServicePort })]
    [InlineData(new[] { "--Lab19:UserServicePort=18080", "--Lab19:PointServicePort=18001" }, new[] { 18001, 18080 })]
    public async Task Beyla_instruments_exactly_the_two_service_ports(string[] args, int[] expected)
    {
        var ports = BeylaRules.InstrumentedPorts(Load(), await BeylaEnvironmentAsync(args));
        Assert.Equal(expected, ports);
    }

    [Fact]
    public void A_port_list_in_the_yaml_would_be_added_to_the_AppHosts_not_replaced()
    {
        // The rule the previous test relies on, shown on a file that still lists the default ports.
        var stale = BeylaRules.ParseConfig("discovery:\n  instrument:\n    - open_ports: 8080\n    - open_ports: 8001\n");
        Assert.Equal([8001, 8080, 18001, 18080], BeylaRules.InstrumentedPorts(stale, new Dictionary<string, string> { ["BEYLA_OPEN_PORT"] = "18080,18001" }));
        Assert.Equal(Enumerable.Range(8000, 3), BeylaRules.ParsePorts("8000-8002"));
    }

    [Fact]
    public async Task Traces_and_metrics_go_to_whatever_the_lgtm_resource_is_called()
    {
        // The lab's own extension methods on a model whose OTLP receiver has another name: the endpoint follows the resource.
        var builder = TestAppHost.CreateBuilder([]);
        var telemetry = builder.AddLgtm("telemetry-backend", grafanaPort: 3000);
        var beyla = builder.AddBeyla("beyla", Repo.PathOf("beyla", "beyla-config.yml"), privileged: true)
            .WithOtlpExporter(telemetry.Resource.OtlpGrpcEndpoint);

        var env = await AppModel.PublishEnvironmentAsync(beyla.Resource);
        foreach (var signal in new[] { "traces", "metrics" })
        {
            Assert.Equal("{telemetry-backend.bindings.otlp-grpc.url}", BeylaRules.OtlpEndpoint(Load(), env, signal));
        }
        Assert.Equal("grpc", env["OTEL_EXPORTER_OTLP_PROTOCOL"]);
    }

    [Fact]
    public void An_endpoint_in_the_yaml_would_silence_the_AppHosts_variable()
    {
        var stale = BeylaRules.ParseConfig("otel_traces_export:\n  endpoint: http://lgtm:4317\n");
        var env = new Dictionary<string, string> { ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://telemetry:4317" };
        Assert.Equal("http://lgtm:4317", BeylaRules.OtlpEndpoint(stale, env, "traces"));
        Assert.Equal("http://telemetry:4317", BeylaRules.OtlpEndpoint(stale, env, "metrics"));
        Assert.Null(BeylaRules.OtlpEndpoint(stale, new Dictionary<string, string>(), "metrics")); // no endpoint: that exporter is off
    }

    [Fact]
    public void Reads_incoming_trace_context_and_captures_whole_sql_statements()
    {
        var root = Load();
        // Either setting makes Beyla parse an incoming traceparent for non-Go services (generictracer.go); the lab sets both.
        Assert.True(BeylaRules.TraceparentParsed(root));
        Assert.Equal("true", At(root, "ebpf.track_request_headers").ToString());
        Assert.Equal("headers", At(root, "ebpf.context_propagation").ToString());
        foreach (var protocol in new[] { "postgres", "mysql" })
        {
            // Default 0 keeps only the first ~256 bytes; Beyla's docs allow up to 8192.
            var size = int.Parse(At(root, $"ebpf.buffer_sizes.{protocol}").ToString());
            Assert.InRange(size, 4096, 8192);
        }
        Assert.Equal("10s", At(root, "otel_metrics_export.interval").ToString());
        Assert.Equal("heuristic", At(root, "routes.unmatched").ToString());
    }

    [Fact]
    public void No_guide_names_removing_track_request_headers_as_a_cause_while_context_propagation_alone_keeps_the_parsing()
    {
        var root = Load();
        var propagation = BeylaRules.ContextPropagation(root);
        // What removing the key would change: nothing, while context propagation is on.
        if (BeylaRules.TraceparentParsed(trackRequestHeaders: false, propagation) != BeylaRules.TraceparentParsed(root)) return;
        var causes = File.ReadAllLines(Repo.PathOf("README.md"))
            .SkipWhile(l => l != "## Troubleshooting").TakeWhile(l => l != "## Clean-up")
            .Where(l => l.StartsWith('|')).Select(l => l.Split('|')[2]).ToList();
        Assert.NotEmpty(causes);
        Assert.All(causes, cause => Assert.DoesNotContain("track_request_headers", cause));
        // Nor does the YAML say Beyla needs it.
        var comment = File.ReadAllLines(Repo.PathOf("beyla", "beyla-config.yml")).TakeWhile(l => !l.TrimStart().StartsWith("track_request_headers:", StringComparison.Ordinal))
            .Reverse().TakeWhile(l => l.TrimStart().StartsWith('#'));
        Assert.Contains(comment, l => l.Contains("context_propagation", StringComparison.Ordinal));
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
                answers.Add((await client.GetAsync(path, Ct)).StatusCode);
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
