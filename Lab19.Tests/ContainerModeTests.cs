using Lab19.Tests.Infrastructure;

namespace Lab19.Tests;

/// <summary>The AppHost's default mode, with PostgreSQL and MySQL in containers: only where a Docker engine can run them.</summary>
public class ContainerModeTests
{
    private const string NeedsDocker =
        "Needs a Docker engine that has, or can pull, the postgres and mysql images (none here); run on a machine with Docker to cover the default container mode.";

    /// <summary>The database images the AppHost's default mode runs, read from its model.</summary>
    private static async Task<string[]> DatabaseImagesAsync()
    {
        await using var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Lab19_AppHost>([], TestContext.Current.CancellationToken);
        return builder.Resources.Where(r => r.Name is "user-db" or "point-db")
            .Select(r => r.Annotations.OfType<ContainerImageAnnotation>().Single())
            .Select(i => $"{i.Registry}/{i.Image}:{i.Tag}").ToArray();
    }

    private static async Task<DistributedApplication> StartAsync(string volumePrefix)
    {
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Lab19_AppHost>(
            ["--Lab19:Observability:Enabled=false", $"--Lab19:UserServicePort={DatabaseServer.FreePort()}", $"--Lab19:PointServicePort={DatabaseServer.FreePort()}"],
            (options, _) => options.DisableDashboard = true, TestContext.Current.CancellationToken);
        // Volumes of this test only, so a developer's lab data is never touched.
        foreach (var volume in builder.Resources.SelectMany(r => r.Annotations.OfType<ContainerMountAnnotation>()).Where(m => m.Type == ContainerMountType.Volume).ToList())
        {
            var owner = builder.Resources.Single(r => r.Annotations.Contains(volume));
            owner.Annotations.Remove(volume);
            owner.Annotations.Add(new ContainerMountAnnotation($"{volumePrefix}-{owner.Name}", volume.Target, ContainerMountType.Volume, isReadOnly: false));
        }
        var app = await builder.BuildAsync(TestContext.Current.CancellationToken);
        await app.StartAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromMinutes(10), TestContext.Current.CancellationToken);
        foreach (var name in new[] { "user-db", "point-db", "point-service", "user-service" })
        {
            await app.ResourceNotifications.WaitForResourceHealthyAsync(name, TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromMinutes(5), TestContext.Current.CancellationToken);
        }
        return app;
    }

    [Fact]
    public async Task The_lab_in_containers_serves_a_user_with_points_and_keeps_data_across_a_restart()
    {
        Assert.SkipUnless(Docker.IsAvailable() && await Docker.CanRunImagesAsync(await DatabaseImagesAsync()), NeedsDocker);
        var volumePrefix = $"lab19-test-{Guid.NewGuid():N}"[..24];
        PointDto created;

        await using (var app = await StartAsync(volumePrefix))
        {
            using var users = app.CreateHttpClient("user-service", "http");
            using var points = app.CreateHttpClient("point-service", "http");
            var user = await (await users.GetAsync("/api/v1/users/1", TestContext.Current.CancellationToken)).ReadAsync<UserWithPointsDto>();
            Assert.True(user.TotalPoints > 0);
            created = await (await points.PostAsync("/api/v1/points", Http.Json(new { userId = 1, points = 5 }), TestContext.Current.CancellationToken)).ReadAsync<PointDto>();
        }

        await using (var app = await StartAsync(volumePrefix))
        {
            using var points = app.CreateHttpClient("point-service", "http");
            Assert.Equal(created, await (await points.GetAsync($"/api/v1/points/{created.Id}", TestContext.Current.CancellationToken)).ReadAsync<PointDto>());
            using var users = app.CreateHttpClient("user-service", "http");
            Assert.Equal(100, (await (await users.GetAsync("/api/v1/users?limit=1000", TestContext.Current.CancellationToken)).ReadAsync<UserDto[]>()).Count(u => u.Email.EndsWith("@lab19.local")));
        }
    }
}
