// BeylaRules: how Beyla 3.33 combines beyla-config.yml with its environment, transcribed so tests can compute what Beyla would do.
using YamlDotNet.RepresentationModel;

namespace Lab19.Tests.Infrastructure;

/// <summary>
/// How Beyla 3.33 combines beyla-config.yml with its environment, for the settings the lab uses, so tests can compute what Beyla
/// would do. Each rule is transcribed from the upstream code named beside it (see docs/beyla-facts.md); Beyla itself cannot run in tests.
/// </summary>
public static class BeylaRules
{
    public static YamlMappingNode ParseConfig(string yamlText)
    {
        var yaml = new YamlStream();
        yaml.Load(new StringReader(yamlText));
        return (YamlMappingNode)yaml.Documents[0].RootNode;
    }

    /// <summary>The lab's beyla/beyla-config.yml.</summary>
    public static YamlMappingNode LabConfig() => ParseConfig(File.ReadAllText(Repo.PathOf("beyla", "beyla-config.yml")));

    public static YamlNode? At(YamlMappingNode root, string path)
    {
        YamlNode? node = root;
        foreach (var key in path.Split('.'))
        {
            if (node is not YamlMappingNode map || !map.Children.TryGetValue(new YamlScalarNode(key), out node))
            {
                return null;
            }
        }
        return node;
    }

    /// <summary>
    /// The ports whose processes Beyla instruments: every discovery.instrument selector's open_ports, plus one selector built from
    /// BEYLA_OPEN_PORT, which is appended to the YAML's list, not put in its place
    /// (OBI pkg/appolly/discover/matcher.go, FindingCriteria; Beyla pkg/beyla/config.go, Port `env:"BEYLA_OPEN_PORT"`).
    /// </summary>
    public static SortedSet<int> InstrumentedPorts(YamlMappingNode config, IReadOnlyDictionary<string, string> environment)
    {
        var ports = new SortedSet<int>();
        if (At(config, "discovery.instrument") is YamlSequenceNode selectors)
        {
            foreach (var selector in selectors.Children.OfType<YamlMappingNode>())
            {
                if (selector.Children.TryGetValue(new YamlScalarNode("open_ports"), out var openPorts))
                {
                    ports.UnionWith(ParsePorts(openPorts.ToString()));
                }
            }
        }
        // The top-level open_port and BEYLA_OPEN_PORT are one field; the environment is read after the YAML (pkg/beyla/config.go, LoadConfig).
        if ((environment.GetValueOrDefault("BEYLA_OPEN_PORT") ?? At(config, "open_port")?.ToString()) is { } openPort)
        {
            ports.UnionWith(ParsePorts(openPort));
        }
        return ports;
    }

    /// <summary>Beyla's port list syntax: comma-separated ports and inclusive ranges, e.g. "80,443,8000-8999" (OBI pkg/appolly/services/criteria.go, IntEnum).</summary>
    public static IEnumerable<int> ParsePorts(string text) =>
        text.Split(',').Select(p => p.Trim()).SelectMany(p =>
        {
            var range = p.Split('-').Select(int.Parse).ToArray();
            return range.Length == 1 ? [range[0]] : Enumerable.Range(range[0], range[1] - range[0] + 1);
        });

    /// <summary>
    /// The OTLP endpoint a signal ("traces" or "metrics") is exported to: the per-signal variable, else the YAML's endpoint
    /// (the same field), else OTEL_EXPORTER_OTLP_ENDPOINT; null means that exporter is off
    /// (OBI pkg/export/otel/otelcfg/common.go, ResolveOTLPEndpoint; config_traces.go / config_metrics.go env tags).
    /// </summary>
    public static string? OtlpEndpoint(YamlMappingNode config, IReadOnlyDictionary<string, string> environment, string signal) =>
        environment.GetValueOrDefault($"OTEL_EXPORTER_OTLP_{signal.ToUpperInvariant()}_ENDPOINT")
        ?? At(config, $"otel_{signal}_export.endpoint")?.ToString()
        ?? environment.GetValueOrDefault("OTEL_EXPORTER_OTLP_ENDPOINT");

    /// <summary>
    /// For each variable the AppHost may set on Beyla, the YAML keys that hold the same setting (from docs/config-schema.json's
    /// x-env-var at v3.33.0, and the two rules above). A variable with no YAML counterpart maps to nothing.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string[]> YamlKeysOf = new Dictionary<string, string[]>
    {
        ["BEYLA_CONFIG_PATH"] = [],
        ["BEYLA_OPEN_PORT"] = ["open_port", "discovery.instrument"],
        ["OTEL_EXPORTER_OTLP_ENDPOINT"] = ["otel_traces_export.endpoint", "otel_metrics_export.endpoint"],
        ["OTEL_EXPORTER_OTLP_PROTOCOL"] = ["otel_traces_export.protocol", "otel_metrics_export.protocol"],
        ["BEYLA_TRACE_PRINTER"] = ["trace_printer"],
        ["BEYLA_EXCLUDE_OTEL_INSTRUMENTED_SERVICES"] = ["discovery.exclude_otel_instrumented_services"],
        // On Kubernetes (the DaemonSet of the lab's manifests); x-env-var OTEL_EBPF_KUBE_METADATA_ENABLE, to which Beyla copies every BEYLA_ variable.
        ["BEYLA_KUBE_METADATA_ENABLE"] = ["attributes.kubernetes.enable"],
    };
}
