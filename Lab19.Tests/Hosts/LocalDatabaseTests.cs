using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Lab19.Tests.Infrastructure;
using Microsoft.Extensions.Configuration.UserSecrets;
using Microsoft.Extensions.DependencyInjection;
using MySqlConnector;
using Npgsql;

namespace Lab19.Tests;

/// <summary>
/// PostgreSQL and MariaDB from the host's binaries as resources of a graph (LocalDatabases/): they start healthy with a generated
/// password, keep their data across Stop/Start and across runs, leave no process behind, stop what a crashed run left, and refuse
/// a data directory another live AppHost uses.
/// </summary>
public sealed class LocalDatabaseTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("lab19-localdb-");

    public LocalDatabaseTests()
    {
        // Reachable by the postgres account when the tests run as root (otherwise the files would move to its home).
        if (!OperatingSystem.IsWindows()) _root.UnixFileMode |= UnixFileMode.OtherExecute;
    }

    public void Dispose() => _root.Delete(recursive: true);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A graph of the two local servers and their databases, their files under this test's directory.</summary>
    private IDistributedApplicationBuilder Graph(string? userPassword = null)
    {
        var builder = TestAppHost.CreateBuilder([]);
        var password = userPassword is null ? null : builder.AddParameter("user-db-password", userPassword, secret: true);
        builder.AddLocalPostgres("user-db", password).WithDataDirectory(Path.Combine(_root.FullName, "user-db")).AddDatabase("userdb");
        builder.AddLocalMySql("point-db").WithDataDirectory(Path.Combine(_root.FullName, "point-db")).AddDatabase("pointdb");
        return builder;
    }

    /// <summary>A started graph; disposing it stops it as Ctrl+C does (the orchestrator stops every resource), then disposes it.</summary>
    private sealed class Running(DistributedApplication app) : IAsyncDisposable
    {
        public DistributedApplication App { get; } = app;

        public async ValueTask DisposeAsync()
        {
            await App.StopAsync(Ct).WaitAsync(Timeout, Ct);
            await App.DisposeAsync();
        }
    }

    private static async Task<Running> StartAsync(IDistributedApplicationBuilder builder)
    {
        var app = builder.Build();
        await app.StartAsync(Ct).WaitAsync(Timeout, Ct);
        return new Running(app);
    }

    private static async Task<Running> StartHealthyAsync(IDistributedApplicationBuilder builder)
    {
        var running = await StartAsync(builder);
        var app = running.App;
        foreach (var name in new[] { "user-db", "userdb", "point-db", "pointdb" })
        {
            try
            {
                await app.ResourceNotifications.WaitForResourceHealthyAsync(name, Ct).WaitAsync(Timeout, Ct);
            }
            catch (Exception e) when (e is DistributedApplicationException or TimeoutException)
            {
                var server = name.Contains('-') ? name : name.Replace("db", "-db", StringComparison.Ordinal); // userdb's server is user-db
                throw new InvalidOperationException($"{name} did not become healthy: {e.Message}\n  {string.Join("\n  ", (await ConsoleAsync(app, server)).TakeLast(20))}", e);
            }
        }
        return running;
    }

    private static async Task<string> ConnectionStringAsync(DistributedApplication app, string name)
    {
        var model = app.Services.GetRequiredService<DistributedApplicationModel>();
        var resource = (IResourceWithConnectionString)model.Resources.Single(r => r.Name == name);
        return (await resource.GetConnectionStringAsync(Ct))!;
    }

    private static async Task<object?> PostgresScalarAsync(DistributedApplication app, string sql)
    {
        await using var connection = new NpgsqlConnection(await ConnectionStringAsync(app, "userdb"));
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync(Ct);
    }

    private static async Task<object?> MySqlScalarAsync(DistributedApplication app, string sql)
    {
        await using var connection = new MySqlConnection(await ConnectionStringAsync(app, "pointdb"));
        await connection.OpenAsync(Ct);
        await using var command = new MySqlCommand(sql, connection);
        return await command.ExecuteScalarAsync(Ct);
    }

    /// <summary>The server process running on a server directory (from its pid file), or null.</summary>
    private int? ServerPid(string resource)
    {
        LocalServer binaries = resource == "user-db" ? LocalPostgres.Find(new HostProbe()).Server! : LocalMySql.Find(new HostProbe()).Server!;
        using var server = binaries.RunningServer(Path.Combine(_root.FullName, resource));
        return server?.Id;
    }

    [Fact]
    public async Task The_servers_start_healthy_keep_their_data_across_Stop_Start_and_runs_and_leave_no_process_behind()
    {
        LocalServers.SkipUnlessInstalled();
        int userDbPid, pointDbPid;
        await using (var run = await StartHealthyAsync(Graph()))
        {
            var app = run.App;
            await PostgresScalarAsync(app, "CREATE TABLE kept (id int); INSERT INTO kept VALUES (42)");
            await MySqlScalarAsync(app, "CREATE TABLE kept (id int); INSERT INTO kept VALUES (43)");
            userDbPid = ServerPid("user-db") ?? throw new InvalidOperationException("user-db has no server process");
            pointDbPid = ServerPid("point-db") ?? throw new InvalidOperationException("point-db has no server process");

            // The dashboard's Stop and Start.
            foreach (var name in new[] { "user-db", "point-db" })
            {
                Assert.True((await app.ResourceCommands.ExecuteCommandAsync(name, KnownResourceCommands.StopCommand, Ct)).Success);
                await app.ResourceNotifications.WaitForResourceAsync(name, KnownResourceStates.TerminalStates, Ct).WaitAsync(Timeout, Ct);
            }
            Assert.Null(ServerPid("user-db"));
            Assert.Null(ServerPid("point-db"));
            Assert.False(ProcessRuns(userDbPid) || ProcessRuns(pointDbPid), "a stopped server's process still runs");
            foreach (var name in new[] { "user-db", "point-db" })
            {
                Assert.True((await app.ResourceCommands.ExecuteCommandAsync(name, KnownResourceCommands.StartCommand, Ct)).Success);
            }
            foreach (var name in new[] { "user-db", "userdb", "point-db", "pointdb" })
            {
                await app.ResourceNotifications.WaitForResourceHealthyAsync(name, Ct).WaitAsync(Timeout, Ct);
            }
            Assert.Equal(42, await PostgresScalarAsync(app, "SELECT id FROM kept"));
            Assert.Equal(43, await MySqlScalarAsync(app, "SELECT id FROM kept"));
            userDbPid = ServerPid("user-db")!.Value;
            pointDbPid = ServerPid("point-db")!.Value;
        }

        Assert.False(ProcessRuns(userDbPid), $"user-db's server (pid {userDbPid}) outlived the AppHost");
        Assert.False(ProcessRuns(pointDbPid), $"point-db's server (pid {pointDbPid}) outlived the AppHost");

        await using (var run = await StartHealthyAsync(Graph()))
        {
            var again = run.App;
            Assert.Equal(42, await PostgresScalarAsync(again, "SELECT id FROM kept"));
            Assert.Equal(43, await MySqlScalarAsync(again, "SELECT id FROM kept"));
        }
    }

    [Fact]
    public async Task The_passwords_it_generates_go_into_the_test_runs_own_user_secrets_never_a_developers()
    {
        static async Task<string?> ReadAsync(string file) => File.Exists(file) ? await File.ReadAllTextAsync(file, Ct) : null;
        var developers = await ReadAsync(UserSecretsOfTests.DevelopersFile);

        // The graph's password parameters are generated (none is configured), and Aspire saves each one it generates.
        var builder = Graph();
        using var app = builder.Build();
        var passwords = builder.Resources.OfType<LocalDatabaseServerResource>().Select(server => server.PasswordParameter).ToList();
        Assert.Equal(["user-db-password", "point-db-password"], passwords.Select(p => p.Name));
        var values = new Dictionary<string, string?>();
        foreach (var password in passwords) values[password.Name] = await password.GetValueAsync(Ct);

        Assert.Equal(developers, await ReadAsync(UserSecretsOfTests.DevelopersFile));
        var ownStore = PathHelper.GetSecretsPathFromSecretsId(UserSecretsOfTests.Id);
        var saved = JsonDocument.Parse(await File.ReadAllTextAsync(ownStore, Ct)).RootElement;
        Assert.All(values, v => Assert.Equal(v.Value, saved.GetProperty($"Parameters:{v.Key}").GetString()));
    }

    [Fact]
    public async Task A_services_account_has_its_database_and_nothing_else()
    {
        LocalServers.SkipUnlessInstalled();
        var builder = TestAppHost.CreateBuilder([]);
        builder.AddLocalMySql("point-db").WithDataDirectory(Path.Combine(_root.FullName, "point-db")).AddDatabase("pointdb").AddAccount("point-service-account", "point_service");
        await using var run = await StartAsync(builder);
        await run.App.ResourceNotifications.WaitForResourceHealthyAsync("point-service-account", Ct).WaitAsync(Timeout, Ct);

        await using var account = new MySqlConnection(await ConnectionStringAsync(run.App, "point-service-account"));
        await account.OpenAsync(Ct);
        Assert.Equal("point_service", new MySqlConnectionStringBuilder(account.ConnectionString).UserID);
        await new MySqlCommand("CREATE TABLE kept (id int); INSERT INTO kept VALUES (1)", account).ExecuteNonQueryAsync(Ct);
        var denied = await Assert.ThrowsAsync<MySqlException>(() => new MySqlCommand("SELECT COUNT(*) FROM mysql.user", account).ExecuteScalarAsync(Ct));
        Assert.Equal(MySqlErrorCode.TableAccessDenied, denied.ErrorCode);
        await Assert.ThrowsAsync<MySqlException>(() => new MySqlCommand("CREATE DATABASE elsewhere", account).ExecuteNonQueryAsync(Ct));
    }

    [Fact]
    public async Task A_new_password_parameter_is_accepted_by_data_made_with_the_old_one()
    {
        LocalServers.SkipUnlessInstalled();
        await using (var run = await StartHealthyAsync(Graph(userPassword: "first-Pa55'word")))
        {
            var first = run.App;
            await PostgresScalarAsync(first, "CREATE TABLE kept (id int); INSERT INTO kept VALUES (7)");
        }
        // As after clearing the AppHost's user secrets: a newly generated password, the same data.
        await using var run2 = await StartHealthyAsync(Graph(userPassword: "second\\pa55\"word"));
        var second = run2.App;
        Assert.Equal(7, await PostgresScalarAsync(second, "SELECT id FROM kept"));
    }

    [Fact]
    public async Task A_server_left_running_by_a_crashed_run_is_stopped_before_the_start()
    {
        LocalServers.SkipUnlessInstalled();
        await using (await StartHealthyAsync(Graph()))
        {
        }
        // A crashed run: its servers still run, and the AppHost that owned them is gone.
        var directory = Path.Combine(_root.FullName, "user-db");
        var leftover = await StartLeftoverAsync(directory);
        OwnedBy(directory, new LabOwner(1, 0, "crashed")); // pid 1 runs, but has another start time: not that AppHost

        await using var run = await StartHealthyAsync(Graph());
        var app = run.App;
        Assert.False(ProcessRuns(leftover.Id), $"the leftover server (pid {leftover.Id}) still runs");
        Assert.NotEqual(leftover.Id, ServerPid("user-db"));
        Assert.Contains(await ConsoleAsync(app, "user-db"), l => l.Contains($"Stopped the server (pid {leftover.Id}) that an earlier run of the lab left running"));
    }

    [Fact]
    public async Task A_data_directory_another_live_AppHost_runs_is_refused_and_its_server_kept()
    {
        LocalServers.SkipUnlessInstalled();
        await using (await StartHealthyAsync(Graph()))
        {
        }
        var directory = Path.Combine(_root.FullName, "user-db");
        var server = await StartLeftoverAsync(directory);
        using var otherAppHost = Process.Start("sleep", "300");
        OwnedBy(directory, new LabOwner(otherAppHost.Id, otherAppHost.StartTime.ToUniversalTime().Ticks / TimeSpan.TicksPerSecond, "other"));
        try
        {
            await using var run = await StartAsync(Graph());
            var app = run.App;
            await app.ResourceNotifications.WaitForResourceAsync("user-db", KnownResourceStates.FailedToStart, Ct).WaitAsync(Timeout, Ct);
            Assert.Contains(await ConsoleAsync(app, "user-db"), l => l.Contains($"is in use by another Lab19 AppHost (pid {otherAppHost.Id})"));
            Assert.True(ProcessRuns(server.Id), "the other AppHost's server was stopped");
        }
        finally
        {
            otherAppHost.Kill();
            server.Kill(entireProcessTree: true);
            await server.WaitForExitAsync(Ct);
        }
    }

    /// <summary>Starts user-db's server on <paramref name="directory"/> outside any AppHost, as a crashed run leaves it.</summary>
    private async Task<Process> StartLeftoverAsync(string directory)
    {
        var postgres = LocalPostgres.Find(new HostProbe()).Server!;
        var args = postgres.ServerArguments(directory, DatabaseServer.FreePort(), durable: false, maxConnections: null);
        var shell = Processes.Start(new ProcessStartInfo(LocalServer.Shell, args.Select(a => a.ToString()!)), _ => { });
        for (var i = 0; i < 100 && ServerPid("user-db") is null; i++) await Task.Delay(100, Ct);
        var pid = ServerPid("user-db") ?? throw new InvalidOperationException("the leftover server did not start");
        shell.Dispose();
        return Process.GetProcessById(pid);
    }

    private static void OwnedBy(string directory, LabOwner owner) => owner.WriteTo(directory);

    private static bool ProcessRuns(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static async Task<List<string>> ConsoleAsync(DistributedApplication app, string resource)
    {
        var lines = new List<string>();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cts.CancelAfter(TimeSpan.FromSeconds(3));
        try
        {
            var model = app.Services.GetRequiredService<DistributedApplicationModel>();
            await foreach (var batch in app.Services.GetRequiredService<ResourceLoggerService>().WatchAsync(model.Resources.Single(r => r.Name == resource)).WithCancellation(cts.Token))
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
}
