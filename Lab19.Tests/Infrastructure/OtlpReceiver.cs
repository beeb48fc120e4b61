// OtlpReceiver: an in-process OTLP receiver (HTTP/protobuf and gRPC) that keeps the spans, metrics and logs the runtime agent exports (OtlpDecoder reads them).
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

/// <summary>
/// An OTLP receiver on free loopback ports (messages decoded by <see cref="OtlpDecoder"/>): OTLP/HTTP with protobuf (POST /v1/traces, /v1/metrics, /v1/logs)
/// on <see cref="Endpoint"/>, and OTLP/gRPC (the same messages in gRPC frames, over HTTP/2 without TLS) on <see cref="GrpcEndpoint"/>.
/// </summary>
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
        _app.MapPost("/v1/traces", (HttpRequest request) => ReceiveAsync(request, input => Enqueue(Spans, OtlpDecoder.Spans(input))));
        _app.MapPost("/v1/metrics", (HttpRequest request) => ReceiveAsync(request, input => Enqueue(Metrics, OtlpDecoder.Metrics(input))));
        _app.MapPost("/v1/logs", (HttpRequest request) => ReceiveAsync(request, input => Enqueue(Logs, OtlpDecoder.Logs(input))));
        _app.MapPost("/opentelemetry.proto.collector.trace.v1.TraceService/Export", (HttpContext context) => ReceiveGrpcAsync(context, input => Enqueue(Spans, OtlpDecoder.Spans(input))));
        _app.MapPost("/opentelemetry.proto.collector.metrics.v1.MetricsService/Export", (HttpContext context) => ReceiveGrpcAsync(context, input => Enqueue(Metrics, OtlpDecoder.Metrics(input))));
        _app.MapPost("/opentelemetry.proto.collector.logs.v1.LogsService/Export", (HttpContext context) => ReceiveGrpcAsync(context, input => Enqueue(Logs, OtlpDecoder.Logs(input))));
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

    private static void Enqueue<T>(ConcurrentQueue<T> queue, IEnumerable<T> items)
    {
        foreach (var item in items) queue.Enqueue(item);
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
}
