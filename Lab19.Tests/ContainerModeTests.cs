using Lab19.Tests.Infrastructure;

namespace Lab19.Tests;

/// <summary>The AppHost's default mode, with PostgreSQL and MySQL in containers: only where a Docker engine can run them.</summary>
public class ContainerModeTests
{
    private const string NeedsDocker =
        "Needs a Docker engine that has or can pull the postgres and mysql images; run on such a machine to cover the default container mode.";

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

    /// <summary>The database images of the default mode that the engine neither has nor can pull.</summary>
    private static async Task<List<string>> MissingImagesAsync()
    {
        await using var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Lab19_AppHost>(
            ["--Lab19:Observability:Enabled=false"], TestContext.Current.CancellationToken);
        var missing = new List<string>();
        foreach (var image in builder.Resources.SelectMany(r => r.Annotations.OfType<ContainerImageAnnotation>()))
        {
            var reference = $"{image.Registry}/{image.Image}:{image.Tag}";
            if (!await Docker.HasOrCanPullAsync(reference)) missing.Add(reference);
        }
        return missing;
    }

    [Fact]
    public async Task The_lab_in_containers_serves_a_user_with_points_and_keeps_data_across_a_restart()
    {
        var noDocker = Docker.WhyNotAvailable();
        Prerequisite.SkipUnless(noDocker is null, $"{NeedsDocker} {noDocker}", installedByCi: true);
        var missing = await MissingImagesAsync();
        Prerequisite.SkipUnless(missing.Count == 0, $"{NeedsDocker} Not available: {string.Join(", ", missing)}.", installedByCi: false);
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
