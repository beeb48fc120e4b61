using Lab19.Tests.Infrastructure;
using MySqlConnector;
using Npgsql;

namespace Lab19.Tests;

/// <summary>
/// A database that answers but too slowly: another session holds a lock the services' statements wait for until their command
/// timeout. Both services give the same bounded answer, a 503 with Retry-After, to every one of many concurrent requests.
/// </summary>
[Collection(LabCollection.Name)]
public class SlowDatabaseTests(LabFixture fixture)
{
    private const int Concurrent = 60;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("points", "user_totals", "/api/v1/points/user/1/total")]
    [InlineData("points", "points", "/api/v1/points?limit=5")]
    [InlineData("users", "users", "/api/v1/users?limit=5")]
    [InlineData("users", "users", "/api/v1/users/1")]
    public async Task With_its_table_locked_every_concurrent_request_is_a_503_with_retry_after_and_none_a_500(string service, string table, string path)
    {
        var client = service == "users" ? fixture.Lab.Users : fixture.Lab.Points;
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(path, Ct)).StatusCode);

        List<(HttpStatusCode Status, string Body, string? RetryAfter)> answers;
        await using (await HoldTableLockAsync(service, table))
        {
            answers = [.. await Task.WhenAll(Enumerable.Range(0, Concurrent).Select(async _ =>
            {
                using var response = await client.GetAsync(path, Ct);
                return (response.StatusCode, await response.Content.ReadAsStringAsync(Ct), response.Headers.RetryAfter?.ToString());
            }))];
        }

        var counts = string.Join(", ", answers.GroupBy(a => (int)a.Status).Select(g => $"{g.Count()} × {g.Key}"));
        if (answers.FirstOrDefault(a => a.Status != HttpStatusCode.ServiceUnavailable) is { Body: { } other })
        {
            Assert.Fail($"{service} {path} answered {counts}, e.g. {other}");
        }
        Assert.All(answers, a => Assert.Equal(ProblemAnswersRetryAfter, a.RetryAfter));
        foreach (var body in answers.Select(a => a.Body).Distinct())
        {
            Http.AssertNoInternals(body);
        }
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(path, Ct)).StatusCode);
    }

    [Fact]
    public async Task A_keyed_post_whose_key_an_uncommitted_insert_holds_is_409_for_every_concurrent_request_and_201_once_it_is_gone()
    {
        var userId = Random.Shared.Next(1_000_000, int.MaxValue);
        var key = $"held-{Guid.NewGuid()}";
        var before = await DataSnapshot.TakeAsync(fixture);

        List<(HttpStatusCode Status, string Body)> answers;
        await using (var holder = new MySqlConnection(fixture.Databases.MariaDb.ConnectionString(LabFixture.PointDb) + ";Pooling=false"))
        {
            await holder.OpenAsync(Ct);
            await using var transaction = await holder.BeginTransactionAsync(Ct);
            await using (var insert = new MySqlCommand($"""
                INSERT INTO points (user_id, points, reason, created_at) VALUES ({userId}, 1, 'holder', UTC_TIMESTAMP(6));
                INSERT INTO idempotency_keys (key_hash, request_hash, point_id, created_at) VALUES (UNHEX(SHA2('{key}', 256)), UNHEX(SHA2('x', 256)), LAST_INSERT_ID(), UTC_TIMESTAMP(6));
                """, holder, transaction))
            {
                await insert.ExecuteNonQueryAsync(Ct);
            }

            answers = [.. await Task.WhenAll(Enumerable.Range(0, 20).Select(async _ =>
            {
                using var response = await fixture.Lab.Points.SendAsync(Http.AddPoints(new { userId, points = 5 }, key), Ct);
                return (response.StatusCode, await response.Content.ReadAsStringAsync(Ct));
            }))];
            await transaction.RollbackAsync(Ct);
        }

        var counts = string.Join(", ", answers.GroupBy(a => (int)a.Status).Select(g => $"{g.Count()} × {g.Key}"));
        if (answers.FirstOrDefault(a => a.Status != HttpStatusCode.Conflict) is { Body: { } other })
        {
            Assert.Fail($"answered {counts}, e.g. {other}");
        }
        Assert.Equal(before, await DataSnapshot.TakeAsync(fixture));
        var created = await (await fixture.Lab.Points.SendAsync(Http.AddPoints(new { userId, points = 5 }, key), Ct)).ReadAsync<PointDto>();
        Assert.Equal((userId, 5), (created.UserId, created.Points));
    }

    private static readonly string ProblemAnswersRetryAfter = Lab19.ServiceDefaults.ProblemAnswers.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Another session's lock on the table the request reads: <c>LOCK TABLES points WRITE</c> (or user_totals), or <c>LOCK TABLE users IN ACCESS EXCLUSIVE MODE</c> in an open transaction.</summary>
    private async Task<IAsyncDisposable> HoldTableLockAsync(string service, string table)
    {
        if (service == "points")
        {
            var mysql = new MySqlConnection(fixture.Databases.MariaDb.ConnectionString(LabFixture.PointDb) + ";Pooling=false");
            await mysql.OpenAsync(Ct);
            await new MySqlCommand($"LOCK TABLES {table} WRITE", mysql).ExecuteNonQueryAsync(Ct);
            return mysql; // closing the connection (not pooled) releases the lock
        }
        var pg = new NpgsqlConnection(fixture.Databases.Postgres.ConnectionString(LabFixture.UserDb) + ";Pooling=false");
        await pg.OpenAsync(Ct);
        await new NpgsqlCommand($"BEGIN; LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE", pg).ExecuteNonQueryAsync(Ct);
        return pg; // closing the connection ends the transaction and its lock
    }
}
