// LocalPostgres: a private PostgreSQL run from Debian's binaries in a temporary data directory.
using Npgsql;

namespace Lab19.Tests.Infrastructure;

/// <summary>PostgreSQL run from its binaries; as root it runs as the 'postgres' user, since it refuses to run as root.</summary>
internal sealed class LocalPostgres(string name, string bin) : DatabaseServer(name)
{
    private readonly string _dir = Directory.CreateTempSubdirectory($"lab19-{name}-pg-").FullName;

    private string DataDir => Path.Combine(_dir, "data");

    /// <summary>The bin folder of the newest PostgreSQL installed under /usr/lib/postgresql, or null.</summary>
    public static string? FindBinaries() =>
        Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin"))
                .Where(d => File.Exists(Path.Combine(d, "postgres"))).OrderDescending().FirstOrDefault()
            : null;

    public override string ConnectionString(string database) =>
        $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database}";

    protected override async Task StartServerAsync()
    {
        if (!Directory.Exists(DataDir))
        {
            if (Processes.IsRoot) await Processes.RunAsync("chown", "postgres", _dir);
            await AsServerUser(Path.Combine(bin, "initdb"), "-D", DataDir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync");
        }
        string[] args = [Path.Combine(bin, "postgres"), "-D", DataDir, "-p", Port.ToString(), "-k", _dir,
            "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=300"];
        _ = Processes.IsRoot
            ? StartServerProcess("pg", "runuser", ["-u", "postgres", "--", .. args])
            : StartServerProcess("pg", args[0], args[1..]);
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
