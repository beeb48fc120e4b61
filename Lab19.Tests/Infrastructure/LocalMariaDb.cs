// LocalMariaDb: a private MariaDB run from Debian's binaries in a temporary data directory, with a per-run 'lab' account.
using MySqlConnector;

namespace Lab19.Tests.Infrastructure;

/// <summary>MariaDB run from its binaries, with a 'lab' account that has a password generated per run.</summary>
internal sealed class LocalMariaDb(string name) : DatabaseServer(name)
{
    public const string Server = "/usr/sbin/mariadbd";

    private readonly string _dir = Directory.CreateTempSubdirectory($"lab19-{name}-mariadb-").FullName;
    private readonly string _password = Convert.ToHexString(Guid.NewGuid().ToByteArray());
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
        StartServerProcess("mariadb", Server,
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
            ThrowIfServerExited();
            await Task.Delay(100);
        }
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
        await using var connection = new MySqlConnection($"Server=127.0.0.1;Port={Port};User ID=lab;Password={_password};Pooling=false;Connection Timeout=2");
        await connection.OpenAsync();
    }

    protected override Task CleanUpAsync()
    {
        Directory.Delete(_dir, recursive: true);
        return Task.CompletedTask;
    }
}
