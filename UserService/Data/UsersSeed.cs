using Microsoft.EntityFrameworkCore;

namespace UserService.Data;

/// <summary>Deterministic starting data: users 1..100 (user001 … user100), written once; restarts never duplicate it.</summary>
public static class UsersSeed
{
    public const int SeededUsers = 100;

    public static async Task SeedAsync(UsersDbContext db, CancellationToken ct)
    {
        if (await db.Users.AnyAsync(ct))
        {
            return;
        }

        var start = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        for (var i = 1; i <= SeededUsers; i++)
        {
            // Explicit ids, so that user N of this seed is the user N whose points PointService seeds.
            db.Users.Add(new User { Id = i, Name = $"user{i:000}", Email = $"user{i:000}@lab19.local", CreatedAt = start.AddHours(i) });
        }
        await db.SaveChangesAsync(ct);
        // Explicit ids leave the identity sequence behind; move it past the seed so new users get 101, 102, ...
        await db.Database.ExecuteSqlRawAsync("SELECT setval(pg_get_serial_sequence('users', 'id'), (SELECT MAX(id) FROM users))", ct);
    }
}
