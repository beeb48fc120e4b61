// LocalPostgres: a private PostgreSQL run from Debian's binaries in a temporary data directory, with a per-run 'lab' role.
using Npgsql;

namespace Lab19.Tests.Infrastructure;

/// <summary>
/// PostgreSQL run from its binaries, with a 'lab' role that has a password generated per run (as the lab's own database has),
/// so that tests can check the password stays out of the services' logs. As root it runs as the 'postgres' user, since it refuses to run as root.
/// </summary>
internal sealed class LocalPostgres(string name, string bin) : DatabaseServer(name)
{
    private readonly string _dir = Directory.CreateTempSubdirectory($"lab19-{name}-pg-").FullName;
    private readonly string _password = Convert.ToHexString(Guid.NewGuid().ToByteArray());
    private bool _initialised;

    private string DataDir => Path.Combine(_dir, "data");

    /// <summary>The bin folder of the newest PostgreSQL installed under /usr/lib/postgresql, or null.</summary>
    public static string? FindBinaries() =>
        Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin"))
                .Where(d => File.Exists(Path.Combine(d, "postgres"))).OrderDescending().FirstOrDefault()
            : null;

    public override string ConnectionString(string database) =>
        $"Host=127.0.0.1;Port={Port};Username=lab;Password={_password};Database={database}";

    protected override async Task StartServerAsync()
    {
        if (!Directory.Exists(DataDir))
        {
            if (Processes.IsRoot) await Processes.RunAsync("chown", "postgres", _dir);
            // TCP needs a password; the server's own socket (in _dir, which only the server's user reaches) lets the harness in to create the role.
            await AsServerUser(Path.Combine(bin, "initdb"), "-D", DataDir, "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256",
                "-E", "UTF8", "--no-sync");
        }
        string[] args = [Path.Combine(bin, "postgres"), "-D", DataDir, "-p", Port.ToString(), "-k", _dir,
            "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=300"];
        _ = Processes.IsRoot
            ? StartServerProcess("pg", "runuser", ["-u", "postgres", "--", .. args])
            : StartServerProcess("pg", args[0], args[1..]);
        if (!_initialised)
        {
            await CreateLabRoleAsync();
            _initialised = true;
        }
    }

    /// <summary>Creates the 'lab' role through the server's socket, once the server accepts connections there.</summary>
    private async Task CreateLabRoleAsync()
    {
        for (var attempt = 1; ; attempt++)
        {
            ThrowIfServerExited();
            try
            {
                await using var postgres = new NpgsqlConnection($"Host={_dir};Port={Port};Username=postgres;Database=postgres;Pooling=false;Timeout=2");
                await postgres.OpenAsync();
                await using var create = postgres.CreateCommand();
                // CREATEDB: the services' migrations create their databases, as they do on the lab's own server.
                create.CommandText = $"CREATE ROLE lab LOGIN CREATEDB PASSWORD '{_password}'";
                await create.ExecuteNonQueryAsync();
                return;
            }
            catch (Exception e) when (attempt < 300 && e is NpgsqlException or IOException or System.Net.Sockets.SocketException)
            {
                await Task.Delay(100); // the socket is not there yet, or the server is still starting up
            }
        }
    }

    protected override async Task StopServerAsync()
    {
        if (ServerProcess is { HasExited: false } process)
        {
            // pg_ctl's "fast" shutdown: disconnects clients, then stops.
            await AsServerUser(Path.Combine(bin, "pg_ctl"), "stop", "-D", DataDir, "-m", "fast", "-w");
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }
        ForgetServerProcess();
    }

    protected override async Task PingAsync()
    {
        await using var connection = new NpgsqlConnection(ConnectionString("postgres") + ";Pooling=false;Timeout=2");
        await connection.OpenAsync();
    }

    protected override Task CleanUpAsync()
    {
        Directory.Delete(_dir, recursive: true);
        return Task.CompletedTask;
    }

    private static Task<string> AsServerUser(string file, params string[] args) =>
        Processes.IsRoot ? Processes.RunAsync("runuser", ["-u", "postgres", "--", file, .. args]) : Processes.RunAsync(file, args);
}
