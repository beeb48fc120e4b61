using Lab19.Tests.Infrastructure;

namespace Lab19.Tests;

/// <summary>
/// Outcomes the API answers by design (a duplicate email's 409, a lost race for an idempotency key) and clients that go away before
/// their answer are not errors: the services log no Error for them, no SQL and no stack.
/// </summary>
[Collection(LabCollection.Name)]
public class ExpectedOutcomeLogTests(LabFixture fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Concurrent_signups_with_one_email_log_no_error_sql_or_stack()
    {
        var email = $"dup-{Guid.NewGuid():N}@tests.lab19.local";
        var lines = await LinesDuringAsync("user-service", fixture.Lab.Users, "/api/v1/users", async () =>
        {
            var statuses = await Task.WhenAll(Enumerable.Range(0, 20).Select(async i =>
                (await fixture.Lab.Users.PostAsync("/api/v1/users", Http.Json(new { name = $"dup {i}", email }), Ct)).StatusCode));
            Assert.Equal(19, statuses.Count(s => s == HttpStatusCode.Conflict));
        });

        AssertNoErrorSqlOrStack(lines);
    }

    [Fact]
    public async Task Concurrent_posts_with_one_idempotency_key_log_no_error_sql_or_stack()
    {
        var userId = Random.Shared.Next(1_000_000, int.MaxValue);
        var lines = await LinesDuringAsync("point-service", fixture.Lab.Points, "/api/v1/points", async () =>
        {
            for (var round = 0; round < 3; round++) // each round a new key, raced by 30 requests: some of them lose the race at the insert
            {
                var key = $"race-{Guid.NewGuid()}";
                var statuses = await Task.WhenAll(Enumerable.Range(0, 30).Select(async _ =>
                    (await fixture.Lab.Points.SendAsync(Http.AddPoints(new { userId, points = 1 }, key), Ct)).StatusCode));
                Assert.All(statuses, s => Assert.True(s is HttpStatusCode.Created or HttpStatusCode.Conflict, $"{s}"));
            }
        });

        AssertNoErrorSqlOrStack(lines);
    }

    [Fact]
    public async Task Clients_that_go_away_mid_request_leave_no_EF_Core_error_in_either_service_log()
    {
        var userIds = await (await fixture.Lab.Users.GetAsync("/api/v1/users?limit=20", Ct)).ReadAsync<UserDto[]>();
        Assert.NotEmpty(userIds);
        var hungUp = 0;
        // Reads of both services, each from a client that hangs up within a few milliseconds (while a pooled connection is being opened,
        // a query runs, or user-service calls point-service).
        async Task HangUpsAsync() => hungUp = await Http.HangUpAsync(1500, 30, (i, ct) => i % 2 == 0
            ? fixture.Lab.Users.GetAsync($"/api/v1/users/{userIds[i % userIds.Length].Id}", ct)
            : fixture.Lab.Points.GetAsync($"/api/v1/points/user/{userIds[i % userIds.Length].Id}?limit=10", ct));

        IReadOnlyList<string> points = [];
        var users = await LinesDuringAsync("user-service", fixture.Lab.Users, "/api/v1/users", async () =>
            points = await LinesDuringAsync("point-service", fixture.Lab.Points, "/api/v1/points", HangUpsAsync));

        Assert.True(hungUp > 100, $"only {hungUp} clients went away before their answer");
        // EF Core's lines only: under a loaded machine a call to point-service can still meet its attempt timeout, which the resilience
        // handler rightly logs as an error.
        AssertNoLinesOf(["Microsoft.EntityFrameworkCore"], users);
        AssertNoLinesOf(["Microsoft.EntityFrameworkCore"], points);
    }

    private static void AssertNoErrorSqlOrStack(IReadOnlyList<string> lines) => AssertNoLinesOf(["Microsoft.EntityFrameworkCore", "INSERT ", "   at ", "fail"], lines);

    private static void AssertNoLinesOf(string[] marks, IReadOnlyList<string> lines)
    {
        var found = lines.Where(l => marks.Any(m => l.Contains(m, StringComparison.Ordinal))).ToList();
        var first = found.Count == 0 ? 0 : lines.ToList().IndexOf(found[0]);
        Assert.True(found.Count == 0, $"{found.Count} lines name {string.Join(", ", marks.Select(m => $"'{m.Trim()}'"))}; the first with what follows it:\n{string.Join("\n", lines.Skip(first).Take(8))}");
    }

    /// <summary>The service's log lines written while <paramref name="act"/> ran, found between two rejected requests that name a marker each.</summary>
    private async Task<IReadOnlyList<string>> LinesDuringAsync(string service, HttpClient client, string path, Func<Task> act)
    {
        var (start, end) = ($"start{Guid.NewGuid():N}", $"end{Guid.NewGuid():N}");
        await client.GetAsync($"{path}?limit={start}", Ct); // logged by the exception handler: "... rejected: ... from "start...""
        await act();
        await client.GetAsync($"{path}?limit={end}", Ct);

        var lines = await fixture.Lab.LogLinesAsync(service, seen => seen.Any(l => l.Contains(end)));
        var from = lines.ToList().FindIndex(l => l.Contains(start));
        var to = lines.ToList().FindIndex(l => l.Contains(end));
        Assert.True(from >= 0 && to > from, $"markers not found in {service}'s log");
        return [.. lines.Skip(from + 1).Take(to - from - 1)];
    }
}
