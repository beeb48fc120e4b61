using Lab19.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using PointService.Data;

namespace Lab19.Tests;

/// <summary>point-service's clean-up of expired idempotency keys, run on its own code against a MariaDB database of its own.</summary>
public class IdempotencyKeyCleanupTests(SharedDatabases databases)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Expired_keys_are_deleted_in_batches_of_1000_each_its_own_transaction_and_newer_keys_stay()
    {
        var recorder = new SqlRecorder();
        await using var db = await InProcessDatabases.PointsAsync(databases, "pointdb_cleanup", recorder);
        var now = new DateTime(2026, 6, 1, 12, 0, 0, DateTimeKind.Utc);
        var point = new PointRecord { UserId = 1, Points = 1, CreatedAt = now };
        db.Points.Add(point);
        await db.SaveChangesAsync(Ct);
        // 2,500 keys past the cutoff (2.5 batches), 10 within it
        db.IdempotencyKeys.AddRange(Enumerable.Range(0, 2510).Select(i => new IdempotencyKey
        {
            KeyHash = IdempotencyKey.Hash($"cleanup-{i}"),
            RequestHash = new byte[32],
            PointId = point.Id,
            CreatedAt = i < 2500 ? now.AddHours(-25).AddSeconds(i) : now.AddHours(-23),
        }));
        await db.SaveChangesAsync(Ct);
        db.ChangeTracker.Clear();
        recorder.Clear();

        var deleted = await IdempotencyKeyCleanup.DeleteExpiredAsync(db, now.AddHours(-24), Ct);

        Assert.Equal(2500, deleted);
        var deletes = recorder.Commands.Where(c => c.Sql.StartsWith("DELETE", StringComparison.Ordinal)).ToList();
        Assert.Equal([1000, 1000, 500], deletes.Select(c => c.RowsAffected));
        Assert.All(deletes, c => Assert.NotNull(c.Transaction));
        Assert.Equal(3, deletes.Select(c => c.Transaction).Distinct().Count());
        Assert.Equal(10, await db.IdempotencyKeys.CountAsync(Ct));
        Assert.Equal(10, await db.IdempotencyKeys.CountAsync(k => k.CreatedAt == now.AddHours(-23), Ct));
    }
}
