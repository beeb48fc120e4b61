using Lab19.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using PointService;
using PointService.Contracts;
using PointService.Data;

namespace Lab19.Tests;

/// <summary>point-service's upgrade to hashed idempotency keys keeps its promise to the keys stored before it.</summary>
public class IdempotencyKeyMigrationTests(SharedDatabases databases)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_key_stored_before_keys_were_hashed_replays_its_record_after_the_migration_and_stores_nothing()
    {
        var options = new DbContextOptionsBuilder<PointsDbContext>()
            .UsePointsDatabase(PointsDatabase.ConnectionString(databases.MariaDb.ConnectionString("pointdb_keyupgrade"))).Options;
        await using var db = new PointsDbContext((DbContextOptions<PointsDbContext>)options);
        var migrator = db.GetService<IMigrator>();
        await migrator.MigrateAsync("20261126035040_AddIdempotencyKeys", Ct); // the schema that stored keys as text
        var request = new AddPointsRequest(7, 42, "before the upgrade");
        var key = $"upgrade-{Guid.NewGuid()}";
        var fingerprint = IdempotentWrites.Fingerprint(request);
        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO points (user_id, points, reason, created_at) VALUES (7, 42, 'before the upgrade', '2026-06-01 12:00:00');
            INSERT INTO idempotency_keys (idempotency_key, request_hash, point_id, created_at) VALUES ({key}, {fingerprint}, LAST_INSERT_ID(), UTC_TIMESTAMP(6));
            """, Ct);

        await migrator.MigrateAsync(cancellationToken: Ct); // to the latest

        var http = new DefaultHttpContext();
        var answer = await IdempotentWrites.AddOnceAsync(db, http.Response, key, request, DateTime.UtcNow, Ct);
        var replayed = Assert.IsType<CreatedAtRoute<PointResponse>>(answer.Result);
        Assert.Equal((7, 42, "before the upgrade"), (replayed.Value!.UserId, replayed.Value.Points, replayed.Value.Reason));
        Assert.Equal("true", http.Response.Headers[IdempotentWrites.ReplayedHeader]);
        Assert.Equal(1, await db.Points.CountAsync(Ct));
    }
}
