namespace Lab19.AppHost;

/// <summary>
/// A database server run from the host's own binaries as a resource of the graph: what the PostgreSQL and MySQL containers are where
/// no Docker engine answers. The orchestrator runs it as an executable (a shell that runs the server; see <see cref="LocalServer"/>),
/// on a port it allocates behind its proxy, with a generated password and a data directory that outlives the run.
/// </summary>
internal abstract class LocalDatabaseServerResource(string name, ParameterResource password, string workingDirectory)
    : ExecutableResource(name, LocalServer.Shell, workingDirectory), IResourceWithConnectionString
{
    public const string PrimaryEndpointName = "tcp";

    public EndpointReference PrimaryEndpoint => new(this, PrimaryEndpointName);

    public ParameterResource PasswordParameter { get; } = password;

    /// <summary>The directory asked for the server's files (its data, pid and owner files); see <see cref="LocalServer.Locate"/>.</summary>
    public required string DataDirectory { get; set; }

    /// <summary>This run of the lab, as the owner of the server's data directory.</summary>
    internal LabOwner Owner { get; } = LabOwner.ForThisProcess();

    /// <summary>The server process of the current run, once it answers: what must not outlive the resource.</summary>
    internal int? ServerPid { get; set; }

    /// <summary>The databases created on this server once it answers.</summary>
    public List<LocalDatabaseResource> Databases { get; } = [];

    /// <summary>The server's binaries, found on the host when the resource first starts.</summary>
    internal abstract LocalServer? Binaries { get; }

    /// <summary>What the search for the binaries found, for a failure message.</summary>
    internal abstract string SearchDetail { get; }

    public abstract ReferenceExpression ConnectionStringExpression { get; }
}

/// <summary>PostgreSQL from the host's binaries; connects as <c>postgres</c>, as the postgres image does.</summary>
internal sealed class LocalPostgresServerResource(string name, ParameterResource password, string workingDirectory, Lazy<LocalServerSearch<LocalPostgres>> search)
    : LocalDatabaseServerResource(name, password, workingDirectory)
{
    internal override LocalServer? Binaries => search.Value.Server;

    internal override string SearchDetail => search.Value.Detail;

    public override ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create(
        $"Host={PrimaryEndpoint.Property(EndpointProperty.Host)};Port={PrimaryEndpoint.Property(EndpointProperty.Port)};Username={LocalPostgres.UserName};Password={PasswordParameter}");
}

/// <summary>MariaDB or MySQL from the host's binaries; connects as <c>root</c>, as the mysql image does.</summary>
internal sealed class LocalMySqlServerResource(string name, ParameterResource password, string workingDirectory, Lazy<LocalServerSearch<LocalMySql>> search)
    : LocalDatabaseServerResource(name, password, workingDirectory)
{
    internal override LocalServer? Binaries => search.Value.Server;

    internal override string SearchDetail => search.Value.Detail;

    public override ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create(
        $"Server={PrimaryEndpoint.Property(EndpointProperty.Host)};Port={PrimaryEndpoint.Property(EndpointProperty.Port)};User ID={LocalMySql.UserName};Password={PasswordParameter}");
}

/// <summary>A database on a <see cref="LocalDatabaseServerResource"/>, created when the server answers.</summary>
internal sealed class LocalDatabaseResource(string name, string databaseName, LocalDatabaseServerResource parent)
    : Resource(name), IResourceWithParent<LocalDatabaseServerResource>, IResourceWithConnectionString
{
    public LocalDatabaseServerResource Parent { get; } = parent;

    public string DatabaseName { get; } = databaseName;

    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create($"{Parent};Database={DatabaseName}");
}
