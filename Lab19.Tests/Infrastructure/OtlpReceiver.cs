// OtlpReceiver: an in-process OTLP receiver (HTTP/protobuf and gRPC) that decodes the spans, metrics and logs the runtime agent exports.
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

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

/// <summary>
/// An OTLP receiver on free loopback ports, decoded by OTLP field number: OTLP/HTTP with protobuf (POST /v1/traces, /v1/metrics, /v1/logs)
/// on <see cref="Endpoint"/>, and OTLP/gRPC (the same messages in gRPC frames, over HTTP/2 without TLS) on <see cref="GrpcEndpoint"/>.
/// </summary>
// Decoded by hand with Google.Protobuf's CodedInputStream: the OpenTelemetry.Proto package is not on the package source.
public sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;

    public OtlpReceiver()
    {
        int port = DatabaseServer.FreePort(), grpcPort = DatabaseServer.FreePort();
        Endpoint = $"http://127.0.0.1:{port}";
        GrpcEndpoint = $"http://127.0.0.1:{grpcPort}";
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, port, o => o.Protocols = HttpProtocols.Http1);
            kestrel.Listen(IPAddress.Loopback, grpcPort, o => o.Protocols = HttpProtocols.Http2);
        });
        builder.Logging.ClearProviders();
        _app = builder.Build();
        _app.MapPost("/v1/traces", (HttpRequest request) => ReceiveAsync(request, ReadTraces));
        _app.MapPost("/v1/metrics", (HttpRequest request) => ReceiveAsync(request, ReadMetrics));
        _app.MapPost("/v1/logs", (HttpRequest request) => ReceiveAsync(request, ReadLogs));
        _app.MapPost("/opentelemetry.proto.collector.trace.v1.TraceService/Export", (HttpContext context) => ReceiveGrpcAsync(context, ReadTraces));
        _app.MapPost("/opentelemetry.proto.collector.metrics.v1.MetricsService/Export", (HttpContext context) => ReceiveGrpcAsync(context, ReadMetrics));
        _app.MapPost("/opentelemetry.proto.collector.logs.v1.LogsService/Export", (HttpContext context) => ReceiveGrpcAsync(context, ReadLogs));
    }

    /// <summary>The value for OTEL_EXPORTER_OTLP_ENDPOINT with OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf.</summary>
    public string Endpoint { get; }
    /// <summary>The value for OTEL_EXPORTER_OTLP_ENDPOINT with OTEL_EXPORTER_OTLP_PROTOCOL=grpc.</summary>
    public string GrpcEndpoint { get; }
    public ConcurrentQueue<OtlpSpan> Spans { get; } = new();
    public ConcurrentQueue<OtlpMetric> Metrics { get; } = new();
    public ConcurrentQueue<OtlpLog> Logs { get; } = new();

    public Task StartAsync() => _app.StartAsync();

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();

    /// <summary>Polls until <paramref name="condition"/> holds for what has arrived, or fails with <paramref name="what"/> after <paramref name="timeout"/>.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(deadline.Elapsed < (timeout ?? TimeSpan.FromSeconds(30)), $"OTLP receiver: still waiting for {what}");
            await Task.Delay(100);
        }
    }

    private static async Task<IResult> ReceiveAsync(HttpRequest request, Action<CodedInputStream> read)
    {
        if (request.ContentType != "application/x-protobuf") return Results.StatusCode(StatusCodes.Status415UnsupportedMediaType);
        using var body = new MemoryStream();
        await request.Body.CopyToAsync(body);
        read(new CodedInputStream(body.ToArray()));
        // An empty Export*ServiceResponse: zero bytes of protobuf.
        return Results.Bytes([], "application/x-protobuf");
    }

    /// <summary>One gRPC message: a 5-byte frame (flag 0 = not compressed, big-endian length), the answer an empty message and grpc-status 0.</summary>
    private static async Task ReceiveGrpcAsync(HttpContext context, Action<CodedInputStream> read)
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body);
        var frame = body.ToArray();
        Assert.True(frame.Length >= 5 && frame[0] == 0, "an uncompressed gRPC frame");
        read(new CodedInputStream(frame, 5, (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(frame.AsSpan(1, 4))));
        context.Response.ContentType = "application/grpc";
        await context.Response.Body.WriteAsync(new byte[5]);
        context.Response.AppendTrailer("grpc-status", "0");
    }

    // ExportTraceServiceRequest{1: ResourceSpans{1: Resource, 2: ScopeSpans{1: InstrumentationScope, 2: Span}}}
    private void ReadTraces(CodedInputStream request) =>
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
            Spans.Enqueue(new OtlpSpan(service, scope, traceId, spanId, parentSpanId, name, kind, attributes, status));
        });

    // ExportMetricsServiceRequest{1: ResourceMetrics{1: Resource, 2: ScopeMetrics{1: InstrumentationScope, 2: Metric{1: name,
    // 5: Gauge | 7: Sum {1: NumberDataPoint{7: attributes}}, 9: Histogram{1: HistogramDataPoint{9: attributes}}}}}}
    private void ReadMetrics(CodedInputStream request) =>
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
            Metrics.Enqueue(new OtlpMetric(service, scope, name, attributes.Keys.ToHashSet()));
        });

    // ExportLogsServiceRequest{1: ResourceLogs{1: Resource, 2: ScopeLogs{1: InstrumentationScope, 2: LogRecord}}}
    private void ReadLogs(CodedInputStream request) =>
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
            Logs.Enqueue(new OtlpLog(service, scope, body, traceId));
        });

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
