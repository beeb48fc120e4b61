using Lab19.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using PointService.Data;

namespace Lab19.Tests;

/// <summary>point-service's upgrade to kept totals fills them from the records stored before it.</summary>
public class UserTotalsMigrationTests(SharedDatabases databases)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_migration_backfills_every_users_total_from_their_records_and_writes_after_it_add_to_them()
    {
        const string database = "pointdb_totalsupgrade";
        var options = new DbContextOptionsBuilder<PointsDbContext>()
            .UsePointsDatabase(PointsDatabase.ConnectionString(databases.MariaDb.ConnectionString(database))).Options;
        await using var db = new PointsDbContext((DbContextOptions<PointsDbContext>)options);
        var migrator = db.GetService<IMigrator>();
        await migrator.MigrateAsync("20261205202817_HashIdempotencyKeys", Ct); // the schema before totals were kept
        await db.Database.ExecuteSqlRawAsync("""
            INSERT INTO points (user_id, points, reason, created_at) VALUES
              (1, 100, 'signup', '2026-06-01 12:00:00'), (1, -30, 'redeemed', '2026-06-02 12:00:00'), (1, 5, NULL, '2026-06-03 12:00:00'),
              (2, 40, 'signup', '2026-06-01 12:00:00'), (2, -40, 'redeemed', '2026-06-02 12:00:00'),
              (3, 1000000, 'large', '2026-06-01 12:00:00'), (3, 1000000, 'large', '2026-06-01 12:00:01'), (3, 1000000, 'large', '2026-06-01 12:00:02')
            """, Ct);

        await migrator.MigrateAsync(cancellationToken: Ct); // to the latest

        Assert.Equal([(1, 75L), (2, 0L), (3, 3_000_000L)], await db.UserTotals.OrderBy(t => t.UserId).Select(t => ValueTuple.Create(t.UserId, t.Total)).ToListAsync(Ct));
        Assert.Empty(await DataSnapshot.TotalsNotMatchingRecordsAsync(databases, database));

        await db.AddPointAsync(new(1, 25, "after", DateTime.UtcNow), Ct);
        await db.AddPointAsync(new(4, -3, "a new user", DateTime.UtcNow), Ct);
        Assert.Equal((100L, -3L), (await db.TotalOfUserAsync(1, Ct), await db.TotalOfUserAsync(4, Ct)));
        Assert.Empty(await DataSnapshot.TotalsNotMatchingRecordsAsync(databases, database));
    }
}
