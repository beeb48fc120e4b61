using Lab19.Tests.Infrastructure;
using MySqlConnector;

namespace Lab19.Tests;

/// <summary>
/// Each user's total is kept in its own row (user_totals), changed in the same transaction as the record that changes it.
/// Whatever the writes do (concurrent, replayed, invalid, rolled back, restarted), every stored total equals SUM(points) of its
/// user's records, read straight from MySQL.
/// </summary>
[Collection(LabCollection.Name)]
public class UserTotalsTests(LabFixture fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private HttpClient Points => fixture.Lab.Points;

    private static int FreshUserId() => Random.Shared.Next(1_000_000, int.MaxValue);

    private async Task AssertEveryTotalIsTheSumOfItsRecordsAsync()
    {
        var mismatches = await DataSnapshot.TotalsNotMatchingRecordsAsync(fixture.Databases);
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} totals differ from their records: {string.Join("; ", mismatches.Take(10))}");
    }

    private Task<long> StoredTotalOf(int userId) =>
        DataSnapshot.ScalarAsync(fixture, LabDatabase.Points, $"SELECT COALESCE((SELECT total FROM user_totals WHERE user_id = {userId}), -1)");

    private async Task<long> ApiTotalOf(int userId) =>
        (await (await Points.GetAsync($"/api/v1/points/user/{userId}/total", Ct)).ReadAsync<UserTotalDto>()).Total;

    /// <summary>
    /// One client's mixed writes for <paramref name="userId"/>: plain POSTs, keyed POSTs each sent twice (the second a replay), a key reused
    /// for a different amount (422), and invalid requests (400). Returns the points of the records the answers say were stored.
    /// </summary>
    private async Task<List<(long Id, int Points)>> MixedWritesAsync(int userId, int rounds, string run)
    {
        var stored = new List<(long, int)>();
        for (var i = 0; i < rounds; i++)
        {
            var points = (i % 4 == 3 ? -1 : 1) * Random.Shared.Next(1, 1000);
            switch (i % 5)
            {
                case 0 or 1:
                    stored.Add(Id(await (await Points.PostAsync("/api/v1/points", Http.Json(new { userId, points, reason = "mixed" }), Ct)).ReadAsync<PointDto>()));
                    break;
                case 2 or 3:
                    var key = $"totals-{run}-{userId}-{i}";
                    var first = await (await Points.SendAsync(Http.AddPoints(new { userId, points }, key), Ct)).ReadAsync<PointDto>();
                    var replay = await (await Points.SendAsync(Http.AddPoints(new { userId, points }, key), Ct)).ReadAsync<PointDto>();
                    Assert.Equal(first, replay);
                    var reused = await Points.SendAsync(Http.AddPoints(new { userId, points = points + Math.Sign(points) }, key), Ct); // never 0
                    Assert.Equal(HttpStatusCode.UnprocessableEntity, reused.StatusCode);
                    stored.Add(Id(first));
                    break;
                default:
                    var invalid = await Points.PostAsync("/api/v1/points", Http.Json(new { userId, points = 2_000_000 }), Ct);
                    Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
                    var badKey = await Points.SendAsync(Http.AddPoints(new { userId, points }, "two words"), Ct);
                    Assert.Equal(HttpStatusCode.BadRequest, badKey.StatusCode);
                    break;
            }
        }
        return stored;

        static (long, int) Id(PointDto p) => (p.Id, p.Points);
    }

    [Fact]
    public async Task After_concurrent_mixed_writes_for_many_users_and_for_one_every_total_equals_the_sum_of_its_records()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var many = Enumerable.Range(0, 30).Select(_ => FreshUserId()).ToArray();
        var one = FreshUserId();
        // 30 users with two clients each, and 24 clients on one user, all at once.
        var clients = many.SelectMany(u => new[] { (User: u, Client: 0), (User: u, Client: 1) })
            .Concat(Enumerable.Range(0, 24).Select(c => (User: one, Client: c)))
            .Select(async c => (c.User, Stored: await MixedWritesAsync(c.User, 10, $"{run}-{c.Client}")))
            .ToList();
        var results = await Task.WhenAll(clients);

        foreach (var user in results.GroupBy(r => r.User))
        {
            var stored = user.SelectMany(r => r.Stored).ToList();
            Assert.Equal(stored.Count, stored.Select(s => s.Id).Distinct().Count());
            var expected = stored.Sum(s => (long)s.Points);
            Assert.Equal(expected, await DataSnapshot.ScalarAsync(fixture, LabDatabase.Points, $"SELECT COALESCE(SUM(points), 0) FROM points WHERE user_id = {user.Key}"));
            Assert.Equal(expected, await StoredTotalOf(user.Key));
            Assert.Equal(expected, await ApiTotalOf(user.Key));
        }
        await AssertEveryTotalIsTheSumOfItsRecordsAsync();
    }

    [Fact]
    public async Task Two_hundred_concurrent_posts_for_one_user_lose_no_update_to_the_total()
    {
        var userId = FreshUserId();
        var answers = await Task.WhenAll(Enumerable.Range(1, 200).Select(async i =>
        {
            using var request = i % 2 == 0
                ? Http.AddPoints(new { userId, points = i }, $"one-user-{userId}-{i}")
                : Http.AddPoints(new { userId, points = -i });
            return await (await Points.SendAsync(request, Ct)).ReadAsync<PointDto>();
        }));

        var expected = answers.Sum(a => (long)a.Points);
        Assert.Equal(Enumerable.Range(1, 200).Sum(i => i % 2 == 0 ? i : -i), expected);
        Assert.Equal(expected, await StoredTotalOf(userId));
        Assert.Equal(expected, await ApiTotalOf(userId));
        await AssertEveryTotalIsTheSumOfItsRecordsAsync();
    }

    [Fact]
    public async Task After_a_restart_of_point_service_the_totals_still_equal_the_records_and_new_writes_add_to_them()
    {
        var userId = FreshUserId();
        var before = (await MixedWritesAsync(userId, 10, Guid.NewGuid().ToString("N")[..8])).Sum(s => (long)s.Points);

        await fixture.Lab.StopResourceAsync("point-service");
        await fixture.Lab.StartResourceAsync("point-service");

        await AssertEveryTotalIsTheSumOfItsRecordsAsync();
        Assert.Equal(before, await ApiTotalOf(userId));
        var after = before + (await MixedWritesAsync(userId, 10, Guid.NewGuid().ToString("N")[..8])).Sum(s => (long)s.Points);
        Assert.Equal(after, await StoredTotalOf(userId));
        await AssertEveryTotalIsTheSumOfItsRecordsAsync();
    }

    [Fact]
    public async Task A_write_that_fails_after_its_record_was_inserted_is_rolled_back_whole_and_no_pooled_connection_keeps_it()
    {
        var userId = FreshUserId();
        Assert.Equal(HttpStatusCode.Created, (await Points.PostAsync("/api/v1/points", Http.Json(new { userId, points = 10 }), Ct)).StatusCode);
        var keys = Enumerable.Range(0, 8).Select(i => $"rollback-{Guid.NewGuid()}-{i}").ToArray();
        var before = await DataSnapshot.TakeAsync(fixture);

        // Another session holds user_totals: each write inserts its record, then waits at its total until the command timeout and fails.
        List<HttpStatusCode> plain, keyed;
        await using (var holder = new MySqlConnection(fixture.Databases.MariaDb.ConnectionString(LabFixture.PointDb) + ";Pooling=false"))
        {
            await holder.OpenAsync(Ct);
            await new MySqlCommand("LOCK TABLES user_totals WRITE", holder).ExecuteNonQueryAsync(Ct);
            var plainWrites = Enumerable.Range(0, 8).Select(async _ => (await Points.PostAsync("/api/v1/points", Http.Json(new { userId, points = 5 }), Ct)).StatusCode);
            var keyedWrites = keys.Select(async key => (await Points.SendAsync(Http.AddPoints(new { userId, points = 7 }, key), Ct)).StatusCode);
            plain = [.. await Task.WhenAll(plainWrites)];
            keyed = [.. await Task.WhenAll(keyedWrites)];
        }

        Assert.All(plain, s => Assert.Equal(HttpStatusCode.ServiceUnavailable, s));
        Assert.All(keyed, s => Assert.Equal(HttpStatusCode.Conflict, s)); // "nothing was stored, retry"
        Assert.Equal(before, await DataSnapshot.TakeAsync(fixture));

        // The pooled connections those writes used carry no open transaction: new writes (many, to reach them) commit alone.
        await Task.WhenAll(Enumerable.Range(0, 40).Select(async _ =>
            Assert.Equal(HttpStatusCode.Created, (await Points.PostAsync("/api/v1/points", Http.Json(new { userId, points = 1 }), Ct)).StatusCode)));
        foreach (var key in keys)
        {
            var retried = await Points.SendAsync(Http.AddPoints(new { userId, points = 7 }, key), Ct);
            Assert.Equal(HttpStatusCode.Created, retried.StatusCode);
            Assert.False(retried.Headers.Contains("Idempotent-Replayed"), "a key of a rolled-back write was stored");
        }
        Assert.Equal(10 + 40 + 7 * keys.Length, await StoredTotalOf(userId));
        await AssertEveryTotalIsTheSumOfItsRecordsAsync();
    }

    [Fact]
    public async Task Writes_whose_clients_go_away_leave_no_transaction_open_and_the_users_next_writes_pass()
    {
        var userId = FreshUserId();
        var run = Guid.NewGuid().ToString("N");
        // Clients that hang up within a few milliseconds, all on one user: their requests end while the server is anywhere in the write's
        // batch (the INSERTs, the total's row, the COMMIT).
        const int sent = 8000;
        await Http.HangUpAsync(sent, 40, (i, ct) => Points.SendAsync(Http.AddPoints(new { userId, points = 1 + i % 9 }, $"gone-{run}-{i}"), ct));

        // Each write ends by itself within the command timeout (2 s); none may stay open on a pooled connection, holding the user's row.
        await Task.Delay(TimeSpan.FromSeconds(3), Ct);
        var open = await DataSnapshot.ScalarAsync(fixture, LabDatabase.Points, """
            SELECT COUNT(*) FROM information_schema.innodb_trx AS t JOIN information_schema.processlist AS p ON p.id = t.trx_mysql_thread_id
            WHERE p.db = DATABASE() AND t.trx_started < NOW() - INTERVAL 2 SECOND
            """);
        Assert.True(open == 0, $"{open} transactions of point-service stayed open after {sent} writes whose clients went away");
        for (var i = 0; i < 20; i++)
        {
            var next = await Points.SendAsync(Http.AddPoints(new { userId, points = 5 }, $"after-{run}-{i}"), Ct);
            Assert.Equal(HttpStatusCode.Created, next.StatusCode);
        }
        await AssertEveryTotalIsTheSumOfItsRecordsAsync();
    }
}
