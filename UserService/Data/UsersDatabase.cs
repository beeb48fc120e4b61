using Lab19.ServiceDefaults;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;
using Npgsql.EntityFrameworkCore.PostgreSQL;

namespace UserService.Data;

public static class UsersDatabase
{
    /// <summary>Registers <see cref="UsersDbContext"/> on the <c>userdb</c> connection string, migrated and seeded at start-up.</summary>
    public static IHostApplicationBuilder AddUsersDatabase(this IHostApplicationBuilder builder)
    {
        var connectionString = ConnectionString(builder.Configuration.GetConnectionString("userdb")
            ?? throw new InvalidOperationException("Connection string 'userdb' is missing."));

        // AddDbContextPool, not Aspire's client integration: Aspire.Npgsql.EntityFrameworkCore.PostgreSQL 13 needs EF Core 10, and Pomelo 9 keeps the lab on EF Core 9.
        // A unique violation is a duplicate email, which CreateUser answers with 409: EF logs it at Debug, not as an Error (so is a connection
        // open cancelled by a client that went away).
        builder.Services.AddHttpContextAccessor();
        builder.Services.AddDbContextPool<UsersDbContext>((services, o) => o.UseUsersDatabase(connectionString)
            .UseHandledFailureLogging(services, e => e is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation }));
        // Npgsql's own rule is the strategy's: a command timeout (TimeoutException inside) and a broken connection are transient.
        builder.Services.AddSingleton(new DatabaseFailures(e => e is NpgsqlException { IsTransient: true }));
        builder.AddDatabaseMigrator<UsersDbContext>(UsersSeed.SeedAsync);
        return builder;
    }

    /// <summary>The connection string user-service uses: <paramref name="configured"/> with the lab's timeouts and options, where it does not set its own.</summary>
    public static string ConnectionString(string configured)
    {
        var csb = new NpgsqlConnectionStringBuilder(configured);
        // Short timeouts unless the connection string sets its own (see DatabaseLimits).
        if (csb.Timeout == 15) csb.Timeout = DatabaseLimits.ConnectTimeoutSeconds;
        if (csb.CommandTimeout == 30) csb.CommandTimeout = DatabaseLimits.CommandTimeoutSeconds;
        // The service sets no session state, so a pooled connection needs no DISCARD ALL: less server work per request.
        csb.NoResetOnClose = true;
        return csb.ConnectionString;
    }

    /// <summary>
    /// EF Core on <paramref name="connectionString"/> as user-service uses it (the tests build their contexts with it too).
    /// EF's execution strategy retries a transient failure (DatabaseLimits). Npgsql's own strategy is enough here: it already counts
    /// a pooled connection the server has closed (it restarted) as transient, because NpgsqlException.IsTransient covers I/O errors.
    /// </summary>
    public static DbContextOptionsBuilder UseUsersDatabase(this DbContextOptionsBuilder options, string connectionString) =>
        options.UseNpgsql(connectionString, npgsql => npgsql.ExecutionStrategy(dependencies => new NpgsqlRetryingExecutionStrategy(
            dependencies, DatabaseLimits.RetryCount, DatabaseLimits.MaxRetryDelay, errorCodesToAdd: null)))
        .ReplaceService<IDatabase, CompiledShapersDatabase>();
}
