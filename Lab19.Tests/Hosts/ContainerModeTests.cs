using System.Diagnostics;
using System.Text.Json;
using Lab19.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Lab19.Tests;

/// <summary>
/// The AppHost's default mode, the databases in containers (Lab19:Databases=containers): PostgreSQL through Aspire.Hosting.PostgreSQL and
/// MySQL through the lab's MySql/, each on a data volume the orchestrator (DCP) creates, the services healthy on them, the data kept when
/// the whole AppHost stops and starts again. Where the Docker engine has or can pull the official postgres and mysql images, they run.
/// Where it cannot (no registry reachable), the test runs stand-ins for them, which are NOT the official images: images built from
/// Debian's own packages (PostgreSQL 15, and MariaDB 10.11 in place of MySQL), honouring only the part of the official images' contract
/// the AppHost relies on (its environment variables, the data volume, the port, a clean stop), and tagged with the AppHost's image
/// references in the local engine only (Infrastructure/StandInImages.cs, StandInImages/*.sh).
/// </summary>
public class ContainerModeTests
{
    private static readonly string[] Databases = ["user-db", "point-db"];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static void Log(string line) => TestContext.Current.TestOutputHelper?.WriteLine(line);

    /// <summary>The default mode's databases and services only: no lgtm, k6 or Beyla (the services run bare), the services on free ports.</summary>
    private static async Task<IDistributedApplicationTestingBuilder> CreateBuilderAsync(params string[] more) =>
        await DistributedApplicationTestingBuilder.CreateAsync<Projects.Lab19_AppHost>(
        [
            "--Lab19:Databases=containers", "--Lab19:Observability:Enabled=false", "--Lab19:Instrumentation=ebpf",
            $"--Lab19:UserServicePort={DatabaseServer.FreePort()}", $"--Lab19:PointServicePort={DatabaseServer.FreePort()}", .. more,
        ], (options, _) => options.DisableDashboard = true, Ct);

    private static IEnumerable<(IResource Owner, ContainerMountAnnotation Volume)> DataVolumes(IDistributedApplicationTestingBuilder builder) =>
        builder.Resources.SelectMany(r => r.Annotations.OfType<ContainerMountAnnotation>().Where(m => m.Type == ContainerMountType.Volume).Select(m => (r, m))).ToList();

    /// <summary>The model's images by resource: reference, container port and data volume target, as the AppHost declares them.</summary>
    private static async Task<Dictionary<string, StandInImages.ModelImage>> ModelImagesAsync()
    {
        await using var builder = await CreateBuilderAsync();
        var volumes = DataVolumes(builder).ToList();
        return builder.Resources.Where(r => r.TryGetLastAnnotation<ContainerImageAnnotation>(out _)).ToDictionary(r => r.Name, r =>
        {
            var image = r.Annotations.OfType<ContainerImageAnnotation>().Last();
            return new StandInImages.ModelImage($"{image.Registry}/{image.Image}:{image.Tag}", image.Image,
                r.Annotations.OfType<EndpointAnnotation>().SingleOrDefault()?.TargetPort,
                volumes.SingleOrDefault(v => v.Owner == r).Volume?.Target);
        });
    }

    private static async Task<DistributedApplication> StartAsync(string volumePrefix, string[] passwords)
    {
        var builder = await CreateBuilderAsync(passwords);
        // The AppHost's data volumes, at the model's mount targets, under names of this test's own: a user's lab data is never touched.
        foreach (var (owner, volume) in DataVolumes(builder))
        {
            owner.Annotations.Remove(volume);
            owner.Annotations.Add(new ContainerMountAnnotation($"{volumePrefix}-{owner.Name}", volume.Target, ContainerMountType.Volume, isReadOnly: false));
        }
        var app = await builder.BuildAsync(Ct);
        var clock = Stopwatch.StartNew();
        await app.StartAsync(Ct).WaitAsync(TimeSpan.FromMinutes(5), Ct);
        foreach (var name in new[] { "user-db", "userdb", "point-db", "pointdb", "point-service", "user-service" })
        {
            await app.ResourceNotifications.WaitForResourceHealthyAsync(name, Ct).WaitAsync(TimeSpan.FromMinutes(3), Ct);
        }
        Log($"healthy {clock.Elapsed.TotalSeconds:F0} s after the start");
        return app;
    }

    /// <summary>The running container on <paramref name="volume"/>: its image and where it mounts the volume.</summary>
    private static async Task<(string Image, string Target)> ContainerOnAsync(string volume)
    {
        var id = (await Processes.RunAsync("docker", "ps", "--quiet", "--filter", $"volume={volume}")).Trim();
        Assert.False(id.Length == 0 || id.Contains('\n'), $"one running container on the volume {volume}, not '{id}'");
        var container = JsonDocument.Parse(await Processes.RunAsync("docker", "inspect", id)).RootElement[0];
        var mount = container.GetProperty("Mounts").EnumerateArray().Single(m => m.GetProperty("Name").GetString() == volume);
        return (container.GetProperty("Config").GetProperty("Image").GetString()!, mount.GetProperty("Destination").GetString()!);
    }

    /// <summary>What a resource's console has shown so far.</summary>
    private static async Task<List<string>> ConsoleAsync(DistributedApplication app, string resource)
    {
        var lines = new List<string>();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cts.CancelAfter(TimeSpan.FromSeconds(3));
        try
        {
            var owner = app.Services.GetRequiredService<DistributedApplicationModel>().Resources.Single(r => r.Name == resource);
            await foreach (var batch in app.Services.GetRequiredService<ResourceLoggerService>().WatchAsync(owner).WithCancellation(cts.Token))
            {
                lines.AddRange(batch.Select(l => l.Content));
            }
        }
        catch (OperationCanceledException) when (!Ct.IsCancellationRequested)
        {
            // the backlog has been read: the watch only ends when cancelled
        }
        return lines;
    }

    /// <summary>Removes the test's volumes once the orchestrator has removed their containers; returns those still there after a minute.</summary>
    private static async Task<List<string>> RemoveVolumesAsync(IEnumerable<string> volumes)
    {
        var left = volumes.ToList();
        for (var i = 0; i < 60 && left.Count > 0; i++)
        {
            foreach (var volume in left.ToList())
            {
                if (await Docker.TryAsync(["volume", "inspect", volume]) is not { ExitCode: 0 } || await Docker.SucceedsAsync("volume", "rm", volume)) left.Remove(volume);
            }
            if (left.Count > 0) await Task.Delay(1000, CancellationToken.None);
        }
        return left;
    }

    [Fact]
    public async Task The_lab_in_containers_serves_a_user_with_points_and_keeps_data_across_a_restart()
    {
        var noDocker = Docker.WhyNotAvailable();
        Prerequisite.SkipUnless(noDocker is null, $"Needs a Docker engine for the default container mode: {noDocker}", installedByCi: true);
        var clock = Stopwatch.StartNew();
        var model = await ModelImagesAsync();
        Assert.Equal(Databases.Order(), model.Keys.Order());
        var images = await StandInImages.EnsureAsync([.. model.Values]);
        Prerequisite.SkipUnless(images.Missing is null, images.Missing ?? "", installedByCi: true);
        Log($"images ready in {clock.Elapsed.TotalSeconds:F0} s:");
        foreach (var used in images.Used) Log($"  {used}");

        var volumePrefix = $"lab19-test-{Guid.NewGuid():N}"[..24];
        var volumes = Databases.Select(d => $"{volumePrefix}-{d}").ToList();
        // The passwords a user's AppHost keeps in its user secrets: the same at every start, as the volumes need (the images set them once).
        string[] passwords = [.. Databases.Select(d => $"--Parameters:{d}-password={Convert.ToHexString(Guid.NewGuid().ToByteArray())}")];
        List<string> leftVolumes;
        try
        {
            PointDto created;
            await using (var app = await StartAsync(volumePrefix, passwords))
            {
                // The containers run the model's images, on this test's volumes at the model's mount targets.
                foreach (var (database, volume) in Databases.Zip(volumes))
                {
                    Assert.Equal((model[database].Reference, model[database].DataVolume!), await ContainerOnAsync(volume));
                }
                using var users = app.CreateHttpClient("user-service", "http");
                using var points = app.CreateHttpClient("point-service", "http");
                // The first call crosses both services with their JIT still cold; on a loaded machine point-service may answer late, and
                // user-service then says 503 "try again shortly", as a client is meant to.
                var user = await (await GetAsTheApiAsksAsync(users, "/api/v1/users/1")).ReadAsync<UserWithPointsDto>();
                Assert.True(user.TotalPoints > 0 && user.RecentPoints.Length > 0, "user 1 has the seeded points");
                created = await (await points.PostAsync("/api/v1/points", Http.Json(new { userId = 1, points = 5, reason = "before the restart" }), Ct)).ReadAsync<PointDto>();
            }

            // The whole AppHost again: new containers on the same volumes.
            await using (var app = await StartAsync(volumePrefix, passwords))
            {
                // The first run's stop was clean: the servers found their data shut down, not in need of recovery.
                Assert.Contains(await ConsoleAsync(app, "user-db"), l => l.Contains("database system was shut down at", StringComparison.Ordinal));
                var pointDb = await ConsoleAsync(app, "point-db");
                Assert.Contains(pointDb, l => l.Contains("ready for connections", StringComparison.Ordinal));
                Assert.DoesNotContain(pointDb, l => l.Contains("crash recovery", StringComparison.OrdinalIgnoreCase));
                using var points = app.CreateHttpClient("point-service", "http");
                Assert.Equal(created, await (await points.GetAsync($"/api/v1/points/{created.Id}", Ct)).ReadAsync<PointDto>());
                using var users = app.CreateHttpClient("user-service", "http");
                var seeded = (await (await users.GetAsync("/api/v1/users?limit=1000", Ct)).ReadAsync<UserDto[]>()).Count(u => u.Email.EndsWith("@lab19.local", StringComparison.Ordinal));
                Assert.Equal(100, seeded); // kept, and not seeded twice
            }
        }
        finally
        {
            leftVolumes = await RemoveVolumesAsync(volumes);
        }
        Assert.True(leftVolumes.Count == 0, $"volumes left behind: {string.Join(", ", leftVolumes)}");
        Log($"test done in {clock.Elapsed.TotalSeconds:F0} s");
    }

    /// <summary>A GET that follows a 503's Retry-After (or waits a second), three attempts at most.</summary>
    private static async Task<HttpResponseMessage> GetAsTheApiAsksAsync(HttpClient client, string path)
    {
        for (var attempt = 1; ; attempt++)
        {
            var response = await client.GetAsync(path, Ct);
            if (response.StatusCode != HttpStatusCode.ServiceUnavailable || attempt == 3) return response;
            await Task.Delay(response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1), Ct);
        }
    }
}
