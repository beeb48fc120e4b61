using System.Data.Common;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using MySqlConnector;
using Npgsql;

namespace Lab19.Tests.Infrastructure;

/// <summary>
/// A private database server for the tests: Debian's PostgreSQL or MariaDB binaries in a temporary data directory on a free
/// loopback port, or, where those are not installed, a Docker container. Tests can stop and start it to simulate an outage.
/// </summary>
// Hand-written in place of Testcontainers: it runs the servers from Debian's binaries where no image can be pulled.
public abstract class DatabaseServer : IAsyncDisposable
{
    protected DatabaseServer(string name) => Name = name;

    public string Name { get; }
    public int Port { get; } = FreePort();
    public bool IsRunning { get; private set; }

    /// <summary>A connection string for <paramref name="database"/> on this server (the database is created by the service's migrations).</summary>
    public abstract string ConnectionString(string database);

    public async Task StartAsync()
    {
        await StartServerAsync();
        await WaitUntilAnswersAsync(TimeSpan.FromSeconds(60));
        IsRunning = true;
    }

    public async Task StopAsync()
    {
        IsRunning = false;
        await StopServerAsync();
    }

    protected abstract Task StartServerAsync();
    protected abstract Task StopServerAsync();
    protected abstract Task PingAsync();

    private async Task WaitUntilAnswersAsync(TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await PingAsync();
                return;
            }
            catch (Exception e) when (deadline.Elapsed < timeout && e is DbException or SocketException or IOException or InvalidOperationException)
            {
                await Task.Delay(200);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopServerAsync();
        await CleanUpAsync();
        GC.SuppressFinalize(this);
    }

    protected virtual Task CleanUpAsync() => Task.CompletedTask;

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>PostgreSQL from Debian's binaries if installed, else a Docker container, else a clear failure.</summary>
    public static DatabaseServer PostgreSql(string name) =>
        PostgresBinaries.Find() is { } bin ? new LocalPostgres(name, bin)
        : Docker.IsAvailable() ? new DockerDatabase(name, DockerDatabase.Kind.Postgres)
        : throw Missing("PostgreSQL");

    /// <summary>MariaDB from Debian's binaries if installed, else a MySQL container, else a clear failure.</summary>
    public static DatabaseServer MySql(string name) =>
        File.Exists("/usr/sbin/mariadbd") ? new LocalMariaDb(name)
        : Docker.IsAvailable() ? new DockerDatabase(name, DockerDatabase.Kind.MySql)
        : throw Missing("MariaDB/MySQL");

    private static InvalidOperationException Missing(string what) => new(
        $"The tests need a real {what} server. Install the server binaries (Debian/Ubuntu: sudo apt-get install -y postgresql mariadb-server) " +
        "or start a Docker engine that can pull postgres:15 and mysql:8.4.");
}

internal static class Processes
{
    public static async Task<string> RunAsync(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args) psi.ArgumentList.Add(arg);
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited with {process.ExitCode}: {await stderr}{await stdout}");
        }
        return await stdout;
    }

    /// <summary>Starts a long-running server process, its output kept in a log file for when it fails.</summary>
    public static Process Start(string file, string logFile, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args) psi.ArgumentList.Add(arg);
        var process = Process.Start(psi)!;
        var log = new StreamWriter(logFile, append: true) { AutoFlush = true };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    public static bool IsRoot => Environment.UserName == "root";
}

internal static class PostgresBinaries
{
    public static string? Find() =>
        Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin"))
                .Where(d => File.Exists(Path.Combine(d, "postgres"))).OrderDescending().FirstOrDefault()
            : null;
}

/// <summary>PostgreSQL run from its binaries; as root it runs as the 'postgres' user, since it refuses to run as root.</summary>
internal sealed class LocalPostgres(string name, string bin) : DatabaseServer(name)
{
    private readonly string _dir = Directory.CreateTempSubdirectory($"lab19-{name}-pg-").FullName;
    private Process? _process;

    private string DataDir => Path.Combine(_dir, "data");

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
        _process = Processes.IsRoot
            ? Processes.Start("runuser", Path.Combine(Path.GetTempPath(), $"lab19-{Name}-pg.log"), ["-u", "postgres", "--", .. args])
            : Processes.Start(args[0], Path.Combine(Path.GetTempPath(), $"lab19-{Name}-pg.log"), args[1..]);
    }

    protected override async Task StopServerAsync()
    {
        if (_process is { HasExited: false })
        {
            // pg_ctl's "fast" shutdown: disconnects clients, then stops.
            await AsServerUser(Path.Combine(bin, "pg_ctl"), "stop", "-D", DataDir, "-m", "fast", "-w");
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }
        _process = null;
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

/// <summary>MariaDB run from its binaries, with a 'lab' account that has a password generated per run.</summary>
internal sealed class LocalMariaDb(string name) : DatabaseServer(name)
{
    private readonly string _dir = Directory.CreateTempSubdirectory($"lab19-{name}-mariadb-").FullName;
    private readonly string _password = Convert.ToHexString(Guid.NewGuid().ToByteArray());
    private Process? _process;
    private bool _initialised;

    private string DataDir => Path.Combine(_dir, "data");
    private string Socket => Path.Combine(_dir, "mysqld.sock");

    public override string ConnectionString(string database) =>
        $"Server=127.0.0.1;Port={Port};User ID=lab;Password={_password};Database={database}";

    protected override async Task StartServerAsync()
    {
        if (!Directory.Exists(DataDir))
        {
            await Processes.RunAsync("mariadb-install-db", "--no-defaults", $"--datadir={DataDir}", "--user=root",
                "--auth-root-authentication-method=socket", "--skip-test-db");
        }
        _process = Processes.Start("/usr/sbin/mariadbd", Path.Combine(Path.GetTempPath(), $"lab19-{Name}-mariadb.log"),
            "--no-defaults", $"--datadir={DataDir}", $"--socket={Socket}", $"--port={Port}", "--bind-address=127.0.0.1",
            "--user=root", "--skip-name-resolve", "--innodb-flush-log-at-trx-commit=2", "--max-connections=300",
            $"--pid-file={Path.Combine(_dir, "mysqld.pid")}", "--skip-log-bin");
        if (!_initialised)
        {
            await WaitForSocketAsync();
            await using var root = new MySqlConnection($"Server={Socket};Protocol=Unix;User ID=root;Pooling=false");
            await root.OpenAsync();
            await using var create = root.CreateCommand();
            create.CommandText = $"""
                CREATE USER 'lab'@'127.0.0.1' IDENTIFIED BY '{_password}';
                GRANT ALL PRIVILEGES ON *.* TO 'lab'@'127.0.0.1';
                DELETE FROM mysql.global_priv WHERE User = '';
                FLUSH PRIVILEGES;
                """;
            await create.ExecuteNonQueryAsync();
            _initialised = true;
        }
    }

    private async Task WaitForSocketAsync()
    {
        for (var i = 0; i < 300 && !File.Exists(Socket); i++)
        {
            if (_process is { HasExited: true })
            {
                throw new InvalidOperationException($"mariadbd exited with {_process.ExitCode}; see lab19-{Name}-mariadb.log in {Path.GetTempPath()}");
            }
            await Task.Delay(100);
        }
    }

    protected override async Task StopServerAsync()
    {
        if (_process is { HasExited: false })
        {
            await Processes.RunAsync("kill", "-TERM", _process.Id.ToString());
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }
        _process = null;
    }

    protected override async Task PingAsync()
    {
        await using var connection = new MySqlConnection($"Server=127.0.0.1;Port={Port};User ID=lab;Password={_password};Pooling=false;Connection Timeout=2");
        await connection.OpenAsync();
    }

    protected override Task CleanUpAsync()
    {
        Directory.Delete(_dir, recursive: true);
        return Task.CompletedTask;
    }
}

internal static class Docker
{
    public static bool IsAvailable()
    {
        var info = SucceedsAsync("info", "--format", "{{.ServerVersion}}");
        return info.Wait(TimeSpan.FromSeconds(10)) && info.Result;
    }

    /// <summary>Whether `docker args` exits with 0 (false also where the docker CLI is missing).</summary>
    public static async Task<bool> SucceedsAsync(params string[] args)
    {
        try
        {
            await Processes.RunAsync("docker", args);
            return true;
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException or TimeoutException)
        {
            return false;
        }
    }

    /// <summary>Whether the engine has <paramref name="image"/> or can pull it (no registry may be reachable).</summary>
    public static async Task<bool> HasOrCanPullAsync(string image) =>
        await SucceedsAsync("image", "inspect", image) || await SucceedsAsync("pull", "--quiet", image);
}

/// <summary>Where no server binaries are installed: the same server in a container (stop/start map to docker stop/start).</summary>
internal sealed class DockerDatabase(string name, DockerDatabase.Kind kind) : DatabaseServer(name)
{
    public enum Kind { Postgres, MySql }

    private readonly string _container = $"lab19-test-{name}-{Guid.NewGuid():N}"[..40];
    private readonly string _password = Convert.ToHexString(Guid.NewGuid().ToByteArray());
    private bool _created;

    public override string ConnectionString(string database) => kind == Kind.Postgres
        ? $"Host=127.0.0.1;Port={Port};Username=postgres;Password={_password};Database={database}"
        : $"Server=127.0.0.1;Port={Port};User ID=root;Password={_password};Database={database}";

    protected override async Task StartServerAsync()
    {
        if (_created)
        {
            await Processes.RunAsync("docker", "start", _container);
            return;
        }
        _ = kind == Kind.Postgres
            ? await Processes.RunAsync("docker", "run", "-d", "--name", _container, "-p", $"127.0.0.1:{Port}:5432",
                "-e", $"POSTGRES_PASSWORD={_password}", "docker.io/library/postgres:15")
            : await Processes.RunAsync("docker", "run", "-d", "--name", _container, "-p", $"127.0.0.1:{Port}:3306",
                "-e", $"MYSQL_ROOT_PASSWORD={_password}", "docker.io/library/mysql:8.4");
        _created = true;
    }

    protected override async Task StopServerAsync()
    {
        if (_created) await Processes.RunAsync("docker", "stop", _container);
    }

    protected override async Task PingAsync()
    {
        if (kind == Kind.Postgres)
        {
            await using var pg = new NpgsqlConnection(ConnectionString("postgres") + ";Pooling=false;Timeout=2");
            await pg.OpenAsync();
        }
        else
        {
            await using var my = new MySqlConnection($"Server=127.0.0.1;Port={Port};User ID=root;Password={_password};Pooling=false;Connection Timeout=2");
            await my.OpenAsync();
        }
    }

    protected override async Task CleanUpAsync()
    {
        if (_created) await Processes.RunAsync("docker", "rm", "-f", _container);
    }
}
