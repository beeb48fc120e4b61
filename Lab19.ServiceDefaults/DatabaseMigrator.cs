using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Lab19.ServiceDefaults;

/// <summary>
/// Applies the EF Core migrations inside the provider's execution strategy and then seeds idempotently.
/// Keeps retrying while the database is unreachable, so the service can start before its database.
/// </summary>
public sealed class DatabaseMigrator<TContext>(
    IServiceProvider services,
    DatabaseReadiness readiness,
    Func<TContext, CancellationToken, Task> seed,
    ILogger<DatabaseMigrator<TContext>> logger) : BackgroundService
    where TContext : DbContext
{
    private static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(2);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var delay = TimeSpan.FromMilliseconds(250);
        for (var attempt = 1; !stoppingToken.IsCancellationRequested; attempt++)
        {
            try
            {
                await using var scope = services.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<TContext>();
                if (attempt == 1)
                {
                    var connection = db.Database.GetDbConnection();
                    logger.LogInformation("{Context}: database {Database} on {Server}", typeof(TContext).Name, connection.Database, connection.DataSource);
                }
                var strategy = db.Database.CreateExecutionStrategy();
                await strategy.ExecuteAsync(async () =>
                {
                    // On an empty database (the AppHost creates it before the service starts) EF's migrator reads the history
                    // table before it exists and logs that expected failure as an Error with its SQL: the table comes first.
                    // A database that does not exist yet is created by MigrateAsync itself, which then knows the table is new.
                    if (await db.GetService<IRelationalDatabaseCreator>().ExistsAsync(stoppingToken))
                    {
                        await db.GetService<IHistoryRepository>().CreateIfNotExistsAsync(stoppingToken);
                    }
                    await db.Database.MigrateAsync(stoppingToken);
                });
                await seed(db, stoppingToken);
                readiness.Ready();
                logger.LogInformation("{Context}: database migrated and seeded (attempt {Attempt})", typeof(TContext).Name, attempt);
                return;
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                readiness.Waiting($"Waiting for the database (attempt {attempt}); the log says why.");
                logger.LogWarning("{Context}: database not ready (attempt {Attempt}): {Reason}; retrying in {Delay} ms",
                    typeof(TContext).Name, attempt, e.GetBaseException().Message, delay.TotalMilliseconds);
                await Task.Delay(delay, stoppingToken);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxDelay.Ticks));
            }
        }
    }
}

public static class DatabaseMigratorExtensions
{
    /// <summary>
    /// Migrates and seeds <typeparamref name="TContext"/> at start-up and adds the "database" readiness check:
    /// unhealthy until that is done, and afterwards whenever the database does not answer.
    /// </summary>
    public static IHostApplicationBuilder AddDatabaseMigrator<TContext>(this IHostApplicationBuilder builder, Func<TContext, CancellationToken, Task> seed)
        where TContext : DbContext
    {
        builder.Services.AddSingleton<DatabaseReadiness>();
        builder.Services.AddSingleton(seed);
        builder.Services.AddHostedService<DatabaseMigrator<TContext>>();
        builder.Services.AddHealthChecks().AddCheck<DatabaseHealthCheck<TContext>>("database");
        return builder;
    }
}
