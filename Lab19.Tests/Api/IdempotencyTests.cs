using Lab19.Tests.Infrastructure;

namespace Lab19.Tests;

/// <summary><c>POST /api/v1/points</c> with an <c>Idempotency-Key</c>, against the real MariaDB server: one key, one record.</summary>
[Collection(LabCollection.Name)]
public class IdempotencyTests(LabFixture fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private HttpClient Points => fixture.Lab.Points;

    private static int FreshUserId() => Random.Shared.Next(1_000_000, int.MaxValue);
    private static string NewKey() => $"test-{Guid.NewGuid()}";

    private Task<long> RecordsOf(int userId) => DataSnapshot.ScalarAsync(fixture, LabDatabase.Points, $"SELECT COUNT(*) FROM points WHERE user_id = {userId}");
    /// <summary>How many stored keys have <paramref name="key"/>'s hash (the table keeps SHA-256 of each key, not the key).</summary>
    private Task<long> KeysNamed(string key) => DataSnapshot.ScalarAsync(fixture, LabDatabase.Points, $"SELECT COUNT(*) FROM idempotency_keys WHERE key_hash = UNHEX(SHA2('{key}', 256))");

    private async Task<long> TotalOf(int userId) =>
        (await (await Points.GetAsync($"/api/v1/points/user/{userId}/total", Ct)).ReadAsync<UserTotalDto>()).Total;

    [Fact]
    public async Task The_same_key_twice_stores_one_record_and_answers_the_same_201()
    {
        var (userId, key) = (FreshUserId(), NewKey());
        var first = await Points.SendAsync(Http.AddPoints(new { userId, points = 10, reason = "retry me" }, key), Ct);
        var before = await DataSnapshot.TakeAsync(fixture);
        // the same request, its JSON written differently: the service compares what it understood, not the bytes
        var retry = await Points.SendAsync(Http.AddPoints(Http.Json($$"""{ "reason": "retry me", "points": 10, "userId": {{userId}} }"""), key), Ct);

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Created, retry.StatusCode);
        Assert.Equal(await first.ReadAsync<PointDto>(), await retry.ReadAsync<PointDto>());
        Assert.Equal(first.Headers.Location, retry.Headers.Location);
        Assert.False(first.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal(["true"], retry.Headers.GetValues("Idempotent-Replayed"));
        Assert.Equal(before, await DataSnapshot.TakeAsync(fixture));
        Assert.Equal((1, 1, 10), (await RecordsOf(userId), await KeysNamed(key), await TotalOf(userId)));
    }

    [Fact]
    public async Task The_same_key_with_a_different_body_is_422_and_stores_nothing()
    {
        var (userId, key) = (FreshUserId(), NewKey());
        Assert.Equal(HttpStatusCode.Created, (await Points.SendAsync(Http.AddPoints(new { userId, points = 10 }, key), Ct)).StatusCode);
        var before = await DataSnapshot.TakeAsync(fixture);

        foreach (var other in new object[] { new { userId, points = 11 }, new { userId, points = 10, reason = "other" }, new { userId = userId - 1, points = 10 } })
        {
            var problem = await Http.AssertProblemAsync(await Points.SendAsync(Http.AddPoints(other, key), Ct), HttpStatusCode.UnprocessableEntity);
            Assert.Contains(key, problem.GetProperty("detail").GetString());
        }

        Assert.Equal(before, await DataSnapshot.TakeAsync(fixture));
        Assert.Equal((1, 10), (await RecordsOf(userId), await TotalOf(userId)));
    }

    public static TheoryData<string> InvalidKeys => new() { "", "two words", "tab\tinside", "del\u007f", new string('k', 256) };

    [Theory]
    [MemberData(nameof(InvalidKeys))]
    public async Task A_key_that_is_not_1_to_255_visible_ascii_characters_is_400_and_stores_nothing(string key)
    {
        var before = await DataSnapshot.TakeAsync(fixture);
        using var request = Http.AddPoints(new { userId = FreshUserId(), points = 5 }, key);

        var problem = await Http.AssertProblemAsync(await Points.SendAsync(request, Ct), HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty("Idempotency-Key", out _), problem.ToString());
        Assert.Equal(before, await DataSnapshot.TakeAsync(fixture));
    }

    [Fact]
    public async Task Two_key_headers_are_400_and_keys_are_case_sensitive_up_to_255_characters()
    {
        var userId = FreshUserId();
        using var twice = Http.AddPoints(new { userId, points = 5 }, "one");
        twice.Headers.TryAddWithoutValidation("Idempotency-Key", "two");
        await Http.AssertProblemAsync(await Points.SendAsync(twice, Ct), HttpStatusCode.BadRequest);

        var key = "K" + new string('~', 254);
        var upper = await (await Points.SendAsync(Http.AddPoints(new { userId, points = 5 }, key), Ct)).ReadAsync<PointDto>();
        var lower = await (await Points.SendAsync(Http.AddPoints(new { userId, points = 5 }, key.ToLowerInvariant()), Ct)).ReadAsync<PointDto>();
        Assert.NotEqual(upper.Id, lower.Id);
        Assert.Equal((2, 10), (await RecordsOf(userId), await TotalOf(userId)));
    }

    [Fact]
    public async Task Without_a_key_the_same_post_twice_stores_two_records_as_before()
    {
        var userId = FreshUserId();
        for (var i = 0; i < 2; i++)
        {
            Assert.Equal(HttpStatusCode.Created, (await Points.SendAsync(Http.AddPoints(new { userId, points = 7 }), Ct)).StatusCode);
        }
        Assert.Equal((2, 14), (await RecordsOf(userId), await TotalOf(userId)));
    }

    [Fact]
    public async Task Fifty_concurrent_requests_with_one_key_store_one_record_and_every_answer_carries_its_id_or_is_409()
    {
        var (userId, key) = (FreshUserId(), NewKey());
        var answers = await Task.WhenAll(Enumerable.Range(0, 50).Select(async _ =>
        {
            var response = await Points.SendAsync(Http.AddPoints(new { userId, points = 25, reason = "race" }, key), Ct);
            return (response.StatusCode, Point: response.StatusCode == HttpStatusCode.Created ? await response.ReadAsync<PointDto>() : null);
        }));

        var stored = Assert.Single(await (await Points.GetAsync($"/api/v1/points/user/{userId}", Ct)).ReadAsync<PointDto[]>());
        Assert.All(answers, a => Assert.True(a.Point == stored || a.StatusCode == HttpStatusCode.Conflict, $"{a.StatusCode}: {a.Point}"));
        Assert.Contains(answers, a => a.Point == stored);
        Assert.Equal((1, 1, 25), (await RecordsOf(userId), await KeysNamed(key), await TotalOf(userId)));
    }

    [Fact]
    public async Task A_key_is_stored_as_its_32_byte_sha256_hash_and_the_table_keeps_no_key_text()
    {
        var (userId, key) = (FreshUserId(), NewKey() + new string('~', 200));
        Assert.Equal(HttpStatusCode.Created, (await Points.SendAsync(Http.AddPoints(new { userId, points = 3 }, key), Ct)).StatusCode);

        Assert.Equal(1, await KeysNamed(key));
        Assert.Equal(32, await DataSnapshot.ScalarAsync(fixture, LabDatabase.Points, $"SELECT LENGTH(key_hash) FROM idempotency_keys WHERE key_hash = UNHEX(SHA2('{key}', 256))"));
        // the primary key is that hash, and no column of the table holds text
        Assert.Equal(1, await DataSnapshot.ScalarAsync(fixture, LabDatabase.Points, """
            SELECT COUNT(*) FROM information_schema.statistics
            WHERE table_schema = DATABASE() AND table_name = 'idempotency_keys' AND index_name = 'PRIMARY' AND column_name = 'key_hash'
            """));
        Assert.Equal(0, await DataSnapshot.ScalarAsync(fixture, LabDatabase.Points, """
            SELECT COUNT(*) FROM information_schema.columns
            WHERE table_schema = DATABASE() AND table_name = 'idempotency_keys' AND data_type IN ('char', 'varchar', 'text')
            """));
    }

    [Fact]
    public async Task A_key_survives_a_restart_of_point_service_and_expired_keys_are_deleted()
    {
        var (userId, key) = (FreshUserId(), NewKey());
        var created = await (await Points.SendAsync(Http.AddPoints(new { userId, points = 40 }, key), Ct)).ReadAsync<PointDto>();
        // two keys written straight into the table: one past the 24 h retention, one within it
        var (expired, kept) = ($"expired-{Guid.NewGuid()}", $"kept-{Guid.NewGuid()}");
        await DataSnapshot.ExecuteAsync(fixture, LabDatabase.Points, $"""
            INSERT INTO idempotency_keys (key_hash, request_hash, point_id, created_at) VALUES
              (UNHEX(SHA2('{expired}', 256)), UNHEX(SHA2('x', 256)), {created.Id}, UTC_TIMESTAMP(6) - INTERVAL 25 HOUR),
              (UNHEX(SHA2('{kept}', 256)), UNHEX(SHA2('x', 256)), {created.Id}, UTC_TIMESTAMP(6) - INTERVAL 23 HOUR)
            """);

        await fixture.Lab.StopResourceAsync("point-service");
        await fixture.Lab.StartResourceAsync("point-service");

        var retry = await Points.SendAsync(Http.AddPoints(new { userId, points = 40 }, key), Ct);
        Assert.Equal(created, await retry.ReadAsync<PointDto>());
        Assert.True(retry.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal((1, 40), (await RecordsOf(userId), await TotalOf(userId)));

        // the clean-up runs once the database is ready after the start, then every few minutes
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (await KeysNamed(expired) > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the expired key was not deleted within 15 s of the start");
            await Task.Delay(200, Ct);
        }
        Assert.Equal((1, 1), (await KeysNamed(kept), await KeysNamed(key)));
    }
}
