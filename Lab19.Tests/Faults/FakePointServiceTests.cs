using System.Diagnostics;
using Lab19.Tests.Infrastructure;

namespace Lab19.Tests;

/// <summary>The lab with user-service pointed at a fake point-service, so a test can make it slow, failing or nonsensical.</summary>
public class FakePointServiceFixture(SharedDatabases databases) : IAsyncLifetime
{
    public FakePointService Fake { get; } = new();
    public LabApp Lab { get; private set; } = null!;

    /// <summary>Databases of this fixture's own (several fixtures run at once).</summary>
    protected virtual string DatabaseSuffix => "fake";

    /// <summary>More AppHost settings for this fixture's lab.</summary>
    protected virtual string[] Settings => [];

    public virtual async ValueTask InitializeAsync()
    {
        await Fake.StartAsync();
        Lab = await LabApp.StartAsync(databases.Postgres.ConnectionString($"userdb_{DatabaseSuffix}"), databases.MariaDb.ConnectionString($"pointdb_{DatabaseSuffix}"),
            builder =>
            {
                // Replaces the address service discovery gives user-service for point-service (WithReference's variable is set earlier).
                var userService = builder.Resources.OfType<ProjectResource>().Single(r => r.Name == "user-service");
                builder.CreateResourceBuilder(userService).WithEnvironment(context => context.EnvironmentVariables["services__point-service__http__0"] = Fake.Url);
            },
            settings: Settings);
    }

    public virtual async ValueTask DisposeAsync()
    {
        await Lab.DisposeAsync();
        await Fake.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class FakePointServiceCollection : ICollectionFixture<FakePointServiceFixture>
{
    public const string Name = "fake point-service";
}

[Collection(FakePointServiceCollection.Name)]
public class FakePointServiceTests(FakePointServiceFixture fixture)
{
    /// <summary>The lab's promise (README, walkthrough step 2): a failing point-service costs a request 3 s at most.</summary>
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(3);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_healthy_point_service_answer_is_passed_on()
    {
        fixture.Fake.Mode = FakePointService.Behaviour.Healthy;
        var user = await (await fixture.Lab.Users.GetAsync("/api/v1/users/5", Ct)).ReadAsync<UserWithPointsDto>();
        Assert.Equal(FakePointService.Total, user.TotalPoints);
        Assert.Equal("fake", Assert.Single(user.RecentPoints).Reason);
    }

    [Theory]
    [InlineData(FakePointService.Behaviour.Slow)]
    [InlineData(FakePointService.Behaviour.Failing)]
    [InlineData(FakePointService.Behaviour.Garbage)]
    public async Task A_slow_failing_or_garbled_point_service_gives_503_within_3_s_then_recovery(FakePointService.Behaviour behaviour)
    {
        fixture.Fake.Mode = behaviour;
        try
        {
            var clock = Stopwatch.StartNew();
            var response = await fixture.Lab.Users.GetAsync("/api/v1/users/7", Ct);
            clock.Stop();

            var problem = await Http.AssertProblemAsync(response, HttpStatusCode.ServiceUnavailable);
            Assert.Contains("point-service", problem.GetProperty("title").GetString());
            Assert.True(clock.Elapsed < Bound, $"{behaviour}: took {clock.Elapsed}");
            Assert.Equal(HttpStatusCode.OK, (await fixture.Lab.Users.GetAsync("/health", Ct)).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await fixture.Lab.Users.GetAsync("/api/v1/users?limit=2", Ct)).StatusCode);
        }
        finally
        {
            fixture.Fake.Mode = FakePointService.Behaviour.Healthy;
        }

        var user = await (await fixture.Lab.Users.GetAsync("/api/v1/users/7", Ct)).ReadAsync<UserWithPointsDto>();
        Assert.Equal(FakePointService.Total, user.TotalPoints);
    }

    [Fact]
    public async Task With_point_service_never_answering_700_concurrent_requests_are_all_503_even_those_the_resilience_handler_refuses_at_once()
    {
        // 700 requests make 1,400 concurrent calls: more than the standard resilience handler's concurrency limiter lets through (1,000);
        // the rest are rejected at once, and the failures then open its circuit breaker.
        fixture.Fake.Mode = FakePointService.Behaviour.Slow;
        List<(HttpStatusCode Status, string Body)> answers;
        try
        {
            answers = [.. await Task.WhenAll(Enumerable.Range(0, 700).Select(async i =>
            {
                using var response = await fixture.Lab.Users.GetAsync($"/api/v1/users/{1 + i % 100}", Ct);
                return (response.StatusCode, await response.Content.ReadAsStringAsync(Ct));
            }))];
        }
        finally
        {
            fixture.Fake.Mode = FakePointService.Behaviour.Healthy;
        }

        var counts = string.Join(", ", answers.GroupBy(a => (int)a.Status).Select(g => $"{g.Count()} × {g.Key}"));
        if (answers.FirstOrDefault(a => a.Status != HttpStatusCode.ServiceUnavailable) is { Body: { } other })
        {
            Assert.Fail($"answered {counts}, e.g. {other}");
        }
        var titles = answers.Select(a => System.Text.Json.JsonDocument.Parse(a.Body).RootElement.GetProperty("title").GetString()).ToList();
        // Under load, some of the 700 look-ups of the user itself can wait past the connection timeout: also a bounded 503.
        Assert.All(titles, t => Assert.Contains(t, new[] { "point-service unavailable", "Database unavailable" }));
        Assert.Contains("point-service unavailable", titles);

        // Recovery, once the circuit breaker lets calls through again (it stays open for 5 s).
        var recovery = Stopwatch.StartNew();
        while ((await fixture.Lab.Users.GetAsync("/api/v1/users/7", Ct)).StatusCode != HttpStatusCode.OK)
        {
            Assert.True(recovery.Elapsed < TimeSpan.FromMinutes(1), "user-service did not recover");
            await Task.Delay(500, Ct);
        }
    }

    [Fact]
    public async Task An_unknown_user_is_404_without_calling_point_service()
    {
        var calls = fixture.Fake.Calls;
        await Http.AssertProblemAsync(await fixture.Lab.Users.GetAsync("/api/v1/users/55555555", Ct), HttpStatusCode.NotFound);
        Assert.Equal(calls, fixture.Fake.Calls);
    }
}
