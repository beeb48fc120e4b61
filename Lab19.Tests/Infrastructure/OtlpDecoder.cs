// OtlpDecoder: the spans, metrics and logs of an OTLP export request, read by protobuf field number.
using Google.Protobuf;

namespace Lab19.Tests.Infrastructure;

public enum SpanKind { Unspecified, Internal, Server, Client, Producer, Consumer }

public sealed record OtlpSpan(string Service, string Scope, string TraceId, string SpanId, string ParentSpanId, string Name, SpanKind Kind,
    IReadOnlyDictionary<string, object> Attributes, int StatusCode)
{
    public string? Attribute(string key) => Attributes.TryGetValue(key, out var value) ? Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) : null;
}

/// <param name="Attributes">The attribute keys of its data points (histogram, sum and gauge points).</param>
public sealed record OtlpMetric(string Service, string Scope, string Name, IReadOnlySet<string> Attributes);

public sealed record OtlpLog(string Service, string Category, string Body, string TraceId);

/// <summary>Reads OTLP Export*ServiceRequest messages: what the tests check of spans, metrics and logs, nothing more.</summary>
// Decoded by hand with Google.Protobuf's CodedInputStream: the OpenTelemetry.Proto package is not on the package source.
internal static class OtlpDecoder
{
    // ExportTraceServiceRequest{1: ResourceSpans{1: Resource, 2: ScopeSpans{1: InstrumentationScope, 2: Span}}}
    public static List<OtlpSpan> Spans(CodedInputStream request)
    {
        var spans = new List<OtlpSpan>();
        ForEachScopeItem(request, (service, scope, span) =>
        {
            string traceId = "", spanId = "", parentSpanId = "", name = "";
            var kind = SpanKind.Unspecified;
            var status = 0;
            var attributes = new Dictionary<string, object>();
            Read(span, (field, input) =>
            {
                switch (field)
                {
                    case 1: traceId = Convert.ToHexStringLower(input.ReadBytes().Span); break;
                    case 2: spanId = Convert.ToHexStringLower(input.ReadBytes().Span); break;
                    case 4: parentSpanId = Convert.ToHexStringLower(input.ReadBytes().Span); break;
                    case 5: name = input.ReadString(); break;
                    case 6: kind = (SpanKind)input.ReadEnum(); break;
                    case 9: AddAttribute(attributes, Nested(input)); break;
                    case 15: Read(Nested(input), (f, s) => { if (f == 3) status = s.ReadEnum(); else s.SkipLastField(); }); break;
                    default: input.SkipLastField(); break;
                }
            });
            spans.Add(new OtlpSpan(service, scope, traceId, spanId, parentSpanId, name, kind, attributes, status));
        });
        return spans;
    }

    // ExportMetricsServiceRequest{1: ResourceMetrics{1: Resource, 2: ScopeMetrics{1: InstrumentationScope, 2: Metric{1: name,
    // 5: Gauge | 7: Sum {1: NumberDataPoint{7: attributes}}, 9: Histogram{1: HistogramDataPoint{9: attributes}}}}}}
    public static List<OtlpMetric> Metrics(CodedInputStream request)
    {
        var metrics = new List<OtlpMetric>();
        ForEachScopeItem(request, (service, scope, metric) =>
        {
            var name = "";
            var attributes = new Dictionary<string, object>();
            Read(metric, (field, input) =>
            {
                var attributesField = field switch { 5 or 7 => 7, 9 => 9, _ => 0 };
                if (field == 1) name = input.ReadString();
                else if (attributesField == 0) input.SkipLastField();
                else Read(Nested(input), (f, points) =>
                {
                    if (f != 1) { points.SkipLastField(); return; }
                    Read(Nested(points), (g, point) => { if (g == attributesField) AddAttribute(attributes, Nested(point)); else point.SkipLastField(); });
                });
            });
            metrics.Add(new OtlpMetric(service, scope, name, attributes.Keys.ToHashSet()));
        });
        return metrics;
    }

    // ExportLogsServiceRequest{1: ResourceLogs{1: Resource, 2: ScopeLogs{1: InstrumentationScope, 2: LogRecord}}}
    public static List<OtlpLog> Logs(CodedInputStream request)
    {
        var logs = new List<OtlpLog>();
        ForEachScopeItem(request, (service, scope, log) =>
        {
            string body = "", traceId = "";
            Read(log, (field, input) =>
            {
                switch (field)
                {
                    case 5: body = AnyValue(Nested(input))?.ToString() ?? ""; break;
                    case 9: traceId = Convert.ToHexStringLower(input.ReadBytes().Span); break;
                    default: input.SkipLastField(); break;
                }
            });
            logs.Add(new OtlpLog(service, scope, body, traceId));
        });
        return logs;
    }

    /// <summary>The three signals share their outer shape: field 1 resource-level messages, each with a Resource (1) and scope-level messages (2),
    /// each with an InstrumentationScope (1) and the items (2).</summary>
    private static void ForEachScopeItem(CodedInputStream request, Action<string, string, CodedInputStream> item) =>
        Read(request, (field, input) =>
        {
            if (field != 1) { input.SkipLastField(); return; }
            var service = "";
            var scopes = new List<CodedInputStream>();
            Read(Nested(input), (f, resourceLevel) =>
            {
                if (f == 1) service = ServiceName(Nested(resourceLevel));
                else if (f == 2) scopes.Add(Nested(resourceLevel));
                else resourceLevel.SkipLastField();
            });
            foreach (var scopeLevel in scopes)
            {
                var scope = "";
                var items = new List<CodedInputStream>();
                Read(scopeLevel, (f, s) =>
                {
                    if (f == 1) Read(Nested(s), (g, sc) => { if (g == 1) scope = sc.ReadString(); else sc.SkipLastField(); });
                    else if (f == 2) items.Add(Nested(s));
                    else s.SkipLastField();
                });
                items.ForEach(i => item(service, scope, i));
            }
        });

    // Resource{1: KeyValue attributes}
    private static string ServiceName(CodedInputStream resource)
    {
        var attributes = new Dictionary<string, object>();
        Read(resource, (field, input) => { if (field == 1) AddAttribute(attributes, Nested(input)); else input.SkipLastField(); });
        return attributes.TryGetValue("service.name", out var name) ? (string)name : "";
    }

    // KeyValue{1: key, 2: AnyValue}
    private static void AddAttribute(Dictionary<string, object> attributes, CodedInputStream keyValue)
    {
        var key = "";
        object? value = null;
        Read(keyValue, (field, input) =>
        {
            if (field == 1) key = input.ReadString();
            else if (field == 2) value = AnyValue(Nested(input));
            else input.SkipLastField();
        });
        if (value is not null) attributes[key] = value;
    }

    // AnyValue{1: string, 2: bool, 3: int64, 4: double}; arrays, maps and bytes are not needed by the tests.
    private static object? AnyValue(CodedInputStream any)
    {
        object? value = null;
        Read(any, (field, input) =>
        {
            value = field switch
            {
                1 => input.ReadString(),
                2 => input.ReadBool(),
                3 => input.ReadInt64(),
                4 => input.ReadDouble(),
                _ => Skip(input),
            };
        });
        return value;
    }

    private static object? Skip(CodedInputStream input)
    {
        input.SkipLastField();
        return null;
    }

    private static CodedInputStream Nested(CodedInputStream input) => new(input.ReadBytes().ToByteArray());

    private static void Read(CodedInputStream input, Action<int, CodedInputStream> field)
    {
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            field(WireFormat.GetTagFieldNumber(tag), input);
        }
    }
}
