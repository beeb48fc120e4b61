using PointService.Data;

namespace PointService.Contracts;

/// <summary>A point record as the API returns it (entities stay out of responses).</summary>
public record PointResponse(long Id, int UserId, int Points, string? Reason, DateTime CreatedAt)
{
    public static PointResponse From(PointRecord p) => new(p.Id, p.UserId, p.Points, p.Reason, p.CreatedAt);
}

/// <summary>The sum of a user's records (0 for a user without any).</summary>
public record UserTotalResponse(int UserId, long Total);

/// <summary>The body of <c>POST /api/v1/points</c>; <c>Points</c> is nullable so that a missing value is reported, not read as 0.</summary>
public record AddPointsRequest(int UserId, int? Points, string? Reason);
