using System.Globalization;

namespace Lab19.AppHost;

/// <summary>
/// A PostgreSQL installed on the host, run from its own binaries. It refuses to run as root: when the AppHost runs as root, the server
/// and its tools run as the <c>postgres</c> system account that the distributions' packages create.
/// </summary>
internal sealed class LocalPostgres(string binDirectory, string? runAs) : LocalServer(Path.Combine(binDirectory, "postgres"), runAs)
{
    /// <summary>The superuser the lab connects as, as in the postgres container image.</summary>
    public const string UserName = "postgres";

    /// <summary>The account the server runs as when the AppHost runs as root.</summary>
    public const string SystemAccount = "postgres";

    public string BinDirectory { get; } = binDirectory;

    protected override string StopSignal => "INT"; // "fast" shutdown; TERM ("smart") would wait for every pooled client to disconnect

    public override string PidFile(string serverDirectory) => Path.Combine(DataPath(serverDirectory), "postmaster.pid");

    /// <summary>The newest PostgreSQL whose <c>postgres</c> and <c>initdb</c> are installed, or why none can be used.</summary>
    public static LocalServerSearch<LocalPostgres> Find(IHostProbe probe)
    {
        if (!probe.IsLinux && !probe.IsMacOS) return new(null, "the lab runs database servers from their binaries on Linux and macOS only");
        var candidates = SearchDirectories(probe).Where(d => probe.Exists(Path.Combine(d, "postgres")) && probe.Exists(Path.Combine(d, "initdb"))).ToList();
        var looked = "/usr/lib/postgresql/*/bin, /usr/pgsql-*/bin, Homebrew's opt/postgresql*/bin, Postgres.app and PATH";
        if (candidates.Count == 0)
        {
            return new(null, $"no PostgreSQL server found (looked in {looked})");
        }
        var bin = candidates.OrderByDescending(VersionOf).First();
        if (!probe.IsRoot)
        {
            return new(new LocalPostgres(bin, null), $"PostgreSQL in {bin}");
        }
        return UserExists(probe, SystemAccount)
            ? new(new LocalPostgres(bin, SystemAccount), $"PostgreSQL in {bin}, run as the '{SystemAccount}' account (it refuses to run as root)")
            : new(null, $"PostgreSQL in {bin} refuses to run as root, and there is no '{SystemAccount}' account to run it as");
    }

    private static IEnumerable<string> SearchDirectories(IHostProbe probe)
    {
        foreach (var version in probe.ListDirectories("/usr/lib/postgresql")) yield return Path.Combine(version, "bin"); // Debian, Ubuntu
        foreach (var dir in probe.ListDirectories("/usr").Where(d => Path.GetFileName(d).StartsWith("pgsql-", StringComparison.Ordinal))) yield return Path.Combine(dir, "bin"); // RHEL, Fedora (PGDG)
        foreach (var prefix in new[] { "/opt/homebrew/opt", "/usr/local/opt" }) // Homebrew on Apple silicon, on Intel
        {
            foreach (var formula in probe.ListDirectories(prefix).Where(d => Path.GetFileName(d).StartsWith("postgresql", StringComparison.Ordinal))) yield return Path.Combine(formula, "bin");
        }
        foreach (var version in probe.ListDirectories("/Applications/Postgres.app/Contents/Versions")) yield return Path.Combine(version, "bin");
        foreach (var dir in (probe.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)) yield return dir;
    }

    /// <summary>The major version a directory names (…/postgresql/17/bin, …/postgresql@16/bin), 0 where it names none.</summary>
    private static int VersionOf(string bin) =>
        bin.Split(Path.DirectorySeparatorChar, '@', '-').Select(p => int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : 0).Max();

    public override async Task PrepareAsync(string serverDirectory, string password, CancellationToken cancellationToken)
    {
        var data = DataPath(serverDirectory);
        if (!File.Exists(Path.Combine(data, "PG_VERSION")))
        {
            // A data directory without PG_VERSION is what an interrupted first start left behind: initdb wants it empty.
            if (Directory.Exists(data)) Directory.Delete(data, recursive: true);
            var passwordFile = Path.Combine(serverDirectory, "initdb-password");
            await File.WriteAllTextAsync(passwordFile, password, cancellationToken);
            OwnerOnly(passwordFile);
            try
            {
                await GiveToServerUserAsync(passwordFile, cancellationToken);
                // As the postgres image does: password authentication (SCRAM) for every connection, UTF-8, no locale-dependent sorting.
                await RunToolAsync(Path.Combine(BinDirectory, "initdb"),
                    ["-D", data, "-U", UserName, $"--pwfile={passwordFile}", "--auth-host=scram-sha-256", "--auth-local=scram-sha-256", "-E", "UTF8", "--no-locale"],
                    null, serverDirectory, cancellationToken);
            }
            finally
            {
                File.Delete(passwordFile);
            }
        }
        // The password of this run (a generated parameter may have changed since the data was made): set in single-user mode, before
        // the server starts, without logging the statement.
        await RunToolAsync(ServerFile, ["--single", "-D", data, "-c", "log_min_error_statement=panic", "-c", "exit_on_error=true", "postgres"],
            $"ALTER ROLE {UserName} WITH PASSWORD '{password.Replace("'", "''", StringComparison.Ordinal)}';\n", serverDirectory, cancellationToken);
    }

    /// <param name="maxConnections">PostgreSQL's max_connections, when the default (100) is not enough.</param>
    public IReadOnlyList<object> ServerArguments(string serverDirectory, object port, bool durable, int? maxConnections)
    {
        List<object> args = ["-D", DataPath(serverDirectory), "-p", port, "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="];
        if (!durable) args.AddRange(["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]);
        if (maxConnections is { } max) args.AddRange(["-c", $"max_connections={max}"]);
        return InShell("lab19-postgres", args);
    }

    public override IReadOnlyList<object> ServerArguments(string serverDirectory, object port, bool durable = true) =>
        ServerArguments(serverDirectory, port, durable, maxConnections: null);
}

/// <summary>A server found on the host, or null with the reason; <paramref name="Detail"/> says what was found or why nothing can be used.</summary>
internal sealed record LocalServerSearch<T>(T? Server, string Detail) where T : LocalServer;
