using Lab19.Tests.Infrastructure;

namespace Lab19.Tests;

/// <summary>Concurrent writes: every accepted write is stored exactly once; uniqueness holds under a race.</summary>
[Collection(LabCollection.Name)]
public class ConcurrencyTests(LabFixture fixture)
{
    [Fact]
    public async Task Two_hundred_concurrent_posts_for_one_user_are_each_stored_exactly_once_as_answered()
    {
        var userId = Random.Shared.Next(1_000_000, int.MaxValue);
        var run = Guid.NewGuid().ToString("N");
        var amounts = Enumerable.Range(1, 200).Select(i => i % 3 == 0 ? -i : i * 7).ToArray();

        // Half of them keyed: each write returns the id its own INSERT generated, whichever command it is and whatever runs beside it.
        var responses = await Task.WhenAll(amounts.Select(async points =>
        {
            var key = points % 2 == 0 ? $"race-{run}-{points}" : null;
            var response = await fixture.Lab.Points.SendAsync(Http.AddPoints(new { userId, points, reason = $"race {points}" }, key), TestContext.Current.CancellationToken);
            return (points, response.StatusCode, Created: response.IsSuccessStatusCode ? await response.ReadAsync<PointDto>() : null);
        }));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Created, r.StatusCode));
        var accepted = responses.Where(r => r.Created is not null).ToList();
        Assert.All(accepted, r => Assert.Equal((userId, r.points, $"race {r.points}"), (r.Created!.UserId, r.Created.Points, r.Created.Reason)));
        Assert.Equal(accepted.Count, accepted.Select(r => r.Created!.Id).Distinct().Count());

        // Every answer is the record stored under its id, field for field.
        var stored = await (await fixture.Lab.Points.GetAsync($"/api/v1/points/user/{userId}?limit=1000", TestContext.Current.CancellationToken)).ReadAsync<PointDto[]>();
        Assert.Equal(accepted.Select(r => r.Created!).OrderBy(p => p.Id), stored.OrderBy(p => p.Id));
        var total = await (await fixture.Lab.Points.GetAsync($"/api/v1/points/user/{userId}/total", TestContext.Current.CancellationToken)).ReadAsync<UserTotalDto>();
        Assert.Equal(accepted.Sum(r => (long)r.points), total.Total);
    }

    [Fact]
    public async Task Fifty_concurrent_signups_with_one_email_give_one_201_and_49_409()
    {
        var email = $"race-{Guid.NewGuid():N}@tests.lab19.local";
        var statuses = await Task.WhenAll(Enumerable.Range(0, 50).Select(async i =>
            (await fixture.Lab.Users.PostAsync("/api/v1/users", Http.Json(new { name = $"racer {i}", email }), TestContext.Current.CancellationToken)).StatusCode));

        Assert.Single(statuses, s => s == HttpStatusCode.Created);
        Assert.Equal(49, statuses.Count(s => s == HttpStatusCode.Conflict));
        Assert.Equal(1, await DataSnapshot.ScalarAsync(fixture, LabDatabase.Users, $"SELECT COUNT(*) FROM users WHERE email = '{email}'"));
    }
}
