using System.Net.Sockets;
using Lab19.ServiceDefaults;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using MySqlConnector;

namespace PointService.Data;

public static class PointsDatabase
{
    /// <summary>Registers <see cref="PointsDbContext"/> on the <c>pointdb</c> connection string, migrated and seeded at start-up, and the clean-up of expired idempotency keys.</summary>
    public static IHostApplicationBuilder AddPointsDatabase(this IHostApplicationBuilder builder)
    {
        var csb = new MySqlConnectionStringBuilder(builder.Configuration.GetConnectionString("pointdb")
            ?? throw new InvalidOperationException("Connection string 'pointdb' is missing."));
        // Short timeouts unless the connection string sets its own (see DatabaseLimits).
        if (csb.ConnectionTimeout == 15) csb.ConnectionTimeout = DatabaseLimits.ConnectTimeoutSeconds;
        if (csb.DefaultCommandTimeout == 30) csb.DefaultCommandTimeout = DatabaseLimits.CommandTimeoutSeconds;
        // The service sets no session state, so a pooled connection needs no reset: one server command less per request.
        csb.ConnectionReset = false;
        var connectionString = csb.ConnectionString;

        // EF's execution strategy retries a transient failure (DatabaseLimits). Pomelo's own strategy does not count a pooled connection
        // the server has closed (it restarted) as transient, so RetryingStrategy adds that case.
        // The server version (MySQL 8.x or MariaDB) is detected, not hard-coded; pooled options are built once, on first use.
        builder.Services.AddDbContextPool<PointsDbContext>(o => o.UseMySql(connectionString, ServerVersion.AutoDetect(connectionString),
            mysql => mysql.ExecutionStrategy(dependencies => new RetryingStrategy(dependencies))));
        builder.AddDatabaseMigrator<PointsDbContext>(PointsSeed.SeedAsync);
        builder.Services.AddHostedService<IdempotencyKeyCleanup>();
        return builder;
    }

    /// <summary>Pomelo's retrying strategy, plus a pooled connection the server has closed, which fails on first use (pooled connections are not reset).</summary>
    private sealed class RetryingStrategy(ExecutionStrategyDependencies dependencies)
        : MySqlRetryingExecutionStrategy(dependencies, DatabaseLimits.RetryCount, DatabaseLimits.MaxRetryDelay, errorNumbersToAdd: null)
    {
        protected override bool ShouldRetryOn(Exception exception) =>
            base.ShouldRetryOn(exception) || exception is MySqlException { InnerException: IOException or SocketException };
    }
}
