// LocalDatabaseServer: a private PostgreSQL or MariaDB for the tests, run the way the AppHost runs the host's servers (Lab19.AppHost/LocalDatabases/).
using System.Diagnostics;
using MySqlConnector;
using Npgsql;

namespace Lab19.Tests.Infrastructure;

/// <summary>
/// A server from the host's binaries in a temporary directory, prepared and started by the AppHost's own <see cref="LocalServer"/>
/// (data directory, password, command line, the shell that stops it), as a plain process instead of a resource. A password generated
/// per run; durability traded for speed; stopped as the orchestrator stops it (TERM to its shell).
/// </summary>
internal sealed class LocalDatabaseServer : DatabaseServer
{
    private readonly LocalServer _binaries;
    private readonly string _directory;
    private readonly string _password = Convert.ToHexString(Guid.NewGuid().ToByteArray());
    private bool _prepared;

    private LocalDatabaseServer(string name, LocalServer binaries) : base(name)
    {
        _binaries = binaries;
        var temp = Directory.CreateTempSubdirectory($"lab19-{name}-{(binaries is LocalPostgres ? "pg" : "mariadb")}-");
        // Reachable by the postgres account when the tests run as root (LocalServer.Locate would otherwise move the files to its home).
        if (!OperatingSystem.IsWindows()) temp.UnixFileMode |= UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
        _directory = Path.Combine(temp.FullName, "server");
    }

    public static DatabaseServer? FromHostPostgreSql(string name) =>
        LocalPostgres.Find(new HostProbe()).Server is { } binaries ? new LocalDatabaseServer(name, binaries) : null;

    public static DatabaseServer? FromHostMySql(string name) =>
        LocalMySql.Find(new HostProbe()).Server is { } binaries ? new LocalDatabaseServer(name, binaries) : null;

    public override string ConnectionString(string database) => _binaries is LocalPostgres
        ? $"Host=127.0.0.1;Port={Port};Username={LocalPostgres.UserName};Password={_password};Database={database}"
        : $"Server=127.0.0.1;Port={Port};User ID={LocalMySql.UserName};Password={_password};Database={database}";

    protected override async Task StartServerAsync()
    {
        if (!_prepared)
        {
            await _binaries.ClaimAsync(_directory, LabOwner.ForThisProcess(), CancellationToken.None);
            await _binaries.PrepareAsync(_directory, _password, CancellationToken.None);
            _prepared = true;
        }
        var args = _binaries switch
        {
            LocalPostgres pg => pg.ServerArguments(_directory, Port, durable: false, maxConnections: 300),
            LocalMySql my => my.ServerArguments(_directory, Port, durable: false, maxConnections: 300),
            _ => throw new UnreachableException(),
        };
        StartServerProcess(_binaries is LocalPostgres ? "pg" : "mariadb", LocalServer.Shell, [.. args.Select(a => a.ToString()!)]);
    }

    protected override async Task StopServerAsync()
    {
        if (ServerProcess is { HasExited: false } process)
        {
            await Processes.TerminateAsync(process);
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }
        ForgetServerProcess();
    }

    protected override async Task PingAsync()
    {
        if (_binaries is LocalPostgres)
        {
            await using var pg = new NpgsqlConnection(ConnectionString("postgres") + ";Pooling=false;Timeout=2");
            await pg.OpenAsync();
        }
        else
        {
            await using var my = new MySqlConnection(ConnectionString("") + ";Pooling=false;Connection Timeout=2");
            await my.OpenAsync();
        }
    }

    protected override Task CleanUpAsync()
    {
        Directory.Delete(Path.GetDirectoryName(_directory)!, recursive: true);
        return Task.CompletedTask;
    }
}
