// DockerDatabase: the same private server in a postgres:15 or mysql:8.4 container, where the Debian binaries are not installed.
using MySqlConnector;
using Npgsql;

namespace Lab19.Tests.Infrastructure;

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
