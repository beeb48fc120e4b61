using System.Text.Json.Serialization;
using Lab19.ServiceDefaults;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;

namespace Microsoft.Extensions.Hosting;

// No OpenTelemetry here on purpose: the services stay uninstrumented; telemetry comes from outside them (Beyla, or the runtime agent of Lab19:Instrumentation).
public static class Extensions
{
    /// <summary>Largest request body either service accepts; larger bodies get 413.</summary>
    public const long MaxRequestBodyBytes = 64 * 1024;

    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), ["live"]);
        // A check's result is what /health answers and the dashboard's health column shows. The health-check service would also log
        // an Error for every unhealthy result, several a second while a new database is migrated: an expected state, not an error
        // (a real failure logs its own error where it happens).
        builder.Logging.AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks.DefaultHealthCheckService", LogLevel.Critical);

        // Outgoing calls carry a sampled W3C traceparent, so Beyla keeps the downstream spans of a request that came without one.
        TraceContext.SampleRequestsLikeAParentBasedSampler();

        builder.Services.AddServiceDiscovery();
        builder.Services.ConfigureHttpClientDefaults(http =>
        {
            http.AddStandardResilienceHandler();
            http.AddServiceDiscovery();
        });

        builder.Services.Configure<KestrelServerOptions>(o => o.Limits.MaxRequestBodySize = MaxRequestBodyBytes);
        builder.Services.AddProblemDetails(o => o.CustomizeProblemDetails = ProblemAnswers.Customize);
        // Binding failures (malformed JSON, wrong types, wrong content type) reach ProblemExceptionHandler with their reason.
        builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            // A misspelt field is an error, not silently ignored.
            o.SerializerOptions.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
            // A property sent twice ("userId", or "points" and "Points") is an error, not "the last one wins".
            o.SerializerOptions.AllowDuplicateProperties = false;
            // Numbers are JSON numbers: the web defaults would also read "10" as 10.
            o.SerializerOptions.NumberHandling = JsonNumberHandling.Strict;
        });
        builder.Services.AddExceptionHandler<ProblemExceptionHandler>();
        // A service with a database registers its driver's rule (XxxDatabase.cs); without one, only the drivers' common signs count.
        builder.Services.TryAddSingleton(new DatabaseFailures(_ => false));

        return builder;
    }

    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        // Mapped in every environment: the AppHost's health waits and the readiness of the lab depend on them.
        app.MapHealthChecks("/health");
        app.MapHealthChecks("/alive", new HealthCheckOptions { Predicate = r => r.Tags.Contains("live") });
        return app;
    }

    /// <summary>Exception handling and status-code pages that answer with ProblemDetails, never a stack trace.</summary>
    public static WebApplication UseProblemResponses(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        return app;
    }
}
