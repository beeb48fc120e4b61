namespace Lab19.AppHost;

/// <summary>
/// A MariaDB or MySQL installed on the host, run from its own binaries. Both run as root when told to (<c>--user=root</c>); the lab's
/// account is <c>root</c> from 127.0.0.1 with the generated password, as in the mysql container image.
/// </summary>
internal sealed class LocalMySql(string serverFile, bool isMariaDb, string? installDb, bool asRoot) : LocalServer(serverFile, runAs: null)
{
    /// <summary>The account the lab connects as.</summary>
    public const string UserName = "root";

    public bool IsMariaDb { get; } = isMariaDb;

    protected override string StopSignal => "TERM"; // a normal shutdown, which closes the clients' connections

    public override string PidFile(string serverDirectory) => Path.Combine(serverDirectory, "mysqld.pid");

    private static string InitFile(string serverDirectory) => Path.Combine(serverDirectory, "init.sql");

    private static string TempPath(string serverDirectory) => Path.Combine(serverDirectory, "tmp");

    /// <summary>mariadbd (preferred) or mysqld, with the tool that makes a MariaDB data directory, or why none can be used.</summary>
    public static LocalServerSearch<LocalMySql> Find(IHostProbe probe)
    {
        if (!probe.IsLinux && !probe.IsMacOS) return new(null, "the lab runs database servers from their binaries on Linux and macOS only");
        string[] directories =
        [
            .. (probe.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries),
            "/usr/sbin", "/usr/local/sbin", "/usr/bin", "/usr/local/bin", // Debian, Ubuntu, RHEL (the server is in sbin, outside a user's PATH)
            "/opt/homebrew/opt/mariadb/bin", "/usr/local/opt/mariadb/bin", "/opt/homebrew/opt/mysql/bin", "/usr/local/opt/mysql/bin", // Homebrew
        ];
        var server = new[] { "mariadbd", "mysqld" }.SelectMany(name => directories.Select(d => Path.Combine(d, name))).FirstOrDefault(probe.Exists);
        if (server is null)
        {
            return new(null, "no MariaDB or MySQL server found (looked for mariadbd and mysqld in PATH, /usr/sbin, /usr/local/sbin and Homebrew's opt/mariadb and opt/mysql)");
        }
        // Debian's mysqld is a link to mariadbd.
        var isMariaDb = Path.GetFileName(server) == "mariadbd" || Path.GetFileName(LinkTarget(server)) == "mariadbd";
        if (!isMariaDb)
        {
            return new(new LocalMySql(server, false, null, probe.IsRoot), $"MySQL server {server}");
        }
        var installDb = new[] { "mariadb-install-db", "mysql_install_db" }
            .SelectMany(name => directories.Prepend(Path.GetDirectoryName(server)!).Select(d => Path.Combine(d, name))).FirstOrDefault(probe.Exists);
        return installDb is null
            ? new(null, $"MariaDB server {server} found, but not mariadb-install-db, which makes its data directory")
            : new(new LocalMySql(server, true, installDb, probe.IsRoot), $"MariaDB server {server}");
    }

    private static string? LinkTarget(string path)
    {
        try
        {
            return new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true)?.FullName;
        }
        catch (IOException)
        {
            return null; // not on this file system (a test's fake host)
        }
    }

    public override async Task PrepareAsync(string serverDirectory, string password, CancellationToken cancellationToken)
    {
        var data = DataPath(serverDirectory);
        // A temporary directory of its own: servers sharing /tmp have been seen to remove each other's temporary tables.
        Directory.CreateDirectory(TempPath(serverDirectory));
        if (!Directory.Exists(Path.Combine(data, "mysql")))
        {
            // A data directory without the system schema is what an interrupted first start left behind.
            if (Directory.Exists(data)) Directory.Delete(data, recursive: true);
            string[] options = [$"--datadir={data}", $"--tmpdir={TempPath(serverDirectory)}", .. asRoot ? ["--user=root"] : Array.Empty<string>()];
            _ = IsMariaDb
                ? await RunToolAsync(installDb!, ["--no-defaults", .. options, "--auth-root-authentication-method=socket", "--skip-test-db"], null, serverDirectory, cancellationToken)
                : await RunToolAsync(ServerFile, ["--no-defaults", "--initialize-insecure", .. options], null, serverDirectory, cancellationToken);
        }

        // Read by the server at each start (--init-file): the lab's account with the password of this run, and no anonymous accounts
        // (MariaDB's installer makes some). Readable by its owner only.
        var quoted = password.Replace(@"\", @"\\", StringComparison.Ordinal).Replace("'", "''", StringComparison.Ordinal);
        var account = $"'{UserName}'@'127.0.0.1'";
        var init = InitFile(serverDirectory);
        await File.WriteAllTextAsync(init, "", cancellationToken);
        OwnerOnly(init);
        await File.WriteAllTextAsync(init, string.Join('\n',
            IsMariaDb ? "DELETE FROM mysql.global_priv WHERE User = '';" : "",
            $"CREATE USER IF NOT EXISTS {account} IDENTIFIED BY '{quoted}';",
            $"ALTER USER {account} IDENTIFIED BY '{quoted}';",
            $"GRANT ALL PRIVILEGES ON *.* TO {account} WITH GRANT OPTION;",
            "FLUSH PRIVILEGES;", ""), cancellationToken);
    }

    /// <param name="maxConnections">max_connections, when the default (151) is not enough.</param>
    public IReadOnlyList<object> ServerArguments(string serverDirectory, object port, bool durable, int? maxConnections)
    {
        List<object> args =
        [
            "--no-defaults", $"--datadir={DataPath(serverDirectory)}", "--port", port, "--bind-address=127.0.0.1", "--skip-name-resolve",
            $"--socket={Path.Combine(serverDirectory, "mysqld.sock")}", $"--pid-file={PidFile(serverDirectory)}", $"--init-file={InitFile(serverDirectory)}",
            $"--tmpdir={TempPath(serverDirectory)}",
        ];
        if (asRoot) args.Add("--user=root");
        if (!IsMariaDb) args.Add("--disable-log-bin"); // MySQL 8 keeps a binary log by default; MariaDB does not
        if (!durable) args.Add("--innodb-flush-log-at-trx-commit=2");
        if (maxConnections is { } max) args.Add($"--max-connections={max}");
        return InShell("lab19-mysql", args);
    }

    public override IReadOnlyList<object> ServerArguments(string serverDirectory, object port, bool durable = true) =>
        ServerArguments(serverDirectory, port, durable, maxConnections: null);
}
