// The floor for GET /api/v1/users/{id} in bench/run.sh: the same two calls the lab's services make (the user from PostgreSQL, then the
// user's total and newest 10 records from the point side over HTTP, which reads MySQL), with plain Npgsql, MySqlConnector and HttpClient:
// no EF Core, no resilience handler, no input rules beyond the route's int, no trace-context listener. The same SQL as the services send.
// One build, run twice: as the point side (ConnectionStrings:pointdb) and as the user side (ConnectionStrings:userdb and PointsUrl).
using System.Text.Json;
using System.Text.Json.Serialization;
using MySqlConnector;
using Npgsql;

var builder = WebApplication.CreateBuilder(args);
builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, PlainJson.Default));
var app = builder.Build();

if (app.Configuration.GetConnectionString("pointdb") is { } pointDb)
{
    var mysql = new MySqlDataSourceBuilder(pointDb).Build();
    app.MapGet("/api/v1/points/user/{userId:int}/total", async (int userId) =>
    {
        await using var connection = await mysql.OpenConnectionAsync();
        await using var command = new MySqlCommand("SELECT total FROM user_totals WHERE user_id = @userId LIMIT 1", connection);
        command.Parameters.AddWithValue("@userId", userId);
        return new UserTotal(userId, await command.ExecuteScalarAsync() is long total ? total : 0);
    });
    app.MapGet("/api/v1/points/user/{userId:int}", async (int userId, int? limit) =>
    {
        await using var connection = await mysql.OpenConnectionAsync();
        await using var command = new MySqlCommand(
            "SELECT id, user_id, points, reason, created_at FROM points WHERE user_id = @userId ORDER BY created_at DESC, id DESC LIMIT @limit", connection);
        command.Parameters.AddWithValue("@userId", userId);
        command.Parameters.AddWithValue("@limit", limit ?? 100);
        await using var reader = await command.ExecuteReaderAsync();
        var points = new List<Point>();
        while (await reader.ReadAsync())
        {
            points.Add(new Point(reader.GetInt64(0), reader.GetInt32(1), reader.GetInt32(2), reader.IsDBNull(3) ? null : reader.GetString(3),
                DateTime.SpecifyKind(reader.GetDateTime(4), DateTimeKind.Utc)));
        }
        return points.ToArray();
    });
}

if (app.Configuration.GetConnectionString("userdb") is { } userDb)
{
    var postgres = NpgsqlDataSource.Create(userDb);
    var http = new HttpClient { BaseAddress = new(app.Configuration["PointsUrl"] ?? throw new InvalidOperationException("PointsUrl is missing.")) };
    app.MapGet("/api/v1/users/{id:int}", async Task<IResult> (int id) =>
    {
        User? user = null;
        await using (var command = postgres.CreateCommand("SELECT u.id, u.name, u.email, u.created_at FROM users AS u WHERE u.id = $1 LIMIT 1"))
        {
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = id });
            await using var reader = await command.ExecuteReaderAsync();
            if (await reader.ReadAsync())
            {
                user = new User(reader.GetInt32(0), reader.GetString(1), reader.GetString(2), reader.GetDateTime(3));
            }
        }
        if (user is null)
        {
            return Results.NotFound();
        }
        var total = http.GetFromJsonAsync($"/api/v1/points/user/{id}/total", PlainJson.Default.UserTotal);
        var recent = http.GetFromJsonAsync($"/api/v1/points/user/{id}?limit=10", PlainJson.Default.PointArray);
        await Task.WhenAll(total, recent);
        return Results.Ok(new UserWithPoints(user.Id, user.Name, user.Email, user.CreatedAt, total.Result!.Total, recent.Result!));
    });
}

app.Run();

internal sealed record User(int Id, string Name, string Email, DateTime CreatedAt);
internal sealed record Point(long Id, int UserId, int Points, string? Reason, DateTime CreatedAt);
internal sealed record UserTotal(int UserId, long Total);
internal sealed record UserWithPoints(int Id, string Name, string Email, DateTime CreatedAt, long TotalPoints, Point[] RecentPoints);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(UserWithPoints))]
[JsonSerializable(typeof(UserTotal))]
[JsonSerializable(typeof(Point[]))]
internal sealed partial class PlainJson : JsonSerializerContext;
