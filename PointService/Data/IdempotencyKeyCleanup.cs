using System.Data;
using Lab19.ServiceDefaults;
using Microsoft.EntityFrameworkCore;

namespace PointService.Data;

/// <summary>
/// Deletes idempotency keys older than <see cref="IdempotencyKey.Retention"/>: once the database is ready, then every
/// <see cref="Interval"/>. Each batch of <see cref="BatchSize"/> is its own short READ COMMITTED transaction, which locks
/// only the expired rows it deletes (no gap locks), so inserts of new keys never wait for it.
/// </summary>
public sealed class IdempotencyKeyCleanup(IServiceProvider services, DatabaseReadiness readiness, TimeProvider clock, ILogger<IdempotencyKeyCleanup> logger)
    : BackgroundService
{
    public const int BatchSize = 1000;
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!readiness.IsReady)
        {
            await Task.Delay(TimeSpan.FromSeconds(1), clock, stoppingToken);
        }
        using var timer = new PeriodicTimer(Interval, clock);
        do
        {
            try
            {
                var deleted = await DeleteExpiredAsync(stoppingToken);
                if (deleted > 0)
                {
                    logger.LogInformation("Deleted {Count} idempotency keys older than {Hours} h", deleted, IdempotencyKey.Retention.TotalHours);
                }
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning("Idempotency key clean-up failed, next try in {Interval}: {Reason}", Interval, e.GetBaseException().Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private async Task<int> DeleteExpiredAsync(CancellationToken ct)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PointsDbContext>();
        return await DeleteExpiredAsync(db, clock.GetUtcNow().UtcDateTime - IdempotencyKey.Retention, ct);
    }

    /// <summary>Deletes the keys created before <paramref name="cutoff"/>, oldest first, <see cref="BatchSize"/> per transaction; returns how many.</summary>
    internal static async Task<int> DeleteExpiredAsync(PointsDbContext db, DateTime cutoff, CancellationToken ct)
    {
        var strategy = db.Database.CreateExecutionStrategy();
        int total = 0, deleted;
        do
        {
            deleted = await strategy.ExecuteAsync(async ct =>
            {
                await using var transaction = await db.Database.BeginTransactionAsync(IsolationLevel.ReadCommitted, ct);
                var count = await db.Database.ExecuteSqlAsync(
                    $"DELETE FROM idempotency_keys WHERE created_at < {cutoff} ORDER BY created_at LIMIT {BatchSize}", ct);
                await transaction.CommitAsync(ct);
                return count;
            }, ct);
            total += deleted;
        }
        while (deleted == BatchSize);
        return total;
    }
}
