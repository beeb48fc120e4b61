// DatabaseServer: a private PostgreSQL or MariaDB server for the tests (what every kind shares, and the factory that picks one).
using System.Data.Common;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Lab19.Tests.Infrastructure;

/// <summary>
/// A private database server for the tests: the host's PostgreSQL or MariaDB binaries in a temporary data directory on a free
/// loopback port, run by the AppHost's own code for local servers (<see cref="LocalDatabaseServer"/>), or, where those are not
/// installed, a Docker container (<see cref="DockerDatabase"/>). Tests can stop and start it to simulate an outage.
/// </summary>
// Hand-written in place of Testcontainers: it runs the servers from the host's binaries where no image can be pulled.
public abstract class DatabaseServer : IAsyncDisposable
{
    /// <summary>How often a first start tries a new port when another process took the chosen one before the server bound it.</summary>
    public const int BindAttempts = 3;

    private Process? _process;
    private string? _logFile;
    private long _logStart;
    private bool _everStarted;

    protected DatabaseServer(string name) => Name = name;

    public string Name { get; }
    public int Port { get; private set; } = FreePort();
    public bool IsRunning { get; private set; }

    /// <summary>The server process of a server run from its binaries (null for a container, or when stopped).</summary>
    protected Process? ServerProcess => _process;

    /// <summary>A connection string for <paramref name="database"/> on this server (the database is created by the service's migrations).</summary>
    public abstract string ConnectionString(string database);

    /// <summary>
    /// Starts the server and waits until it answers. On the first start, a server that exits because its port was taken between
    /// <see cref="FreePort"/> and its bind is started again on a new port (restarts keep the port: connection strings name it).
    /// </summary>
    public async Task StartAsync()
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await StartServerAsync();
                await WaitUntilAnswersAsync(TimeSpan.FromSeconds(60));
                break;
            }
            catch (PortTakenException) when (!_everStarted && attempt < BindAttempts)
            {
                _process = null;
                Port = FreePort();
            }
        }
        _everStarted = true;
        IsRunning = true;
    }

    public async Task StopAsync()
    {
        IsRunning = false;
        await StopServerAsync();
    }

    /// <summary>Creates an empty database, as the AppHost does before a service starts.</summary>
    public async Task CreateDatabaseAsync(string database)
    {
        var server = ConnectionString(database);
        await using DbConnection connection = server.StartsWith("Host=", StringComparison.Ordinal)
            ? new Npgsql.NpgsqlConnection(ConnectionString("postgres"))
            : new MySqlConnector.MySqlConnection(ConnectionString(""));
        await connection.OpenAsync();
        await using var create = connection.CreateCommand();
        create.CommandText = $"CREATE DATABASE {database}";
        await create.ExecuteNonQueryAsync();
    }

    protected abstract Task StartServerAsync();
    protected abstract Task StopServerAsync();
    protected abstract Task PingAsync();

    /// <summary>Starts the server process, its output appended to lab19-&lt;name&gt;-&lt;kind&gt;.log in the temp folder.</summary>
    protected Process StartServerProcess(string kind, string file, params string[] args)
    {
        _logFile = Path.Combine(Path.GetTempPath(), $"lab19-{Name}-{kind}.log");
        _logStart = File.Exists(_logFile) ? new FileInfo(_logFile).Length : 0;
        return _process = Processes.Start(file, _logFile, args);
    }

    protected void ForgetServerProcess() => _process = null;

    /// <summary>Throws if the server process has exited: a bind failure as <see cref="PortTakenException"/>, anything else with its log.</summary>
    protected void ThrowIfServerExited()
    {
        if (_process is not { HasExited: true } process) return;
        process.WaitForExit(); // with redirected output: returns once the last lines have reached the log
        var log = ReadLogSinceStart();
        if (log.Contains("Address already in use", StringComparison.Ordinal)) throw new PortTakenException(Port, log);
        throw new InvalidOperationException($"The {Name} server exited with {process.ExitCode} (log: {_logFile}):\n{log}");
    }

    private string ReadLogSinceStart()
    {
        using var stream = new FileStream(_logFile!, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        stream.Seek(Math.Min(_logStart, stream.Length), SeekOrigin.Begin);
        return new StreamReader(stream).ReadToEnd();
    }

    private async Task WaitUntilAnswersAsync(TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            ThrowIfServerExited();
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

    /// <summary>PostgreSQL from the host's binaries if installed, else a Docker container, else a clear failure.</summary>
    public static DatabaseServer PostgreSql(string name) =>
        LocalDatabaseServer.FromHostPostgreSql(name)
        ?? (Docker.IsAvailable() ? new DockerDatabase(name, DockerDatabase.Kind.Postgres) : throw Missing("PostgreSQL"));

    /// <summary>MariaDB (or MySQL) from the host's binaries if installed, else a MySQL container, else a clear failure.</summary>
    public static DatabaseServer MySql(string name) =>
        LocalDatabaseServer.FromHostMySql(name)
        ?? (Docker.IsAvailable() ? new DockerDatabase(name, DockerDatabase.Kind.MySql) : throw Missing("MariaDB/MySQL"));

    private static InvalidOperationException Missing(string what) => new(
        $"The tests need a real {what} server. Install the server binaries (Debian/Ubuntu: sudo apt-get install -y postgresql mariadb-server) " +
        "or start a Docker engine that can pull postgres:15 and mysql:8.4.");

    /// <summary>The server exited because another process held its port.</summary>
    protected sealed class PortTakenException(int port, string log) : Exception($"port {port} was taken before the server bound it:\n{log}");
}
