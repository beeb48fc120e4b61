namespace UserService.Contracts;

/// <summary>A user as the API returns it (entities stay out of responses).</summary>
public record UserResponse(int Id, string Name, string Email, DateTime CreatedAt);

/// <summary>A user with their total and at most <see cref="PointsClient.RecentLimit"/> newest records, both from point-service.</summary>
public record UserWithPointsResponse(int Id, string Name, string Email, DateTime CreatedAt, long TotalPoints, PointResponse[] RecentPoints);

/// <summary>The body of <c>POST /api/v1/users</c>; both fields are validated by the handler, so both may arrive null.</summary>
public record CreateUserRequest(string? Name, string? Email);
