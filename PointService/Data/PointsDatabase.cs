using Lab19.ServiceDefaults;
using Microsoft.EntityFrameworkCore;
using MySqlConnector;

namespace PointService.Data;

public static class PointsDatabase
{
    /// <summary>Registers <see cref="PointsDbContext"/> on the <c>pointdb</c> connection string, migrated and seeded at start-up.</summary>
    public static IHostApplicationBuilder AddPointsDatabase(this IHostApplicationBuilder builder)
    {
        var csb = new MySqlConnectionStringBuilder(builder.Configuration.GetConnectionString("pointdb")
            ?? throw new InvalidOperationException("Connection string 'pointdb' is missing."));
        // Short timeouts unless the connection string sets its own (see DatabaseLimits).
        if (csb.ConnectionTimeout == 15) csb.ConnectionTimeout = DatabaseLimits.ConnectTimeoutSeconds;
        if (csb.DefaultCommandTimeout == 30) csb.DefaultCommandTimeout = DatabaseLimits.CommandTimeoutSeconds;
        var connectionString = csb.ConnectionString;

        // The server version (MySQL 8.x or MariaDB) is detected, not hard-coded; pooled options are built once, on first use.
        builder.Services.AddDbContextPool<PointsDbContext>(o => o.UseMySql(connectionString, ServerVersion.AutoDetect(connectionString),
            mysql => mysql.EnableRetryOnFailure(DatabaseLimits.RetryCount, DatabaseLimits.MaxRetryDelay, errorNumbersToAdd: null)));
        builder.AddDatabaseMigrator<PointsDbContext>(PointsSeed.SeedAsync);
        return builder;
    }
}
