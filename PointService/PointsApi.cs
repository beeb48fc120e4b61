using Lab19.ServiceDefaults;
using Microsoft.AspNetCore.Http.HttpResults;
using PointService.Contracts;
using PointService.Data;

namespace PointService;

public static class PointsApi
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;
    public const int MaxPoints = 1_000_000;

    public static IEndpointRouteBuilder MapPointsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/points").AnswerHeadAsGet();

        api.MapGet("/", GetPoints);
        api.MapGet("/{id}", GetPoint).WithName(nameof(GetPoint));
        api.MapGet("/user/{userId}", GetUserPoints);
        api.MapGet("/user/{userId}/total", GetUserTotal);
        api.MapPost("/", AddPoints);

        return app;
    }

    public static async Task<Results<Ok<PointResponse[]>, ValidationProblem>> GetPoints(PointsDbContext db, int? limit, CancellationToken ct)
    {
        if (Validation.Limit(limit, DefaultLimit, MaxLimit) is not { } take)
        {
            return Validation.Problem("limit", $"limit must be between 1 and {MaxLimit}.");
        }

        return TypedResults.Ok(await db.NewestAsync(take, ct));
    }

    public static async Task<Results<Ok<PointResponse>, ValidationProblem, ProblemHttpResult>> GetPoint(PointsDbContext db, long id, CancellationToken ct)
    {
        if (Validation.PositiveId("id", id) is { } idError)
        {
            return Validation.Problem("id", idError);
        }

        return await db.PointAsync(id, ct) is { } point ? TypedResults.Ok(point) : Problems.NotFound("point", id);
    }

    public static async Task<Results<Ok<PointResponse[]>, ValidationProblem>> GetUserPoints(PointsDbContext db, int userId, int? limit, CancellationToken ct)
    {
        var userIdError = Validation.PositiveId("userId", userId);
        if (Validation.Limit(limit, DefaultLimit, MaxLimit) is not { } take || userIdError is not null)
        {
            // Every invalid field at once; the dictionary only for an answer that needs it (this read is on every GET /api/v1/users/{id}).
            var errors = new Dictionary<string, string[]>();
            if (userIdError is not null) errors["userId"] = [userIdError];
            if (Validation.Limit(limit, DefaultLimit, MaxLimit) is null) errors["limit"] = [$"limit must be between 1 and {MaxLimit}."];
            return TypedResults.ValidationProblem(errors);
        }

        return TypedResults.Ok(await db.NewestOfUserAsync(userId, take, ct));
    }

    public static async Task<Results<Ok<UserTotalResponse>, ValidationProblem>> GetUserTotal(PointsDbContext db, int userId, CancellationToken ct)
    {
        if (Validation.PositiveId("userId", userId) is { } userIdError)
        {
            return Validation.Problem("userId", userIdError);
        }

        return TypedResults.Ok(new UserTotalResponse(userId, await db.TotalOfUserAsync(userId, ct)));
    }

    public static async Task<Results<CreatedAtRoute<PointResponse>, ValidationProblem, ProblemHttpResult>> AddPoints(
        PointsDbContext db, AddPointsRequest request, HttpContext http, TimeProvider clock, CancellationToken ct)
    {
        var errors = Validate(request);
        var key = http.Request.Headers[IdempotentWrites.Header];
        if (key.Count > 0 && IdempotentWrites.Validate(key) is { } keyError)
        {
            errors[IdempotentWrites.Header] = [keyError];
        }
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var createdAt = clock.UtcNowInMicroseconds();
        if (key.Count == 0)
        {
            return Created(await db.AddPointAsync(new(request.UserId, request.Points!.Value, request.Reason, createdAt), ct));
        }

        // The answers of a keyed POST (201, replayed 201, 422, 409) are IdempotentWrites' to give.
        return (await IdempotentWrites.AddOnceAsync(db, http.Response, key.ToString(), request, createdAt, ct)).Result switch
        {
            CreatedAtRoute<PointResponse> created => created,
            var problem => (ProblemHttpResult)problem,
        };
    }

    internal static CreatedAtRoute<PointResponse> Created(PointResponse point) => TypedResults.CreatedAtRoute(point, nameof(GetPoint), new { id = point.Id });

    public static Dictionary<string, string[]> Validate(AddPointsRequest request)
    {
        var errors = new Dictionary<string, string[]>();
        if (Validation.PositiveId("userId", request.UserId) is { } userIdError)
        {
            errors["userId"] = [userIdError];
        }
        if (request.Points is not { } points || points == 0)
        {
            errors["points"] = ["points is required and must not be zero."];
        }
        else if (points is < -MaxPoints or > MaxPoints)
        {
            errors["points"] = [$"points must be between -{MaxPoints:N0} and {MaxPoints:N0}."];
        }
        if (Validation.Text("reason", request.Reason, PointRecord.MaxReasonLength, required: false) is { } reasonError)
        {
            errors["reason"] = [reasonError];
        }
        return errors;
    }
}
