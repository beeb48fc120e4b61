namespace UserService.Contracts;

/// <summary>A point record as point-service returns it (the same JSON as PointService's <c>PointResponse</c>).</summary>
public record PointResponse(long Id, int UserId, int Points, string? Reason, DateTime CreatedAt);

/// <summary>A user's total as point-service returns it.</summary>
public record UserTotalResponse(int UserId, long Total);
