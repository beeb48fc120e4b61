using Lab19.ServiceDefaults;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Npgsql.EntityFrameworkCore.PostgreSQL;

namespace UserService.Data;

public static class UsersDatabase
{
    /// <summary>Registers <see cref="UsersDbContext"/> on the <c>userdb</c> connection string, migrated and seeded at start-up.</summary>
    public static IHostApplicationBuilder AddUsersDatabase(this IHostApplicationBuilder builder)
    {
        var csb = new NpgsqlConnectionStringBuilder(builder.Configuration.GetConnectionString("userdb")
            ?? throw new InvalidOperationException("Connection string 'userdb' is missing."));
        // Short timeouts unless the connection string sets its own (see DatabaseLimits).
        if (csb.Timeout == 15) csb.Timeout = DatabaseLimits.ConnectTimeoutSeconds;
        if (csb.CommandTimeout == 30) csb.CommandTimeout = DatabaseLimits.CommandTimeoutSeconds;
        // The service sets no session state, so a pooled connection needs no DISCARD ALL: less server work per request.
        csb.NoResetOnClose = true;
        var connectionString = csb.ConnectionString;

        // EF's execution strategy retries a transient failure (DatabaseLimits). Npgsql's own strategy is enough here: it already counts
        // a pooled connection the server has closed (it restarted) as transient, because NpgsqlException.IsTransient covers I/O errors.
        // AddDbContextPool, not Aspire's client integration: Aspire.Npgsql.EntityFrameworkCore.PostgreSQL 13 needs EF Core 10, and Pomelo 9 keeps the lab on EF Core 9.
        builder.Services.AddDbContextPool<UsersDbContext>(o => o.UseNpgsql(connectionString,
            npgsql => npgsql.ExecutionStrategy(dependencies => new NpgsqlRetryingExecutionStrategy(
                dependencies, DatabaseLimits.RetryCount, DatabaseLimits.MaxRetryDelay, errorCodesToAdd: null))));
        builder.AddDatabaseMigrator<UsersDbContext>(UsersSeed.SeedAsync);
        return builder;
    }
}
