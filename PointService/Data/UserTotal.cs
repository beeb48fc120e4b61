namespace PointService.Data;

/// <summary>
/// A user's total: the sum of their records, kept in its own row so that reading it costs the same at 10 records or a million.
/// Changed only in the transaction that stores a record (<see cref="PointsDbContext"/>'s writes), so it always equals <c>SUM(points)</c>.
/// </summary>
public class UserTotal
{
    public int UserId { get; set; }
    public long Total { get; set; }
}
