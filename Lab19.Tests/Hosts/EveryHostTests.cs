using System.Diagnostics;
using System.Net.Sockets;
using Lab19.Tests.Infrastructure;

namespace Lab19.Tests;

/// <summary>
/// `dotnet run --project Lab19.AppHost` with no arguments, as a user runs it, on hosts without Docker: with the database servers installed
/// the lab runs, keeps its data across Ctrl+C and leaves no process behind, even when the AppHost is killed; with neither, and when the
/// start fails, the AppHost ends by itself with exit code 1 and a message, never a stack trace or a hang.
/// </summary>
[Collection(DefaultPortsCollection.Name)]
public sealed class EveryHostTests : IDisposable
{
    private readonly string _dataHome = AppHostProcess.NewDataHome();

    public void Dispose() => Directory.Delete(_dataHome, recursive: true);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task With_the_database_servers_and_no_Docker_the_lab_runs_and_keeps_its_data_across_Ctrl_C()
    {
        LocalServers.SkipUnlessInstalled();
        long created;
        await using (var lab = await AppHostProcess.StartWithDefaultsAsync(_dataHome))
        {
            using var users = new HttpClient { BaseAddress = lab.UserService };
            var user = await (await users.GetAsync("/api/v1/users/1", Ct)).ReadAsync<UserWithPointsDto>();
            Assert.Equal(1, user.Id);
            Assert.True(user.TotalPoints > 0 && user.RecentPoints.Length > 0, "user 1 has the seeded points");
            using var points = new HttpClient { BaseAddress = lab.PointService };
            created = (await (await points.PostAsync("/api/v1/points", Http.Json(new { userId = 1, points = 5, reason = "before Ctrl+C" }), Ct)).ReadAsync<PointDto>()).Id;

            // Ctrl+C: the AppHost exits with 0 and everything it started ends, the database servers included (AppHostProcess checks each).
            var (exitCode, _, _) = await lab.StopAsync();
            Assert.Equal(0, exitCode);
        }

        await using (var again = await AppHostProcess.StartWithDefaultsAsync(_dataHome))
        {
            using var points = new HttpClient { BaseAddress = again.PointService };
            var kept = await (await points.GetAsync($"/api/v1/points/{created}", Ct)).ReadAsync<PointDto>();
            Assert.Equal((1, 5, "before Ctrl+C"), (kept.UserId, kept.Points, kept.Reason));
            await again.StopAsync();
        }
    }

    [Fact]
    public async Task A_killed_AppHost_leaves_no_database_server_or_service_running()
    {
        LocalServers.SkipUnlessInstalled();
        await using var lab = await AppHostProcess.StartWithDefaultsAsync(_dataHome);

        // The orchestrator (DCP) watches the AppHost: when it dies, DCP stops what it started, the servers' shells stop the servers.
        await lab.CrashAsync();
    }

    [Fact]
    public async Task With_neither_Docker_nor_the_servers_the_AppHost_exits_with_1_within_30_s_saying_what_is_missing_and_the_ways_out()
    {
        // A host without the servers: this test's own mount namespace, where Debian's PostgreSQL and MariaDB directories are empty.
        var hidden = await Processes.ExecAsync("unshare", ["--mount", "--propagation", "private", "true"], cancellationToken: Ct);
        Prerequisite.SkipUnless(hidden.ExitCode == 0, $"Needs `unshare --mount` (root) to hide the installed database servers: {hidden.Error.Trim()}", installedByCi: true);
        string[] withoutServers = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
            "mount -t tmpfs tmpfs /usr/lib/postgresql && mount -t tmpfs tmpfs /usr/sbin && exec \"$@\"", "without-servers"];

        var clock = Stopwatch.StartNew();
        var result = await AppHostProcess.RunToEndAsync([], _dataHome, TimeSpan.FromSeconds(60), withoutServers);

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"took {clock.Elapsed}");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("Lab19 cannot start: The lab needs a Docker engine, or the PostgreSQL and MariaDB/MySQL server binaries on this host, and found neither.", result.Error);
        Assert.Contains("Cannot connect to the Docker daemon at unix:///nonexistent.sock", result.Error);
        Assert.Contains("sudo apt-get install -y postgresql mariadb-server", result.Error);
        Assert.Contains("--ConnectionStrings:userdb=", result.Error);
        AssertNoStackTrace(result);
        Assert.DoesNotContain("Distributed application starting", result.Output); // the orchestrator never started
    }

    [Fact]
    public async Task A_start_that_fails_ends_the_AppHost_with_1_and_one_line_instead_of_a_stack_trace()
    {
        LocalServers.SkipUnlessInstalled();
        // Another program (a second lab, say) holds the port of the AppHost's resource service: the AppHost's own start fails.
        using var taken = new TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        var port = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port;

        var clock = Stopwatch.StartNew();
        var result = await AppHostProcess.RunToEndAsync([], _dataHome, TimeSpan.FromMinutes(2), resourceServicePort: port);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"Lab19 stopped: ", result.Error);
        Assert.Contains(port.ToString(System.Globalization.CultureInfo.InvariantCulture), result.Error);
        AssertNoStackTrace(result);
        TestContext.Current.TestOutputHelper?.WriteLine($"exited after {clock.Elapsed.TotalSeconds:F1} s: {result.Error.Trim()}");
    }

    private static void AssertNoStackTrace(ProcessResult result) =>
        Assert.DoesNotMatch(@"(?m)^\s+at \S+\(|Unhandled exception", result.Output + result.Error);
}
