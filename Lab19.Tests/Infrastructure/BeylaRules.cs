// BeylaRules: how Beyla 3.33 combines beyla-config.yml with its environment, transcribed so tests can compute what Beyla would do.
using System.Net;
using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace Lab19.Tests.Infrastructure;

/// <summary>
/// How Beyla 3.33 combines beyla-config.yml with its environment, for the settings the lab uses, so tests can compute what Beyla
/// would do. Each rule is transcribed from the upstream code named beside it (see docs/beyla-facts.md); Beyla itself cannot run in tests.
/// The kernel-side rules (network flows, the interface label, the span tree, capabilities) follow Beyla's eBPF C programs as well as
/// the Go code that loads them: see "Kernel side" in docs/beyla-facts.md for which version of each C file was read.
/// </summary>
public static partial class BeylaRules
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

    private static List<string>? Strings(YamlNode? node) => (node as YamlSequenceNode)?.Children.Select(c => c.ToString()).ToList();

    // ---- Network flows ----

    /// <summary>
    /// The network flow settings, with OBI's defaults where the YAML is silent (OBI pkg/obi/network_cfg.go, DefaultNetworkConfig:
    /// source socket_filter, deduper first_come, direction both, exclude_interfaces [lo]).
    /// </summary>
    public sealed record FlowSettings(string Source, string Deduper, string Direction, IReadOnlyList<string> Interfaces, IReadOnlyList<string> ExcludeInterfaces)
    {
        public static FlowSettings Of(YamlMappingNode config) => new(
            At(config, "network.source")?.ToString() ?? "socket_filter",
            At(config, "network.deduper")?.ToString() ?? "first_come",
            At(config, "network.direction")?.ToString() ?? "both",
            Strings(At(config, "network.interfaces")) ?? [],
            Strings(At(config, "network.exclude_interfaces")) ?? ["lo"]);
    }

    /// <summary>An interface of Beyla's network namespace that a packet crosses.</summary>
    public sealed record Interface(string Name, bool IsLoopback);

    /// <summary>
    /// Whether the interface manager accepts an interface: with an allow-list, only names on it; then an exclusion wins. Entries are exact
    /// names or /regular expressions/ (OBI pkg/internal/ebpf/tcmanager/filter.go, NewInterfaceFilter and IsAllowed).
    /// </summary>
    public static bool IsAllowed(string name, IReadOnlyList<string> interfaces, IReadOnlyList<string> excludeInterfaces)
    {
        static bool Matches(string pattern, string name) =>
            pattern.Trim() is var p && p.Length > 1 && p.StartsWith('/') && p.EndsWith('/') ? Regex.IsMatch(name, p[1..^1]) : p == name;
        return (interfaces.Count == 0 || interfaces.Any(p => Matches(p, name))) && !excludeInterfaces.Any(p => Matches(p, name));
    }

    /// <summary>
    /// How many times one packet is added to its flow's bytes on one interface it crosses.
    /// socket_filter: bpf/netolly/flows_sock.c, obi_socket__filter, returns before any accounting when the source and destination
    /// addresses are equal (the same_ip test, l.203 at the C Beyla v3.33.0 ships); its AF_PACKET socket is bound to no interface
    /// (OBI pkg/internal/netolly/ebpf/sock_tracer.go, NewSockFlowFetcher) and is given neither the interface lists nor the direction
    /// (OBI pkg/netolly/agent/agent.go, newFetcher), so those settings change nothing. (Loopback traffic between two different
    /// loopback addresses is not in the lab; how often AF_PACKET sees such a packet on lo was not derived.)
    /// tc: bpf/netolly/flows.c, flow_monitor (sections tc_ingress and tc_egress), has no same-address test; both hooks add to one map
    /// entry keyed by addresses, ports and ifindex, with no direction in the key. The programs sit only on interfaces the filter above
    /// accepts (tcmanager), at the hooks network.direction selects (agent.go, flowDirections). A packet between two local processes
    /// leaves through lo's egress hook and comes back through lo's ingress hook: one copy per attached hook.
    /// </summary>
    public static int FlowCopies(FlowSettings settings, IPAddress source, IPAddress destination, Interface crossed) => settings.Source switch
    {
        "socket_filter" => source.Equals(destination) ? 0 : 1,
        "tc" => !IsAllowed(crossed.Name, settings.Interfaces, settings.ExcludeInterfaces) ? 0
            : crossed.IsLoopback ? (settings.Direction == "both" ? 2 : 1)
            : 1,
        _ => throw new ArgumentException($"network.source '{settings.Source}' is neither socket_filter nor tc (agent.go, newFetcher)"),
    };

    /// <summary>
    /// How many times a packet's bytes end up in beyla_network_flow_bytes_total, given the interfaces it crosses in order. The deduper
    /// first_come forwards a flow only from the first interface it was seen on (OBI pkg/internal/netolly/flow/deduper.go, isDupe:
    /// another ifindex is a duplicate); none forwards every interface's record, so a flow over two interfaces is counted twice.
    /// </summary>
    public static int ReportedCopies(FlowSettings settings, IPAddress source, IPAddress destination, IReadOnlyList<Interface> path)
    {
        var copies = path.Select(i => FlowCopies(settings, source, destination, i)).Where(c => c > 0).ToList();
        return settings.Deduper == "first_come" ? copies.FirstOrDefault() : copies.Sum();
    }

    /// <summary>
    /// The iface label of a flow. With first_come it is always empty: the deduper unsets every forwarded record's interface
    /// (deduper.go, DeduperProvider, SetIfIndexUnset) and the pipeline names interfaces with an empty-string namer
    /// (OBI pkg/netolly/agent/pipeline.go, buildPipeline: "If deduper is enabled, we know that interfaces are unset"). With none, the
    /// interface manager's name, "unknown" for an interface it does not know, i.e. one the filter refuses (agent.go, interfaceNamer).
    /// </summary>
    public static string IfaceLabel(FlowSettings settings, string interfaceName) =>
        settings.Deduper == "first_come" ? ""
        : IsAllowed(interfaceName, settings.Interfaces, settings.ExcludeInterfaces) ? interfaceName : "unknown";

    /// <summary>The flow attributes that stay empty whatever the traffic, under these settings (see <see cref="IfaceLabel"/>).</summary>
    public static IReadOnlySet<string> AlwaysEmptyFlowAttributes(FlowSettings settings) =>
        settings.Deduper == "first_come" ? new HashSet<string> { "iface" } : new HashSet<string>();

    // ---- Trace context ----

    /// <summary>
    /// ebpf.context_propagation as Beyla parses it: "all", "disabled" (or empty), or a comma list of "headers" and "tcp"
    /// (OBI pkg/config/ebpf_tracer.go, ContextPropagationMode.UnmarshalText; the default is disabled).
    /// </summary>
    public static (bool Headers, bool Tcp) ContextPropagation(string? value)
    {
        var parts = (value ?? "disabled").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        return parts is ["all"] ? (true, true) : (parts.Contains("headers"), parts.Contains("tcp"));
    }

    public static (bool Headers, bool Tcp) ContextPropagation(YamlMappingNode config) => ContextPropagation(At(config, "ebpf.context_propagation")?.ToString());

    /// <summary>
    /// Whether Beyla parses the traceparent of incoming HTTP requests: track_request_headers OR any context propagation; either sets
    /// capture_header_buffer and g_bpf_traceparent_enabled (OBI pkg/internal/ebpf/generictracer/generictracer.go, constants(), l.246 and
    /// l.278), the two switches __obi_continue_protocol_http_tp tests in bpf/generictracer/protocol_http.h.
    /// </summary>
    public static bool TraceparentParsed(bool trackRequestHeaders, (bool Headers, bool Tcp) contextPropagation) =>
        trackRequestHeaders || contextPropagation.Headers || contextPropagation.Tcp;

    public static bool TraceparentParsed(YamlMappingNode config) =>
        TraceparentParsed(At(config, "ebpf.track_request_headers")?.ToString() == "true", ContextPropagation(config));

    /// <summary>
    /// Whether Beyla's sk_msg program (bpf/tpinjector/tpinjector.c, obi_packet_extender) sees an outgoing HTTP/1 request. It is loaded
    /// with HTTP header injection on (the tracer exists with headers or tcp: OBI pkg/appolly/discover/finder.go; it handles HTTP only
    /// with the headers flag). It is left off where the kernel's FIONREAD is wrong for sockets in a sockhash and the compensation
    /// cannot load and be verified (OBI pkg/internal/ebpf/tpinjector/fionread_check.go, sockhashSafe; Beyla logs "context propagation
    /// is disabled"), where the sockops program cannot attach to the cgroup v2 hierarchy (OBI pkg/ebpf/instrumenter.go, a warning only),
    /// for connections opened before Beyla attached on kernels before 6.4 (tpinjector.go, Iters), and on TLS connections.
    /// </summary>
    public static bool HeaderPathOn((bool Headers, bool Tcp) contextPropagation, bool sockhashSafe, bool sockopsAttached, bool connectionOpenedAfterAttach, Version kernel, bool tls) =>
        contextPropagation.Headers && sockhashSafe && sockopsAttached && (connectionOpenedAfterAttach || kernel >= new Version(6, 4)) && !tls;

    /// <summary>The spans Beyla makes for one call from user-service to point-service, each with its service and kind.</summary>
    public enum Role { UserServer, UserClient, PointServer, UserSql, PointSql }

    /// <summary>A span as exported: its trace, its own span id and its parent span id (null: none).</summary>
    public sealed record Span(Role Role, string Trace, string SpanId, string? Parent)
    {
        public string Service => Role is Role.UserServer or Role.UserClient or Role.UserSql ? "user-service" : "point-service";

        public string Kind => Role is Role.UserServer or Role.PointServer ? "server" : "client";
    }

    /// <summary>
    /// The spans of one request to user-service that makes one HTTP call to point-service and one SQL statement in each service.
    /// Ids are symbols: T and K the incoming traceparent's trace and span, Tb a trace Beyla starts, Tn one .NET starts, N* new traces,
    /// B Beyla's span id for user-service's server span, S the span id .NET writes on the call, R* random Beyla span ids.
    /// <list type="bullet">
    /// <item>Server spans: trace and parent from the incoming traceparent when it is parsed (<see cref="TraceparentParsed(bool, ValueTuple{bool, bool})"/>;
    /// bpf/generictracer/protocol_http.h, __obi_continue_protocol_http_tp: "parent = header's span id" for a server); otherwise the
    /// connection's client span when Beyla matches both ends (trace_parent.h, find_trace_for_server_request, black-box), else a new trace.</item>
    /// <item>Client span, sk_msg path with a traceparent .NET wrote: the header's trace id AND span id, sampled; parent Beyla's server
    /// span only when Beyla relates the sending thread to the request and the trace ids match (bpf/tpinjector/tpinjector.c,
    /// obi_packet_extender_find_existing_tp and apply_parent_tp). The header on the wire is unchanged.</item>
    /// <item>Client span, kprobe path only (sk_msg off) with .NET's header: Beyla's own span id; trace from the thread's server span or
    /// new, then the header's trace id when headers are parsed, the parent dropped if the trace changed (protocol_http.h, the client branch).</item>
    /// <item>Client span without .NET's header: Beyla's own span id, the server span's trace and parent when related, else a new trace
    /// (tpinjector.c create_trace_info / trace_parent.h find_trace_for_client_request); on the sk_msg path Beyla writes that traceparent.</item>
    /// <item>SQL spans: the server span's trace, parent the server span, when related; else a trace of their own (protocol_tcp.h,
    /// tcp_get_or_set_trace_info). Context propagation does not touch them.</item>
    /// </list>
    /// "threadRelated" is Beyla finding the request's server span from the thread that sends the call or statement, which .NET's await
    /// continuations make unreliable (grafana/beyla#1346); "connectionMatched" the black-box match of the two ends of a connection.
    /// </summary>
    public static IReadOnlyList<Span> SpanTree(bool incomingTraceparent, bool traceparentParsed, bool dotnetPropagation, bool headerPath, bool threadRelated, bool connectionMatched)
    {
        var read = incomingTraceparent && traceparentParsed;
        var userServer = new Span(Role.UserServer, read ? "T" : "Tb", "B", read ? "K" : null);
        var dotnetTrace = incomingTraceparent ? "T" : "Tn"; // .NET continues the incoming trace or starts its own
        Span userClient;
        if (dotnetPropagation && headerPath)
        {
            userClient = new(Role.UserClient, dotnetTrace, "S", threadRelated && dotnetTrace == userServer.Trace ? "B" : null);
        }
        else if (dotnetPropagation)
        {
            var trace = traceparentParsed ? dotnetTrace : threadRelated ? userServer.Trace : "N";
            userClient = new(Role.UserClient, trace, "R", threadRelated && trace == userServer.Trace ? "B" : null);
        }
        else
        {
            userClient = new(Role.UserClient, threadRelated ? userServer.Trace : "N", "R", threadRelated ? "B" : null);
        }

        // The traceparent point-service receives: .NET's, or the one Beyla's sk_msg program writes, or none.
        (string Trace, string Span)? onWire = dotnetPropagation ? (dotnetTrace, "S") : headerPath ? (userClient.Trace, userClient.SpanId) : null;
        var pointServer = onWire is { } header && traceparentParsed ? new Span(Role.PointServer, header.Trace, "R2", header.Span)
            : connectionMatched ? new Span(Role.PointServer, userClient.Trace, "R2", userClient.SpanId)
            : new Span(Role.PointServer, "N2", "R2", null);

        Span Sql(Role role, Span server, string newTrace) =>
            threadRelated ? new(role, server.Trace, "R" + role, server.SpanId) : new(role, newTrace, "R" + role, null);
        return [userServer, userClient, pointServer, Sql(Role.UserSql, userServer, "N3"), Sql(Role.PointSql, pointServer, "N4")];
    }

    /// <summary>The exported span that is this span's parent: same trace, its span id; null for a root or a parent nobody exports.</summary>
    public static Span? ExportedParent(Span span, IReadOnlyList<Span> spans) =>
        span.Parent is null ? null : spans.FirstOrDefault(o => o.SpanId == span.Parent && o.Trace == span.Trace);

    /// <summary>A parent id that no exported span carries: Tempo shows the span at the top with its parent missing.</summary>
    public static bool ParentMissing(Span span, IReadOnlyList<Span> spans) => span.Parent is not null && ExportedParent(span, spans) is null;

    // ---- Capabilities ----

    /// <summary>What Beyla is asked to do, as far as its capabilities depend on it.</summary>
    /// <param name="Uprobes">library-level uprobes (TLS libraries, .NET's native crypto library), attached with application observability.</param>
    public sealed record BeylaFeatures(bool Application, string? NetworkSource, bool ContextPropagation, bool Uprobes)
    {
        /// <summary>metrics.features (default [application]; OBI pkg/export/otel/perapp), network.source, ebpf.context_propagation.</summary>
        public static BeylaFeatures Of(YamlMappingNode config)
        {
            var features = Strings(At(config, "metrics.features")) ?? ["application"];
            var application = features.Contains("application");
            var propagation = BeylaRules.ContextPropagation(config);
            return new(application, features.Contains("network") ? FlowSettings.Of(config).Source : null, propagation.Headers || propagation.Tcp, application);
        }
    }

    /// <summary>
    /// The capabilities Beyla needs on a kernel, without --privileged: Beyla's docs (docs/sources/security.md, the table at l.55-63) and
    /// its own check (OBI pkg/obi/os.go, CheckOSCapabilities and checkCapabilitiesForSetOptions), together.
    /// <list type="bullet">
    /// <item>BPF always; application observability CHECKPOINT_RESTORE, DAC_READ_SEARCH, SYS_PTRACE, PERFMON, NET_RAW, and NET_ADMIN with
    /// context propagation; network flows NET_RAW and PERFMON (socket_filter) or PERFMON and NET_ADMIN (tc) (os.go).</item>
    /// <item>SYS_ADMIN for library-level uprobes (security.md l.63), and below 5.8, where "all BPF permissions were bundled under SYS_ADMIN" (os.go).</item>
    /// <item>SYS_RESOURCE below 5.11: "Increase the amount of locked memory available, kernels &lt; 5.11 only" (security.md l.62). Without it
    /// cilium/ebpf's rlimit.RemoveMemlock ("Requires CAP_SYS_RESOURCE on kernels &lt; 5.11") fails and the application tracer stops
    /// (OBI pkg/appolly/discover/attacher.go, init: "removing memory lock"). Beyla's own check does not ask for it once SYS_ADMIN is granted.</item>
    /// </list>
    /// A perf_event_paranoid above 2 (Debian: 3) needs SYS_ADMIN instead of PERFMON (security.md l.69), which the uprobes need anyway.
    /// </summary>
    public static SortedSet<string> RequiredCapabilities(Version kernel, BeylaFeatures features)
    {
        var required = new SortedSet<string>(StringComparer.Ordinal) { "BPF" };
        if (features.Application)
        {
            required.UnionWith(["CHECKPOINT_RESTORE", "DAC_READ_SEARCH", "SYS_PTRACE", "PERFMON", "NET_RAW"]);
            if (features.ContextPropagation) required.Add("NET_ADMIN");
            if (features.Uprobes) required.Add("SYS_ADMIN");
        }
        switch (features.NetworkSource)
        {
            case "socket_filter": required.UnionWith(["NET_RAW", "PERFMON"]); break;
            case "tc": required.UnionWith(["PERFMON", "NET_ADMIN"]); break;
        }
        if (kernel < new Version(5, 11)) required.Add("SYS_RESOURCE");
        if (kernel < new Version(5, 8)) required.Add("SYS_ADMIN");
        return required;
    }

    // ---- SQL span names ----

    /// <summary>
    /// The tokens of xwb1989/sqlparser's tokenizer (vendored in Beyla v3.33.0: vendor/github.com/xwb1989/sqlparser/token.go, Scan) that
    /// decide an operation and its tables: words (letters, '_', '@', then digits), `backtick` identifiers, 'quoted' and "quoted"
    /// strings, ?, ',', '.', comments; '$' and other unknown characters are LEX_ERROR. Keywords: the operations and the words the
    /// lab's statements meet; any other word is an identifier (token.go's keyword table has more).
    /// </summary>
    private static readonly HashSet<string> SqlOperations =
        ["select", "stream", "insert", "update", "delete", "set", "create", "alter", "drop", "analyze", "rename", "show", "use", "describe",
         "explain", "truncate", "repair", "optimize", "begin", "start", "commit", "rollback", "replace"];

    private static readonly HashSet<string> SqlKeywords =
        [.. SqlOperations, "from", "into", "join", "table", "as", "where", "on", "and", "or", "not", "in", "is", "null", "limit", "offset",
         "order", "by", "group", "having", "values", "left", "right", "inner", "outer", "cross", "natural", "straight_join", "distinct",
         "union", "all", "case", "when", "then", "else", "end", "exists", "like", "between", "asc", "desc", "for", "cast", "convert",
         "signed", "unsigned", "returning", "default", "interval", "point"];

    private enum SqlToken { Word, Keyword, Id, String, ValueArg, Comma, Dot, Comment, Other, LexError }

    private static IEnumerable<(SqlToken Type, string Text)> SqlTokens(string sql)
    {
        var i = 0;
        while (i < sql.Length)
        {
            var c = sql[i];
            if (c is ' ' or '\n' or '\r' or '\t') { i++; continue; }
            if (char.IsAsciiLetter(c) || c is '_' or '@')
            {
                var start = i;
                while (i < sql.Length && (char.IsAsciiLetterOrDigit(sql[i]) || sql[i] is '_' or '@')) i++;
                var word = sql[start..i];
                yield return SqlKeywords.Contains(word.ToLowerInvariant()) ? (SqlToken.Keyword, word.ToLowerInvariant()) : (SqlToken.Id, word);
            }
            else if (char.IsAsciiDigit(c))
            {
                while (i < sql.Length && (char.IsAsciiLetterOrDigit(sql[i]) || sql[i] == '.')) i++;
                yield return (SqlToken.Other, "");
            }
            else if (c is '`' or '\'' or '"')
            {
                var end = sql.IndexOf(c, i + 1);
                if (end < 0) { yield return (SqlToken.LexError, ""); yield break; }
                yield return (c == '`' ? SqlToken.Id : SqlToken.String, sql[(i + 1)..end]);
                i = end + 1;
            }
            else if ((c == '-' && i + 1 < sql.Length && sql[i + 1] == '-') || c == '#')
            {
                var end = sql.IndexOf('\n', i);
                i = end < 0 ? sql.Length : end + 1;
                yield return (SqlToken.Comment, "");
            }
            else
            {
                i++;
                yield return c switch
                {
                    ',' => (SqlToken.Comma, ""),
                    '.' => (SqlToken.Dot, ""),
                    '?' => (SqlToken.ValueArg, "?"),
                    '=' or ';' or '(' or ')' or '+' or '*' or '%' or '^' or '~' or '&' or '|' or '<' or '>' or '!' or '-' or '/' or ':' => (SqlToken.Other, ""),
                    _ => (SqlToken.LexError, ""),
                };
            }
        }
    }

    /// <summary>
    /// The operation (the first operation keyword, upper-cased) and the distinct tables in order of appearance: a word, string or ?
    /// right after FROM, INTO, UPDATE, JOIN or TABLE, or after a comma that follows a table, "schema.table" joined; the scan stops at
    /// the first LEX_ERROR, e.g. PostgreSQL's $1 (OBI pkg/internal/sqlprune/sqlparser.go, SQLParseOperationAndTables).
    /// </summary>
    public static (string Operation, List<string> Tables) SqlOperationAndTables(string sql)
    {
        var operation = "";
        var tables = new List<string>();
        string? last = null;
        bool addedTable = false, addMoreTables = false;
        using var tokens = SqlTokens(sql).GetEnumerator();
        while (tokens.MoveNext())
        {
            var (type, text) = tokens.Current;
            if (type == SqlToken.LexError) break;
            if (operation == "" && type == SqlToken.Keyword && SqlOperations.Contains(text)) operation = text.ToUpperInvariant();
            if (type == SqlToken.Comma && addedTable) { addMoreTables = true; continue; }
            if (type == SqlToken.Dot && addedTable)
            {
                if (!tokens.MoveNext()) break;
                (type, text) = tokens.Current;
                if (type is SqlToken.Id or SqlToken.String) { tables[^1] += "." + text; continue; }
            }
            if (type is SqlToken.Id or SqlToken.ValueArg or SqlToken.String)
            {
                if (last is "table" or "from" or "into" or "update" or "join" || addMoreTables)
                {
                    tables.Add(text);
                    addedTable = true;
                    addMoreTables = false;
                }
            }
            else
            {
                addedTable = false;
            }
            if (type != SqlToken.Comment) last = type == SqlToken.Keyword ? text : type.ToString();
        }
        return (operation, tables.Distinct().ToList());
    }

    /// <summary>
    /// A SQL span's name: db.query.summary (the operation and every distinct table, within 255 characters), else the operation and
    /// db.namespace, else the operation; "SQL" without an operation (OBI pkg/appolly/app/request/span.go, TraceName;
    /// pkg/internal/sqlprune/sqlparser.go, SQLQuerySummary). db.namespace is set for PostgreSQL only, and only when Beyla saw the
    /// connection's StartupMessage (pkg/ebpf/common/sql_detect_postgres.go, postgresDBForConn); never for MySQL (sql_detect_mysql.go).
    /// </summary>
    public static string SqlSpanName(string sql, string dbSystem, string? postgresDatabaseIfStartupSeen = null)
    {
        var (operation, tables) = SqlOperationAndTables(sql);
        if (operation == "") return "SQL";
        var summary = operation;
        foreach (var table in tables)
        {
            if (summary.Length + 1 + table.Length > 255) break;
            summary += " " + table;
        }
        if (summary != operation) return summary;
        var ns = dbSystem == "postgresql" ? postgresDatabaseIfStartupSeen ?? "" : "";
        return ns != "" ? operation + " " + ns : operation;
    }
}
