// InProcessDatabases: the services' own DbContexts in the test process, on databases of their own on the shared servers, migrated as the services migrate them.
using Microsoft.EntityFrameworkCore;
using PointService.Data;
using UserService.Data;

namespace Lab19.Tests.Infrastructure;

/// <summary>
/// A service's DbContext built with the service's own options (PointsDatabase / UsersDatabase), for tests that call the services' code directly:
/// the same model, provider and SQL as the running service, plus an interceptor that records what it sends.
/// </summary>
public static class InProcessDatabases
{
    /// <summary>point-service's context on the database <paramref name="name"/> (created and migrated on first use).</summary>
    public static async Task<PointsDbContext> PointsAsync(SharedDatabases databases, string name, SqlRecorder? recorder = null)
    {
        var options = new DbContextOptionsBuilder<PointsDbContext>()
            .UsePointsDatabase(PointsDatabase.ConnectionString(databases.MariaDb.ConnectionString(name)));
        if (recorder is not null) options.AddInterceptors(recorder);
        var db = new PointsDbContext((DbContextOptions<PointsDbContext>)options.Options);
        await db.Database.MigrateAsync(TestContext.Current.CancellationToken);
        return db;
    }

    /// <summary>user-service's context on the database <paramref name="name"/> (created and migrated on first use).</summary>
    public static async Task<UsersDbContext> UsersAsync(SharedDatabases databases, string name, SqlRecorder? recorder = null)
    {
        var options = new DbContextOptionsBuilder<UsersDbContext>()
            .UseUsersDatabase(UsersDatabase.ConnectionString(databases.Postgres.ConnectionString(name)));
        if (recorder is not null) options.AddInterceptors(recorder);
        var db = new UsersDbContext((DbContextOptions<UsersDbContext>)options.Options);
        await db.Database.MigrateAsync(TestContext.Current.CancellationToken);
        return db;
    }
}
