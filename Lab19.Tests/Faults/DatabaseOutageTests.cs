using System.Diagnostics;
using Lab19.Tests.Infrastructure;

namespace Lab19.Tests;

/// <summary>The lab on database servers of its own, which these tests stop and start.</summary>
public sealed class DatabaseOutageFixture : IAsyncLifetime
{
    public DatabaseServer Postgres { get; } = DatabaseServer.PostgreSql("outage");
    public DatabaseServer MariaDb { get; } = DatabaseServer.MySql("outage");
    public LabApp Lab { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        await Task.WhenAll(Postgres.StartAsync(), MariaDb.StartAsync());
        Lab = await LabApp.StartAsync(Postgres.ConnectionString("userdb"), MariaDb.ConnectionString("pointdb"));
    }

    public async ValueTask DisposeAsync()
    {
        await Lab.DisposeAsync();
        await Postgres.DisposeAsync();
        await MariaDb.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class DatabaseOutageCollection : ICollectionFixture<DatabaseOutageFixture>
{
    public const string Name = "database outage";
}

[Collection(DatabaseOutageCollection.Name)]
public class DatabaseOutageTests(DatabaseOutageFixture fixture)
{
    private static readonly TimeSpan AnswerBound = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan RecoveryBound = TimeSpan.FromSeconds(10);
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("points", "/api/v1/points/user/1/total")]
    [InlineData("users", "/api/v1/users?limit=5")]
    public async Task A_stopped_database_gives_quick_503s_and_the_service_recovers_by_itself(string service, string dataPath)
    {
        var (client, database) = service == "users" ? (fixture.Lab.Users, fixture.Postgres) : (fixture.Lab.Points, fixture.MariaDb);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(dataPath, Ct)).StatusCode);

        await database.StopAsync();
        try
        {
            for (var i = 0; i < 3; i++) // the first request may meet a pooled connection that just broke; all must be quick 503s
            {
                var clock = Stopwatch.StartNew();
                var response = await client.GetAsync(dataPath, Ct);
                Assert.True(clock.Elapsed < AnswerBound, $"data request took {clock.Elapsed}");
                await Http.AssertProblemAsync(response, HttpStatusCode.ServiceUnavailable);
            }

            var healthClock = Stopwatch.StartNew();
            var health = await client.GetAsync("/health", Ct);
            Assert.True(healthClock.Elapsed < AnswerBound, $"/health took {healthClock.Elapsed}");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
            Assert.Equal("Unhealthy", await health.Content.ReadAsStringAsync(Ct));
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/alive", Ct)).StatusCode);
        }
        finally
        {
            await database.StartAsync();
        }

        var recovery = Stopwatch.StartNew();
        while ((await client.GetAsync(dataPath, Ct)).StatusCode != HttpStatusCode.OK)
        {
            Assert.True(recovery.Elapsed < RecoveryBound, $"{service} had not recovered {recovery.Elapsed} after its database came back");
            await Task.Delay(250, Ct);
        }
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health", Ct)).StatusCode);
    }

    [Fact]
    public async Task A_service_started_before_its_database_reports_unhealthy_then_becomes_healthy_without_a_restart()
    {
        await Task.WhenAll(fixture.Postgres.StopAsync(), fixture.MariaDb.StopAsync());
        LabApp? early = null;
        try
        {
            early = await LabApp.StartAsync(fixture.Postgres.ConnectionString("userdb_early"), fixture.MariaDb.ConnectionString("pointdb_early"), waitUntilHealthy: false);
            await early.App.ResourceNotifications.WaitForResourceAsync("point-service", KnownResourceStates.Running, Ct).WaitAsync(LabApp.StartTimeout, Ct);
            await WaitUntilAsync(async () => (await TryGetAsync(early.Points, "/alive")) == HttpStatusCode.OK);

            Assert.Equal(HttpStatusCode.ServiceUnavailable, await TryGetAsync(early.Points, "/health"));
            var problem = await Http.AssertProblemAsync(await early.Points.GetAsync("/api/v1/points/user/1/total", Ct), HttpStatusCode.ServiceUnavailable);
            Assert.Contains("not ready", problem.GetProperty("title").GetString());

            await Task.WhenAll(fixture.Postgres.StartAsync(), fixture.MariaDb.StartAsync());
            await early.WaitHealthyAsync("point-service");
            await early.WaitHealthyAsync("user-service");
            var user = await (await early.Users.GetAsync("/api/v1/users/1", Ct)).ReadAsync<UserWithPointsDto>();
            Assert.True(user.TotalPoints > 0);
        }
        finally
        {
            if (!fixture.Postgres.IsRunning) await fixture.Postgres.StartAsync();
            if (!fixture.MariaDb.IsRunning) await fixture.MariaDb.StartAsync();
            if (early is not null) await early.DisposeAsync();
        }
    }

    private static async Task<HttpStatusCode?> TryGetAsync(HttpClient client, string path)
    {
        try
        {
            return (await client.GetAsync(path, Ct)).StatusCode;
        }
        catch (HttpRequestException)
        {
            return null; // not listening yet
        }
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(clock.Elapsed < LabApp.StartTimeout, "timed out");
            await Task.Delay(200, Ct);
        }
    }
}
