using System.Text.RegularExpressions;
using Lab19.ServiceDefaults;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using UserService.Contracts;
using UserService.Data;

namespace UserService;

public static partial class UsersApi
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;

    public static IEndpointRouteBuilder MapUsersApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/users").AnswerHeadAsGet();

        api.MapGet("/", GetUsers);
        api.MapGet("/{id}", GetUser).WithName(nameof(GetUser));
        api.MapPost("/", CreateUser);

        return app;
    }

    public static async Task<Results<Ok<UserResponse[]>, ValidationProblem>> GetUsers(UsersDbContext db, int? limit, CancellationToken ct)
    {
        if (Validation.Limit(limit, DefaultLimit, MaxLimit) is not { } take)
        {
            return Validation.Problem("limit", $"limit must be between 1 and {MaxLimit}.");
        }

        return TypedResults.Ok(await db.FirstUsersAsync(take, ct));
    }

    public static async Task<Results<Ok<UserWithPointsResponse>, ValidationProblem, ProblemHttpResult>> GetUser(
        UsersDbContext db, PointsClient points, int id, CancellationToken ct)
    {
        if (Validation.PositiveId("id", id) is { } idError)
        {
            return Validation.Problem("id", idError);
        }

        var user = await db.UserAsync(id, ct);
        if (user is null)
        {
            return Problems.NotFound("user", id);
        }

        try
        {
            var total = points.GetTotalAsync(id, ct);
            var recent = points.GetRecentAsync(id, ct);
            await Task.WhenAll(total, recent);
            return TypedResults.Ok(new UserWithPointsResponse(user.Id, user.Name, user.Email, user.CreatedAt, total.Result.Total, recent.Result));
        }
        catch (PointServiceUnavailableException)
        {
            // What failed, in the client's terms; PointsClient has logged why, under the answer's trace id.
            return TypedResults.Problem(title: "point-service unavailable",
                detail: "point-service, which holds the user's points, did not answer in time. Try again shortly.",
                statusCode: StatusCodes.Status503ServiceUnavailable);
        }
    }

    public static async Task<Results<CreatedAtRoute<UserResponse>, ValidationProblem, ProblemHttpResult>> CreateUser(
        UsersDbContext db, CreateUserRequest request, TimeProvider clock, CancellationToken ct)
    {
        // One spelling per address: lower case, and NFC, so that "á" sent composed or as "a" + U+0301 is one email (and one user).
        var email = Validation.Nfc(request.Email?.Trim().ToLowerInvariant());
        var errors = Validate(request.Name, email);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var user = new User { Name = request.Name!.Trim(), Email = email!, CreatedAt = clock.UtcNowInMicroseconds() };
        db.Users.Add(user);
        try
        {
            using var _ = HandledFailureLogging.HoldCommandErrors(); // a duplicate email is the 409 below, not an error to log
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException e) when (e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            return TypedResults.Problem(title: "Email already registered", detail: $"A user with email {email} already exists.", statusCode: StatusCodes.Status409Conflict);
        }
        return TypedResults.CreatedAtRoute(new UserResponse(user.Id, user.Name, user.Email, user.CreatedAt), nameof(GetUser), new { id = user.Id });
    }

    public static Dictionary<string, string[]> Validate(string? name, string? email)
    {
        var errors = new Dictionary<string, string[]>();
        if (Validation.Text("name", name, User.MaxNameLength, required: true) is { } nameError)
        {
            errors["name"] = [nameError];
        }
        if (Validation.Text("email", email, User.MaxEmailLength, required: true) is { } emailError)
        {
            errors["email"] = [emailError];
        }
        else if (Validation.FirstInvisibleCharacter(email!) is { } invisible)
        {
            // "user001@lab19.local" with a U+200B inside would look like, and be, another user's address.
            errors["email"] = [$"email must not contain invisible or formatting characters (it contains U+{invisible.Value:X4})."];
        }
        else if (!EmailPattern().IsMatch(email!))
        {
            errors["email"] = ["email must be an address like name@example.com."];
        }
        return errors;
    }

    // One '@', no spaces, a dot in the domain: strict enough for a lab, without pretending to implement RFC 5322.
    [GeneratedRegex(@"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")]
    private static partial Regex EmailPattern();
}
