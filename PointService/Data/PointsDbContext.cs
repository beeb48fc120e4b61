using Microsoft.EntityFrameworkCore;

namespace PointService.Data;

public partial class PointsDbContext(DbContextOptions<PointsDbContext> options) : DbContext(options)
{
    public DbSet<PointRecord> Points => Set<PointRecord>();
    public DbSet<IdempotencyKey> IdempotencyKeys => Set<IdempotencyKey>();
    public DbSet<UserTotal> UserTotals => Set<UserTotal>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        var point = modelBuilder.Entity<PointRecord>();
        point.ToTable("points");
        point.Property(p => p.Id).HasColumnName("id");
        point.Property(p => p.UserId).HasColumnName("user_id");
        point.Property(p => p.Points).HasColumnName("points");
        point.Property(p => p.Reason).HasColumnName("reason").HasMaxLength(PointRecord.MaxReasonLength);
        // MySQL's DATETIME has no time zone: values are written in UTC and read back marked as UTC.
        point.Property(p => p.CreatedAt).HasColumnName("created_at").HasPrecision(6)
            .HasConversion(v => v.ToUniversalTime(), v => DateTime.SpecifyKind(v, DateTimeKind.Utc));
        // "A user's records, newest first" reads this index in order (InnoDB appends the id), without sorting.
        point.HasIndex(p => new { p.UserId, p.CreatedAt });
        // Covers the per-user total: SUM(points) reads this index alone, however many records a user has.
        point.HasIndex(p => new { p.UserId, p.Points });
        // "All records, newest first" (GET /api/v1/points) reads this index backwards and stops at the limit, without sorting the table.
        point.HasIndex(p => new { p.CreatedAt, p.Id });

        var key = modelBuilder.Entity<IdempotencyKey>();
        key.ToTable("idempotency_keys");
        // The primary key is the unique index that lets only one request per key store a record, across restarts and instances.
        // It holds the key's SHA-256, not the key: 32 bytes in the table and in its secondary index instead of up to 255 (bench/README.md).
        key.HasKey(k => k.KeyHash);
        key.Property(k => k.KeyHash).HasColumnName("key_hash").HasMaxLength(32).IsFixedLength();
        key.Property(k => k.RequestHash).HasColumnName("request_hash").HasMaxLength(32).IsFixedLength();
        key.Property(k => k.PointId).HasColumnName("point_id");
        key.Property(k => k.CreatedAt).HasColumnName("created_at").HasPrecision(6)
            .HasConversion(v => v.ToUniversalTime(), v => DateTime.SpecifyKind(v, DateTimeKind.Utc));
        // The clean-up deletes the oldest keys in small batches along this index.
        key.HasIndex(k => k.CreatedAt);

        var total = modelBuilder.Entity<UserTotal>();
        total.ToTable("user_totals");
        // One row per user that has records, read by its primary key; written only by the batches in PointsDbContext.Writes.cs.
        total.HasKey(t => t.UserId);
        total.Property(t => t.UserId).HasColumnName("user_id").ValueGeneratedNever();
        total.Property(t => t.Total).HasColumnName("total");
    }
}
