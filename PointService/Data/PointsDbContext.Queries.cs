using Microsoft.EntityFrameworkCore;
using PointService.Contracts;

namespace PointService.Data;

/// <summary>
/// The queries behind point-service's API, beside the model they read (as aspire-shop's CatalogDbContext keeps its own).
/// The three behind every <c>GET /api/v1/users/{id}</c> and keyed POST are compiled once: EF skips its per-call query-cache lookup (see bench/README.md).
/// </summary>
public partial class PointsDbContext
{
    /// <summary>The newest <paramref name="take"/> records of all users, newest first (ties: the higher id first).</summary>
    public Task<PointResponse[]> NewestAsync(int take, CancellationToken ct) =>
        Points.AsNoTracking()
            .OrderByDescending(p => p.CreatedAt).ThenByDescending(p => p.Id)
            .Take(take)
            .Select(p => new PointResponse(p.Id, p.UserId, p.Points, p.Reason, p.CreatedAt))
            .ToArrayAsync(ct);

    /// <summary>The record <paramref name="id"/>, or null.</summary>
    public async Task<PointResponse?> PointAsync(long id, CancellationToken ct) =>
        await Points.AsNoTracking().FirstOrDefaultAsync(p => p.Id == id, ct) is { } point ? PointResponse.From(point) : null;

    /// <summary>The newest <paramref name="take"/> records of <paramref name="userId"/>, newest first (ties: the higher id first).</summary>
    public Task<PointResponse[]> NewestOfUserAsync(int userId, int take, CancellationToken ct) =>
        NewestOfUser(this, userId, take).ToArrayAsync(ct).AsTask();

    /// <summary>The sum of <paramref name="userId"/>'s records (0 without any), kept in <see cref="UserTotal"/>: one primary-key read.</summary>
    public Task<long> TotalOfUserAsync(int userId, CancellationToken ct) => TotalOfUser(this, userId, ct);

    /// <summary>What the idempotency key whose hash is <paramref name="keyHash"/> stored: the request's fingerprint and its record; null for a key never used (or expired).</summary>
    public Task<KeyUse?> KeyUseAsync(byte[] keyHash, CancellationToken ct) => KeyUseOf(this, keyHash, ct);

    /// <summary>A stored use of an idempotency key: the fingerprint of the request that used it, and the record it created.</summary>
    public sealed record KeyUse(byte[] RequestHash, PointResponse Point);

    private static readonly Func<PointsDbContext, int, CancellationToken, Task<long>> TotalOfUser =
        EF.CompileAsyncQuery((PointsDbContext db, int userId, CancellationToken ct) => db.UserTotals.Where(t => t.UserId == userId).Select(t => t.Total).FirstOrDefault());

    private static readonly Func<PointsDbContext, int, int, IAsyncEnumerable<PointResponse>> NewestOfUser =
        EF.CompileAsyncQuery((PointsDbContext db, int userId, int take) => db.Points.AsNoTracking()
            .Where(p => p.UserId == userId)
            .OrderByDescending(p => p.CreatedAt).ThenByDescending(p => p.Id)
            .Take(take)
            .Select(p => new PointResponse(p.Id, p.UserId, p.Points, p.Reason, p.CreatedAt)));

    private static readonly Func<PointsDbContext, byte[], CancellationToken, Task<KeyUse?>> KeyUseOf =
        EF.CompileAsyncQuery((PointsDbContext db, byte[] keyHash, CancellationToken ct) => db.IdempotencyKeys.AsNoTracking()
            .Where(k => k.KeyHash == keyHash)
            .Join(db.Points, k => k.PointId, p => p.Id, (k, p) => new KeyUse(k.RequestHash, new PointResponse(p.Id, p.UserId, p.Points, p.Reason, p.CreatedAt)))
            .FirstOrDefault());
}
