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
        var connectionString = ConnectionString(builder.Configuration.GetConnectionString("pointdb")
            ?? throw new InvalidOperationException("Connection string 'pointdb' is missing."));

        // AddDbContextPool, not Aspire's client integration: Aspire.Pomelo.EntityFrameworkCore.MySql is not on the lab's package source.
        // The writes, whose lost races are expected outcomes, are sent past EF's command logging (PointsDbContext.Writes.cs).
        // HandledFailureLogging: a connection open cancelled by a client that went away is logged at Debug, not as an Error.
        builder.Services.AddHttpContextAccessor();
        builder.Services.AddDbContextPool<PointsDbContext>((services, o) => o.UsePointsDatabase(connectionString).UseHandledFailureLogging(services));
        // A 503 for every command timeout, whether or not the server confirmed it stopped the statement.
        builder.Services.AddSingleton(new DatabaseFailures(e => IsAlsoTransient(e) || e is MySqlException { ErrorCode: MySqlErrorCode.CommandTimeoutExpired }));
        builder.AddDatabaseMigrator<PointsDbContext>(PointsSeed.SeedAsync);
        builder.Services.AddHostedService<IdempotencyKeyCleanup>();
        return builder;
    }

    /// <summary>The connection string point-service uses: <paramref name="configured"/> with the lab's timeouts and options, where it does not set its own.</summary>
    public static string ConnectionString(string configured)
    {
        var csb = new MySqlConnectionStringBuilder(configured);
        // Short timeouts unless the connection string sets its own (see DatabaseLimits).
        if (csb.ConnectionTimeout == 15) csb.ConnectionTimeout = DatabaseLimits.ConnectTimeoutSeconds;
        if (csb.DefaultCommandTimeout == 30) csb.DefaultCommandTimeout = DatabaseLimits.CommandTimeoutSeconds;
        // Plaintext unless the connection string asks for TLS: Beyla decodes the SQL from the wire only when it is not encrypted, and
        // MySQL 8 offers TLS, which MySqlConnector's default (Preferred) would take (docs/beyla-facts.md). Without TLS, MySQL's default
        // caching_sha2_password encrypts the password with the server's RSA public key, which the client must then be allowed to fetch.
        if (!csb.ContainsKey(nameof(csb.SslMode))) csb.SslMode = MySqlSslMode.None;
        if (!csb.ContainsKey(nameof(csb.AllowPublicKeyRetrieval))) csb.AllowPublicKeyRetrieval = csb.SslMode == MySqlSslMode.None;
        // The service sets no session state, so a pooled connection needs no reset: one server command less per request. A write's
        // transaction never outlives its command: it ends in its COMMIT or in the ROLLBACK after a failure (PointsDbContext.Writes.cs).
        csb.ConnectionReset = false;
        return csb.ConnectionString;
    }

    /// <summary>
    /// EF Core on <paramref name="connectionString"/> as point-service uses it (the tests build their contexts with it too).
    /// EF's execution strategy retries a transient failure (DatabaseLimits). Pomelo's own strategy does not count a pooled connection
    /// the server has closed (it restarted) as transient, so RetryingStrategy adds that case.
    /// The server version (MySQL 8.x or MariaDB) is detected, not hard-coded; pooled options are built once, on first use.
    /// </summary>
    public static DbContextOptionsBuilder UsePointsDatabase(this DbContextOptionsBuilder options, string connectionString) =>
        options.UseMySql(connectionString, ServerVersion.AutoDetect(connectionString),
            mysql => mysql.ExecutionStrategy(dependencies => new RetryingStrategy(dependencies)))
        .ReplaceService<IDatabase, CompiledShapersDatabase>();

    /// <summary>
    /// Failures Pomelo's strategy does not count as transient, though running the same work again is safe and may pass:
    /// a pooled connection the server has closed (it restarted), which can fail on first use;
    /// and a command stopped at the command timeout that the server confirms it interrupted (MySqlConnector's KILL QUERY: the statement
    /// did nothing). A timed-out command whose connection had to be closed instead is not retried: whether it ran is not known.
    /// </summary>
    public static bool IsAlsoTransient(Exception exception) =>
        exception is MySqlException { InnerException: IOException or SocketException }
            or MySqlException { ErrorCode: MySqlErrorCode.CommandTimeoutExpired, InnerException: MySqlException { ErrorCode: MySqlErrorCode.QueryInterrupted } };

    /// <summary>Pomelo's retrying strategy, plus <see cref="IsAlsoTransient"/>.</summary>
    private sealed class RetryingStrategy(ExecutionStrategyDependencies dependencies)
        : MySqlRetryingExecutionStrategy(dependencies, DatabaseLimits.RetryCount, DatabaseLimits.MaxRetryDelay, errorNumbersToAdd: null)
    {
        protected override bool ShouldRetryOn(Exception exception) => base.ShouldRetryOn(exception) || IsAlsoTransient(exception);
    }
}
