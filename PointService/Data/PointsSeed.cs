using Microsoft.EntityFrameworkCore;

namespace PointService.Data;

/// <summary>Deterministic starting data for users 1..100 and their totals, written once: restarts never duplicate it.</summary>
public static class PointsSeed
{
    public const int SeededUsers = 100;

    public static async Task SeedAsync(PointsDbContext db, CancellationToken ct)
    {
        if (await db.Points.AnyAsync(ct))
        {
            return;
        }

        var start = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        for (var userId = 1; userId <= SeededUsers; userId++)
        {
            var records = Records(userId, start.AddHours(userId)).ToList();
            db.Points.AddRange(records);
            db.UserTotals.Add(new UserTotal { UserId = userId, Total = records.Sum(r => (long)r.Points) });
        }
        await db.SaveChangesAsync(ct); // one transaction: the records and their users' totals
    }

    /// <summary>Every seeded user earns a signup bonus and a purchase; every third one has redeemed some.</summary>
    public static IEnumerable<PointRecord> Records(int userId, DateTime at)
    {
        yield return new PointRecord { UserId = userId, Points = 100, Reason = "signup bonus", CreatedAt = at };
        yield return new PointRecord { UserId = userId, Points = 10 + userId * 37 % 90, Reason = "purchase", CreatedAt = at.AddMinutes(30) };
        if (userId % 3 == 0)
        {
            yield return new PointRecord { UserId = userId, Points = -25, Reason = "redemption", CreatedAt = at.AddMinutes(60) };
        }
    }
}
