using Microsoft.EntityFrameworkCore;

namespace PointService.Data;

public class PointsDbContext(DbContextOptions<PointsDbContext> options) : DbContext(options)
{
    public DbSet<PointRecord> Points => Set<PointRecord>();

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
    }
}
