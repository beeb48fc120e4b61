using System.Data.Common;
using System.Text.Json;
using Lab19.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using MySqlConnector;
using Npgsql;
using PointService;
using PointService.Contracts;
using PointService.Data;
using UserService;
using UserService.Contracts;

namespace Lab19.Tests;

/// <summary>
/// Every query the services make reads an index whose cost does not grow with the table: each handler and the key clean-up run on the
/// services' own code, an interceptor records the SQL they send, and EXPLAIN shows its plan in the real database. No full scan of a
/// growing table, no sort of one (MySQL's filesort, PostgreSQL's Sort node).
/// </summary>
/// <remarks>
/// A planner may rightly scan a small table instead of using an index. So the points tables hold about 120,000 rows here, where
/// MariaDB takes an index whenever one serves (with a few thousand it scans and sorts even with the right index in place); and
/// PostgreSQL's planner is told <c>enable_seqscan = off</c>, so that a Seq Scan or a Sort in its plan means no index could serve.
/// The list of all points is checked at its default page (100) and at one record; at the largest page (1,000) MariaDB still prefers to
/// scan and sort a table of this size, and switches to the index as the table grows (the cost of the scan grows, the page's does not).
/// </remarks>
public class QueryPlanTests(SharedDatabases databases)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A full index scan is fine only when the LIMIT stops it: its row estimate is then the limit, never above the API's largest.</summary>
    private const int MaxRowsOfABoundedScan = PointsApi.MaxLimit;

    [Fact]
    public async Task Every_point_service_query_uses_an_index_without_a_full_scan_or_a_sort()
    {
        var recorder = new SqlRecorder();
        await using var db = await InProcessDatabases.PointsAsync(databases, "pointdb_plans", recorder);
        await FillPointsAsync(db);
        var now = DateTime.UtcNow;
        var key = $"plan-{Guid.NewGuid()}";
        var queries = new Dictionary<string, IReadOnlyList<RecordedCommand>>
        {
            ["GET /api/v1/points"] = await RecordAsync(recorder, () => PointsApi.GetPoints(db, null, Ct)),
            ["GET /api/v1/points?limit=1"] = await RecordAsync(recorder, () => PointsApi.GetPoints(db, 1, Ct)),
            ["GET /api/v1/points/{id}"] = await RecordAsync(recorder, () => PointsApi.GetPoint(db, 1, Ct)),
            ["GET /api/v1/points/user/{userId}?limit=10"] = await RecordAsync(recorder, () => PointsApi.GetUserPoints(db, 1, 10, Ct)),
            ["GET /api/v1/points/user/{userId}/total"] = await RecordAsync(recorder, () => PointsApi.GetUserTotal(db, 1, Ct)),
            // The writes are one hand-written command each, sent past EF Core's interceptors: the command the service builds is added.
            ["POST /api/v1/points"] = [
                .. await RecordAsync(recorder, () => PointsApi.AddPoints(db, new AddPointsRequest(1, 5, "plan"), new DefaultHttpContext(), TimeProvider.System, Ct)),
                Sent(PointsDbContext.AddPointCommand(new(1, 5, "plan", now)))],
            ["POST /api/v1/points with a new key"] = [
                .. await RecordAsync(recorder, () => PointsApi.AddPoints(db, new AddPointsRequest(1, 5, "plan"), Keyed(key), TimeProvider.System, Ct)),
                Sent(PointsDbContext.AddPointOnceCommand(new(1, 5, "plan", now), IdempotencyKey.Hash($"plan-{Guid.NewGuid()}"), IdempotentWrites.Fingerprint(new(1, 5, "plan"))))],
            ["POST /api/v1/points with a used key"] = [
                .. await RecordAsync(recorder, () => PointsApi.AddPoints(db, new AddPointsRequest(1, 5, "plan"), Keyed(key), TimeProvider.System, Ct)),
                Sent(PointsDbContext.AddPointOnceCommand(new(1, 5, "plan", now), IdempotencyKey.Hash(key), IdempotentWrites.Fingerprint(new(1, 5, "plan"))))],
            ["the idempotency key clean-up"] = await RecordAsync(recorder, () => IdempotencyKeyCleanup.DeleteExpiredAsync(db, now.AddDays(-30), Ct)),
        };

        var checkedStatements = 0;
        await using var connection = new MySqlConnection(databases.MariaDb.ConnectionString("pointdb_plans"));
        await connection.OpenAsync(Ct);
        foreach (var (name, commands) in queries)
        {
            Assert.NotEmpty(commands);
            foreach (var (sql, command) in Statements(commands).Where(s => s.Sql.StartsWith("SELECT", StringComparison.Ordinal) || s.Sql.StartsWith("DELETE", StringComparison.Ordinal)))
            {
                await using var explain = new MySqlCommand("EXPLAIN " + sql, connection);
                explain.Parameters.AddRange(command.Parameters.Select(p => (MySqlParameter)((ICloneable)p).Clone()).ToArray());
                await using var plan = await explain.ExecuteReaderAsync(Ct);
                while (await plan.ReadAsync(Ct))
                {
                    if (plan["table"] is DBNull) continue; // no table read at all ("Impossible WHERE", "No tables used")
                    var (type, index, rows, extra) = ($"{plan["type"]}", plan["key"] as string, Convert.ToInt64(plan["rows"] is DBNull ? 0 : plan["rows"]), $"{plan["Extra"]}");
                    var where = $"{name}: {sql}\n  plan: type={type} key={index} rows={rows} extra={extra}";
                    Assert.True(type != "ALL", $"full table scan in {where}");
                    Assert.True(index is not null, $"no index used in {where}");
                    Assert.DoesNotContain("filesort", extra);
                    Assert.DoesNotContain("temporary", extra);
                    Assert.True(type != "index" || rows <= MaxRowsOfABoundedScan, $"full index scan in {where}");
                    checkedStatements++;
                }
            }
        }
        Assert.True(checkedStatements >= queries.Count, $"only {checkedStatements} statements checked");
    }

    [Fact]
    public async Task Every_user_service_query_uses_an_index_without_a_seq_scan_or_a_sort()
    {
        var recorder = new SqlRecorder();
        await using var db = await InProcessDatabases.UsersAsync(databases, "userdb_plans", recorder);
        await FillUsersAsync(db);
        var points = new PointsClient(new HttpClient(new EmptyPointService()) { BaseAddress = new("http://point-service") }, NullLogger<PointsClient>.Instance);
        var queries = new Dictionary<string, IReadOnlyList<RecordedCommand>>
        {
            ["GET /api/v1/users"] = await RecordAsync(recorder, () => UsersApi.GetUsers(db, null, Ct)),
            ["GET /api/v1/users?limit=1000"] = await RecordAsync(recorder, () => UsersApi.GetUsers(db, UsersApi.MaxLimit, Ct)),
            ["GET /api/v1/users/{id}"] = await RecordAsync(recorder, () => UsersApi.GetUser(db, points, 1, Ct)),
            ["POST /api/v1/users"] = await RecordAsync(recorder, () => UsersApi.CreateUser(db, new CreateUserRequest("Plan", $"{Guid.NewGuid():N}@tests.lab19.local"), TimeProvider.System, Ct)),
        };

        await using var connection = new NpgsqlConnection(databases.Postgres.ConnectionString("userdb_plans"));
        await connection.OpenAsync(Ct);
        await new NpgsqlCommand("SET enable_seqscan = off", connection).ExecuteNonQueryAsync(Ct);
        foreach (var (name, commands) in queries)
        {
            Assert.NotEmpty(commands);
            foreach (var (sql, command) in Statements(commands))
            {
                await using var explain = new NpgsqlCommand("EXPLAIN (FORMAT JSON) " + sql, connection);
                explain.Parameters.AddRange(command.Parameters.Select(p => (NpgsqlParameter)((ICloneable)p).Clone()).ToArray());
                var plan = JsonDocument.Parse((string)(await explain.ExecuteScalarAsync(Ct))!).RootElement[0].GetProperty("Plan");
                var nodes = Nodes(plan).Select(n => n.GetProperty("Node Type").GetString()).ToList();
                var where = $"{name}: {sql}\n  plan: {string.Join(" > ", nodes)}";
                Assert.True(!nodes.Contains("Seq Scan"), $"sequential scan in {where}");
                Assert.True(!nodes.Any(n => n!.EndsWith("Sort", StringComparison.Ordinal)), $"sort in {where}");
            }
        }
    }

    /// <summary>Runs <paramref name="act"/> and returns the commands it sent.</summary>
    private static async Task<IReadOnlyList<RecordedCommand>> RecordAsync(SqlRecorder recorder, Func<Task> act)
    {
        recorder.Clear();
        await act();
        return recorder.Commands;
    }

    /// <summary>A command as it would be sent, for the statements of a hand-written command.</summary>
    private static RecordedCommand Sent(MySqlCommand command) => new(command.CommandText, [.. command.Parameters.Cast<DbParameter>()], null, null);

    private static HttpContext Keyed(string key)
    {
        var http = new DefaultHttpContext();
        http.Request.Headers[IdempotentWrites.Header] = key;
        return http;
    }

    /// <summary>The statements of the commands, one by one (EF batches several into one command, each ending with ';' and a new line).</summary>
    private static IEnumerable<(string Sql, RecordedCommand Command)> Statements(IEnumerable<RecordedCommand> commands) =>
        commands.SelectMany(c => c.Sql.Split(";\n").Select(s => s.Trim().TrimEnd(';').Trim()).Where(s => s.Length > 0).Select(s => (s, c)));

    private static IEnumerable<JsonElement> Nodes(JsonElement plan) =>
        plan.TryGetProperty("Plans", out var children) ? children.EnumerateArray().SelectMany(Nodes).Prepend(plan) : [plan];

    /// <summary>The seed, doubled nine times (about 120,000 records of 100 users), and one idempotency key per record.</summary>
    private static async Task FillPointsAsync(PointsDbContext db)
    {
        await PointsSeed.SeedAsync(db, Ct);
        db.Database.SetCommandTimeout(TimeSpan.FromMinutes(2)); // the service's 2 s are for requests, not for filling a table
        for (var i = 0; i < 9; i++)
        {
            await db.Database.ExecuteSqlRawAsync(
                "INSERT INTO points (user_id, points, reason, created_at) SELECT user_id, points, reason, created_at - INTERVAL 1 DAY FROM points", Ct);
        }
        await db.Database.ExecuteSqlRawAsync(
            "INSERT INTO idempotency_keys (key_hash, request_hash, point_id, created_at) SELECT UNHEX(SHA2(CONCAT('bulk-', id), 256)), UNHEX(SHA2('x', 256)), id, created_at FROM points", Ct);
        await db.Database.ExecuteSqlRawAsync("ANALYZE TABLE points, idempotency_keys", Ct);
        db.Database.SetCommandTimeout(null);
    }

    /// <summary>The seed and 50,000 more users.</summary>
    private static async Task FillUsersAsync(UserService.Data.UsersDbContext db)
    {
        await UserService.Data.UsersSeed.SeedAsync(db, Ct);
        db.Database.SetCommandTimeout(TimeSpan.FromMinutes(2));
        await db.Database.ExecuteSqlRawAsync(
            "INSERT INTO users (name, email, created_at) SELECT 'bulk ' || n, 'bulk' || n || '@tests.lab19.local', now() FROM generate_series(1, 50000) AS n", Ct);
        await db.Database.ExecuteSqlRawAsync("ANALYZE users", Ct);
        db.Database.SetCommandTimeout(null);
    }

    /// <summary>point-service as GET /api/v1/users/{id} needs it: no records, a total of 0.</summary>
    private sealed class EmptyPointService : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct) =>
            Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK)
            {
                Content = new StringContent(request.RequestUri!.AbsolutePath.EndsWith("/total", StringComparison.Ordinal) ? """{"userId":1,"total":0}""" : "[]",
                    System.Text.Encoding.UTF8, "application/json"),
            });
    }
}
