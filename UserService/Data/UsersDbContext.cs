using Microsoft.EntityFrameworkCore;

namespace UserService.Data;

public partial class UsersDbContext(DbContextOptions<UsersDbContext> options) : DbContext(options)
{
    public DbSet<User> Users => Set<User>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        var user = modelBuilder.Entity<User>();
        user.ToTable("users");
        user.Property(u => u.Id).HasColumnName("id");
        user.Property(u => u.Name).HasColumnName("name").HasMaxLength(User.MaxNameLength);
        user.Property(u => u.Email).HasColumnName("email").HasMaxLength(User.MaxEmailLength);
        user.Property(u => u.CreatedAt).HasColumnName("created_at");
        // The database, not a read-then-write check, keeps emails unique under concurrent sign-ups.
        user.HasIndex(u => u.Email).IsUnique();
    }
}
