using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Lab19.ServiceDefaults;

/// <summary>Whether the service's database has been migrated and seeded; readiness and the data endpoints depend on it.</summary>
public sealed class DatabaseReadiness
{
    private volatile bool _ready;
    private volatile string _status = "The database has not been migrated yet.";

    public bool IsReady => _ready;
    public string Status => _status;

    internal void Waiting(string reason) => _status = reason;

    internal void Ready()
    {
        _status = "The database is migrated and seeded.";
        _ready = true;
    }
}

public static class DatabaseReadinessExtensions
{
    /// <summary>
    /// Answers requests under <paramref name="path"/> with 503 ProblemDetails while the database is still being migrated,
    /// before anything touches a half-made schema (a middleware, because endpoint filters run after the DbContext is resolved).
    /// </summary>
    public static WebApplication UseDatabaseReadiness(this WebApplication app, string path = "/api")
    {
        var readiness = app.Services.GetRequiredService<DatabaseReadiness>();
        app.Use(async (context, next) =>
        {
            if (readiness.IsReady || !context.Request.Path.StartsWithSegments(path))
            {
                await next(context);
                return;
            }
            // Why it is not ready (a refused login, an unknown host) is in the migrator's log lines, not in the answer.
            await TypedResults.Problem(title: "Database not ready",
                detail: "The service's database is not ready yet (the service is starting, or cannot reach it). Try again shortly.",
                statusCode: StatusCodes.Status503ServiceUnavailable).ExecuteAsync(context);
        });
        return app;
    }
}

/// <summary>The "database" readiness check: unhealthy until the migrator is done, and afterwards whenever the database does not answer.</summary>
// The EF Core DbContext check would resolve the context before the migrator has ever reached the database; this one waits for it.
internal sealed class DatabaseHealthCheck<TContext>(DatabaseReadiness readiness, IServiceProvider services) : IHealthCheck
    where TContext : DbContext
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!readiness.IsReady)
        {
            return HealthCheckResult.Unhealthy(readiness.Status);
        }
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TContext>();
        return await db.Database.CanConnectAsync(cancellationToken)
            ? HealthCheckResult.Healthy(readiness.Status)
            : HealthCheckResult.Unhealthy("The database does not answer.");
    }
}
