using System.Diagnostics;
using Lab19.Tests.Infrastructure;

namespace Lab19.Tests;

/// <summary>point-service and restarts, driven through the AppHost's own resource commands (as the dashboard's Stop/Start buttons do).</summary>
[Collection(LabCollection.Name)]
public class PointServiceOutageTests(LabFixture fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task With_point_service_stopped_a_user_is_503_naming_it_within_3_s_and_recovers_when_it_is_back()
    {
        await fixture.Lab.StopResourceAsync("point-service");
        try
        {
            var clock = Stopwatch.StartNew();
            var response = await fixture.Lab.Users.GetAsync("/api/v1/users/1", Ct);
            clock.Stop();

            var problem = await Http.AssertProblemAsync(response, HttpStatusCode.ServiceUnavailable);
            Assert.Contains("point-service", problem.GetProperty("title").GetString());
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"took {clock.Elapsed}");

            // user-service itself stays up and healthy.
            Assert.Equal(HttpStatusCode.OK, (await fixture.Lab.Users.GetAsync("/health", Ct)).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await fixture.Lab.Users.GetAsync("/api/v1/users?limit=3", Ct)).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await fixture.Lab.Users.GetAsync("/api/v1/users/987654321", Ct)).StatusCode);
        }
        finally
        {
            await fixture.Lab.StartResourceAsync("point-service");
        }

        var user = await (await fixture.Lab.Users.GetAsync("/api/v1/users/1", Ct)).ReadAsync<UserWithPointsDto>();
        Assert.True(user.TotalPoints > 0);
    }

    [Fact]
    public async Task Restarting_both_services_keeps_every_record_and_never_reseeds()
    {
        var userId = Random.Shared.Next(1_000_000, int.MaxValue);
        var point = await (await fixture.Lab.Points.PostAsync("/api/v1/points", Http.Json(new { userId, points = 77 }), Ct)).ReadAsync<PointDto>();
        var user = await (await fixture.Lab.Users.PostAsync("/api/v1/users", Http.Json(new { name = "survivor", email = $"{Guid.NewGuid():N}@tests.lab19.local" }), Ct)).ReadAsync<UserDto>();
        var before = await DataSnapshot.TakeAsync(fixture);

        await fixture.Lab.StopResourceAsync("user-service");
        await fixture.Lab.StopResourceAsync("point-service");
        await fixture.Lab.StartResourceAsync("point-service");
        await fixture.Lab.StartResourceAsync("user-service");

        Assert.Equal(before, await DataSnapshot.TakeAsync(fixture));
        Assert.Equal(point, await (await fixture.Lab.Points.GetAsync($"/api/v1/points/{point.Id}", Ct)).ReadAsync<PointDto>());
        var fetched = await (await fixture.Lab.Users.GetAsync($"/api/v1/users/{user.Id}", Ct)).ReadAsync<UserWithPointsDto>();
        Assert.Equal((user.Id, user.Email), (fetched.Id, fetched.Email));
        Assert.Equal(100, await DataSnapshot.ScalarAsync(fixture, LabDatabase.Points, "SELECT COUNT(*) FROM points WHERE reason = 'signup bonus' AND user_id BETWEEN 1 AND 100"));
        await AssertEveryMigrationAppliedOnceAndTheSchemaThereAsync();
    }

    /// <summary>Every migration point-service's assembly defines is applied exactly once, and the tables and indexes its queries rely on exist.</summary>
    private async Task AssertEveryMigrationAppliedOnceAndTheSchemaThereAsync()
    {
        var migrations = EfMigrations.DefinedIn("PointService");
        Assert.Contains(migrations, m => m.EndsWith("_InitialCreate", StringComparison.Ordinal)); // the reader found the real ones
        foreach (var migration in migrations)
        {
            Assert.True(1 == await DataSnapshot.ScalarAsync(fixture, LabDatabase.Points, $"SELECT COUNT(*) FROM __EFMigrationsHistory WHERE MigrationId = '{migration}'"),
                $"{migration} is not applied exactly once");
        }
        Assert.Equal(migrations.Count, await DataSnapshot.ScalarAsync(fixture, LabDatabase.Points, "SELECT COUNT(*) FROM __EFMigrationsHistory"));

        foreach (var (table, index) in new[] { ("points", "IX_points_user_id_created_at"), ("points", "IX_points_user_id_points"),
            ("points", "IX_points_created_at_id"),
            ("idempotency_keys", "PRIMARY"), ("idempotency_keys", "IX_idempotency_keys_created_at"), ("user_totals", "PRIMARY") })
        {
            Assert.True(0 < await DataSnapshot.ScalarAsync(fixture, LabDatabase.Points,
                $"SELECT COUNT(*) FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = '{table}' AND index_name = '{index}'"),
                $"{table} has no index {index}");
        }
        // A key and its record are written in one command; a foreign key would only add a check and an index to each keyed POST.
        Assert.Equal(0, await DataSnapshot.ScalarAsync(fixture, LabDatabase.Points,
            "SELECT COUNT(*) FROM information_schema.referential_constraints WHERE constraint_schema = DATABASE() AND table_name = 'idempotency_keys'"));
    }
}
