using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Lab19.Agent;

/// <summary>
/// What the agent records: the OpenTelemetry .NET SDK with ASP.NET Core, HttpClient, Npgsql and MySqlConnector spans, ASP.NET Core,
/// HttpClient and runtime metrics, and the service's own log records, all sent by OTLP. Where to, how, and under which service name come only from the
/// standard variables the SDK reads itself (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_PROTOCOL, OTEL_SERVICE_NAME,
/// OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER, OTEL_BSP_*, OTEL_METRIC_EXPORT_INTERVAL, ...).
/// </summary>
public static class AgentTelemetry
{
    /// <summary>Libraries that emit their own spans: subscribed to by name, no instrumentation package needed.</summary>
    public static readonly string[] ActivitySources = ["Npgsql", "MySqlConnector"];

    /// <summary>The runtime's built-in meter: GC, heap, thread pool, JIT, lock contention, exceptions.</summary>
    public const string RuntimeMeter = "System.Runtime";

    /// <summary>Health probes: Aspire polls them every few seconds, and each would otherwise be a trace of its own.</summary>
    private static readonly PathString[] Probes = ["/health", "/alive", "/actuator/health"];

    public static IServiceCollection AddLab19Agent(this IServiceCollection services)
    {
        services.AddOpenTelemetry()
            .WithTracing(tracing => tracing
                .AddAspNetCoreInstrumentation(o => o.Filter = context => !Probes.Contains(context.Request.Path))
                .AddHttpClientInstrumentation()
                .AddSource(ActivitySources)
                .AddOtlpExporter(WithOwnHttpClient))
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddMeter(RuntimeMeter)
                .AddOtlpExporter(WithOwnHttpClient))
            .WithLogging(logging => logging.AddOtlpExporter(WithOwnHttpClient), o =>
            {
                o.IncludeFormattedMessage = true;
                o.IncludeScopes = true;
            });
        return services;
    }

    /// <summary>
    /// Endpoint, protocol (grpc or http/protobuf), headers and timeout stay as OTEL_EXPORTER_OTLP_* set them. Only the HttpClient is the
    /// exporter's own: otherwise, for http/protobuf, it would come from the service's IHttpClientFactory with the service's defaults
    /// (retries, service discovery, and a Polly log line per export that would itself be exported).
    /// </summary>
    private static void WithOwnHttpClient(OtlpExporterOptions exporter) =>
        exporter.HttpClientFactory = () => new HttpClient { Timeout = TimeSpan.FromMilliseconds(exporter.TimeoutMilliseconds) };
}
